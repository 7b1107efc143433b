SELECT
    record->>'$.sourcedId'                          AS sourced_id,
    or_status(record->>'$.status')                  AS status,
    or_timestamp(record->>'$.dateLastModified')     AS date_last_modified,
    or_json_metadata(record)                        AS extensions,
    record->>'$.lineItem.sourcedId'                 AS line_item_sourced_id,
    record->>'$.student.sourcedId'                  AS student_sourced_id,
    record->>'$.class.sourcedId'                    AS class_sourced_id,
    or_enum(record->>'$.scoreStatus', ['exempt', 'fully graded', 'not submitted', 'partially graded', 'submitted'])
                                                    AS score_status,
    or_number(record->>'$.score')                   AS score,
    nullif(record->>'$.textScore', '')              AS text_score,
    or_date(record->>'$.scoreDate')                 AS score_date,
    nullif(record->>'$.comment', '')                AS comment,
    or_bool(record->>'$.inProgress')                AS in_progress,
    or_bool(record->>'$.incomplete')                AS incomplete,
    or_bool(record->>'$.late')                      AS late,
    or_bool(record->>'$.missing')                   AS missing
FROM {{ source('oneroster_api', 'results') }}
