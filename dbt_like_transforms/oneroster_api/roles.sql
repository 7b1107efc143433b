-- Roles as 1.2 lists them, or derived from a 1.1 user's role at each of its orgs. The REST
-- bindings give roles no id of their own: user:org:role, as the CSV mapping derives for 1.1.
SELECT
    user_sourced_id || ':' || org_sourced_id || ':' || lower(role) AS sourced_id,
    or_status(status)                               AS status,
    or_timestamp(date_last_modified)                AS date_last_modified,
    CAST(NULL AS VARCHAR)                           AS extensions,
    user_sourced_id,
    or_enum(role, ['administrator', 'aide', 'guardian', 'parent', 'proctor', 'relative', 'student', 'teacher',
                   'counselor', 'districtAdministrator', 'principal', 'siteAdministrator', 'systemAdministrator']) AS role,
    role_type,
    org_sourced_id,
    or_date(begin_date)                             AS begin_date,
    or_date(end_date)                               AS end_date
FROM {{ ref('stg_user_roles') }}
WHERE role IS NOT NULL AND org_sourced_id IS NOT NULL
