-- Roles as given by OneRoster 1.2, or derived from a 1.1 user's role at each of its orgs.
SELECT
    sourcedId                                   AS sourced_id,
    or_status(status)                           AS status,
    or_timestamp(dateLastModified)              AS date_last_modified,
    {{ extensions('roles') }}                   AS extensions,
    userSourcedId                               AS user_sourced_id,
    role,
    lower(roleType)                             AS role_type,
    orgSourcedId                                AS org_sourced_id,
    or_date(beginDate)                          AS begin_date,
    or_date(endDate)                            AS end_date
FROM {{ source('oneroster_csv', 'roles') }}
UNION ALL
SELECT
    u.sourcedId || ':' || u.org_id || ':' || lower(u.role) AS sourced_id,
    or_status(u.status)                         AS status,
    or_timestamp(u.dateLastModified)            AS date_last_modified,
    CAST(NULL AS VARCHAR)                       AS extensions,
    u.sourcedId                                 AS user_sourced_id,
    or_enum(u.role, ['administrator', 'aide', 'guardian', 'parent', 'proctor', 'relative', 'student', 'teacher']) AS role,
    CASE WHEN u.pos = 1 THEN 'primary' ELSE 'secondary' END AS role_type,
    u.org_id                                    AS org_sourced_id,
    CAST(NULL AS VARCHAR)                       AS begin_date,
    CAST(NULL AS VARCHAR)                       AS end_date
FROM (
    SELECT sourcedId, status, dateLastModified, role,
           unnest(string_split(or_list(orgSourcedIds), ','))                 AS org_id,
           generate_subscripts(string_split(or_list(orgSourcedIds), ','), 1) AS pos
    FROM {{ source('oneroster_csv', 'users') }}
    WHERE role IS NOT NULL AND orgSourcedIds IS NOT NULL
) AS u
