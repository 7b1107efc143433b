SELECT
    sourcedId                                   AS sourced_id,
    or_status(status)                           AS status,
    or_timestamp(dateLastModified)              AS date_last_modified,
    {{ extensions('resultLearningObjectiveIds') }} AS extensions,
    resultSourcedId                             AS result_sourced_id,
    "source"                                    AS objective_source,
    learningObjectiveId                         AS learning_objective_id,
    or_number(score)                            AS score,
    textScore                                   AS text_score
FROM {{ source('oneroster_csv', 'resultLearningObjectiveIds') }}
