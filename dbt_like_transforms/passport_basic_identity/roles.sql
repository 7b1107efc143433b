-- A role per person and school: primary at the first school listed, secondary at the others
-- (the same ids OneRoster 1.1 drops derive: person:school:role).
SELECT
    p.person_id || ':' || p.school || ':' || lower(p.role) AS sourced_id,
    'active'                                    AS status,
    CAST(NULL AS VARCHAR)                       AS date_last_modified,
    CAST(NULL AS VARCHAR)                       AS extensions,
    p.person_id                                 AS user_sourced_id,
    or_enum(p.role, ['student', 'teacher', 'administrator', 'aide']) AS role,
    CASE WHEN p.pos = 1 THEN 'primary' ELSE 'secondary' END AS role_type,
    p.school                                    AS org_sourced_id,
    CAST(NULL AS VARCHAR)                       AS begin_date,
    CAST(NULL AS VARCHAR)                       AS end_date
FROM (
    SELECT person_id, role,
           unnest(string_split(or_list(school_id), ','))                 AS school,
           generate_subscripts(string_split(or_list(school_id), ','), 1) AS pos
    FROM {{ source('passport_basic_identity', 'people') }}
) AS p
-- A school listed twice in one cell is one role.
QUALIFY row_number() OVER (PARTITION BY p.person_id, p.school ORDER BY p.pos) = 1
