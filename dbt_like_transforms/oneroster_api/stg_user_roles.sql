-- Every (user, org, role) a user record states: 1.2 lists roles [{roleType, role, org}], 1.1
-- gives one role and the orgs it holds it at (the first org primary, as the CSV mapping reads it).
SELECT
    record->>'$.sourcedId'                          AS user_sourced_id,
    record->>'$.status'                             AS status,
    record->>'$.dateLastModified'                   AS date_last_modified,
    true                                            AS listed,
    r.role                                          AS role,
    lower(r.roleType)                               AS role_type,
    r.org.sourcedId                                 AS org_sourced_id,
    r.beginDate                                     AS begin_date,
    r.endDate                                       AS end_date,
    pos
FROM (
    SELECT record,
           unnest(from_json(record->'$.roles', '[{"roleType":"VARCHAR","role":"VARCHAR","org":{"sourcedId":"VARCHAR"},"beginDate":"VARCHAR","endDate":"VARCHAR"}]')) AS r,
           generate_subscripts(from_json(record->'$.roles', '["JSON"]'), 1) AS pos
    FROM {{ source('oneroster_api', 'users') }}
    WHERE json_type(record->'$.roles') = 'ARRAY'
)
UNION ALL
SELECT
    record->>'$.sourcedId',
    record->>'$.status',
    record->>'$.dateLastModified',
    false,
    record->>'$.role',
    CASE WHEN pos = 1 THEN 'primary' ELSE 'secondary' END,
    org_id,
    NULL,
    NULL,
    pos
FROM (
    SELECT record,
           unnest(record->>'$.orgs[*].sourcedId')                    AS org_id,
           generate_subscripts(record->>'$.orgs[*].sourcedId', 1)    AS pos
    FROM {{ source('oneroster_api', 'users') }}
    WHERE record->>'$.role' IS NOT NULL
)
