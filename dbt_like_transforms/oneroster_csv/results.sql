SELECT
    sourcedId                                   AS sourced_id,
    or_status(status)                           AS status,
    or_timestamp(dateLastModified)              AS date_last_modified,
    {{ extensions('results') }}                 AS extensions,
    lineItemSourcedId                           AS line_item_sourced_id,
    studentSourcedId                            AS student_sourced_id,
    classSourcedId                              AS class_sourced_id,
    or_enum(scoreStatus, ['exempt', 'fully graded', 'not submitted', 'partially graded', 'submitted']) AS score_status,
    or_number(score)                            AS score,
    textScore                                   AS text_score,
    or_date(scoreDate)                          AS score_date,
    comment,
    or_bool(inProgress)                         AS in_progress,
    or_bool(incomplete)                         AS incomplete,
    or_bool(late)                               AS late,
    or_bool(missing)                            AS missing
FROM {{ source('oneroster_csv', 'results') }}
