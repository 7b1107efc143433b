SELECT
    record->>'$.sourcedId'                          AS sourced_id,
    or_status(record->>'$.status')                  AS status,
    or_timestamp(record->>'$.dateLastModified')     AS date_last_modified,
    or_json_metadata(record)                        AS extensions,
    record->>'$.class.sourcedId'                    AS class_sourced_id,
    record->>'$.school.sourcedId'                   AS school_sourced_id,
    record->>'$.user.sourcedId'                     AS user_sourced_id,
    or_enum(record->>'$.role', ['administrator', 'proctor', 'student', 'teacher']) AS role,
    or_bool(record->>'$.primary')                   AS "primary",
    or_date(record->>'$.beginDate')                 AS begin_date,
    or_date(record->>'$.endDate')                   AS end_date
FROM {{ source('oneroster_api', 'enrollments') }}
