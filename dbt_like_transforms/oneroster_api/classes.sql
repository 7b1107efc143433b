SELECT
    record->>'$.sourcedId'                          AS sourced_id,
    or_status(record->>'$.status')                  AS status,
    or_timestamp(record->>'$.dateLastModified')     AS date_last_modified,
    or_json_metadata(record)                        AS extensions,
    record->>'$.title'                              AS title,
    or_list(array_to_string(record->>'$.grades[*]', ','))       AS grades,
    record->>'$.course.sourcedId'                   AS course_sourced_id,
    nullif(record->>'$.classCode', '')              AS class_code,
    or_enum(record->>'$.classType', ['homeroom', 'scheduled']) AS class_type,
    nullif(record->>'$.location', '')               AS location,
    record->>'$.school.sourcedId'                   AS school_sourced_id,
    or_list(array_to_string(record->>'$.terms[*].sourcedId', ',')) AS term_sourced_ids,
    or_list(array_to_string(record->>'$.subjects[*]', ','))     AS subjects,
    or_list(array_to_string(record->>'$.subjectCodes[*]', ',')) AS subject_codes,
    or_list(array_to_string(record->>'$.periods[*]', ','))      AS periods
FROM {{ source('oneroster_api', 'classes') }}
