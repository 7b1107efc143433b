-- /courses/{id}/resources: a resource given to the course, sourcedId "<course>:<resource>".
SELECT
    course || ':' || (record->>'$.sourcedId')       AS sourced_id,
    or_status(record->>'$.status')                  AS status,
    or_timestamp(record->>'$.dateLastModified')     AS date_last_modified,
    CAST(NULL AS VARCHAR)                           AS extensions,
    CAST(NULL AS VARCHAR)                           AS title,
    course                                          AS course_sourced_id,
    record->>'$.sourcedId'                          AS resource_sourced_id
FROM {{ source('oneroster_api', 'courseResources') }}
