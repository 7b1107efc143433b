-- One role per user and org, as the CSV mapping derives them: the first org is primary.
SELECT
    u.sourced_id || ':' || u.org_id || ':' || u.role           AS sourced_id,
    'active'                                                   AS status,
    CAST(NULL AS VARCHAR)                                      AS date_last_modified,
    CAST(NULL AS VARCHAR)                                      AS extensions,
    u.sourced_id                                               AS user_sourced_id,
    u.role,
    CASE WHEN u.pos = 1 THEN 'primary' ELSE 'secondary' END    AS role_type,
    u.org_id                                                   AS org_sourced_id,
    CAST(NULL AS VARCHAR)                                      AS begin_date,
    CAST(NULL AS VARCHAR)                                      AS end_date
FROM (
    SELECT sourced_id, role,
           unnest(string_split(org_sourced_ids, ','))                 AS org_id,
           generate_subscripts(string_split(org_sourced_ids, ','), 1) AS pos
    FROM {{ ref('users') }}
    WHERE org_sourced_ids IS NOT NULL
) AS u
