-- /users/{id}/resources (1.2): a resource given to the user, sourcedId "<user>:<resource>".
SELECT
    "user" || ':' || (record->>'$.sourcedId')       AS sourced_id,
    or_status(record->>'$.status')                  AS status,
    or_timestamp(record->>'$.dateLastModified')     AS date_last_modified,
    CAST(NULL AS VARCHAR)                           AS extensions,
    "user"                                          AS user_sourced_id,
    CAST(NULL AS VARCHAR)                           AS org_sourced_id,
    CAST(NULL AS VARCHAR)                           AS class_sourced_id,
    record->>'$.sourcedId'                          AS resource_sourced_id
FROM {{ source('oneroster_api', 'userResources') }}
