-- Lists (grades, subjects) arrive as JSON arrays and are kept as OneRoster list cells ("09,10").
SELECT
    record->>'$.sourcedId'                          AS sourced_id,
    or_status(record->>'$.status')                  AS status,
    or_timestamp(record->>'$.dateLastModified')     AS date_last_modified,
    or_json_metadata(record)                        AS extensions,
    record->>'$.title'                              AS title,
    nullif(record->>'$.courseCode', '')             AS course_code,
    or_list(array_to_string(record->>'$.grades[*]', ','))       AS grades,
    record->>'$.org.sourcedId'                      AS org_sourced_id,
    nullif(record->>'$.schoolYear.sourcedId', '')   AS school_year_sourced_id,
    or_list(array_to_string(record->>'$.subjects[*]', ','))     AS subjects,
    or_list(array_to_string(record->>'$.subjectCodes[*]', ',')) AS subject_codes
FROM {{ source('oneroster_api', 'courses') }}
