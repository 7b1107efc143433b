-- 1.1 names the line item's session gradingPeriod; 1.2 academicSession (and may still send gradingPeriod).
SELECT
    record->>'$.sourcedId'                          AS sourced_id,
    or_status(record->>'$.status')                  AS status,
    or_timestamp(record->>'$.dateLastModified')     AS date_last_modified,
    or_json_metadata(record)                        AS extensions,
    record->>'$.title'                              AS title,
    nullif(record->>'$.description', '')            AS description,
    or_date(record->>'$.assignDate')                AS assign_date,
    or_date(record->>'$.dueDate')                   AS due_date,
    record->>'$.class.sourcedId'                    AS class_sourced_id,
    record->>'$.school.sourcedId'                   AS school_sourced_id,
    record->>'$.category.sourcedId'                 AS category_sourced_id,
    coalesce(record->>'$.academicSession.sourcedId', record->>'$.gradingPeriod.sourcedId') AS grading_period_sourced_id,
    or_number(record->>'$.resultValueMin')          AS result_value_min,
    or_number(record->>'$.resultValueMax')          AS result_value_max
FROM {{ source('oneroster_api', 'lineItems') }}
