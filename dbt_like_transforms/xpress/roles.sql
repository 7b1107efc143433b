-- A person's role at each of their orgs, the first one primary (as a OneRoster 1.1 drop derives them).
SELECT
    u.sourced_id || ':' || u.org_id || ':' || lower(u.role) AS sourced_id,
    u.status,
    u.date_last_modified,
    CAST(NULL AS VARCHAR)                       AS extensions,
    u.sourced_id                                AS user_sourced_id,
    u.role,
    CASE WHEN u.pos = 1 THEN 'primary' ELSE 'secondary' END AS role_type,
    u.org_id                                    AS org_sourced_id,
    CAST(NULL AS VARCHAR)                       AS begin_date,
    CAST(NULL AS VARCHAR)                       AS end_date
FROM (
    SELECT sourced_id, status, date_last_modified, role,
           unnest(string_split(org_sourced_ids, ','))                 AS org_id,
           generate_subscripts(string_split(org_sourced_ids, ','), 1) AS pos
    FROM {{ ref('users') }}
    WHERE org_sourced_ids IS NOT NULL
) AS u
