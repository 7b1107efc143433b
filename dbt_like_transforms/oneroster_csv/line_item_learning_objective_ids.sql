SELECT
    sourcedId                                   AS sourced_id,
    or_status(status)                           AS status,
    or_timestamp(dateLastModified)              AS date_last_modified,
    {{ extensions('lineItemLearningObjectiveIds') }} AS extensions,
    lineItemSourcedId                           AS line_item_sourced_id,
    "source"                                    AS objective_source,
    learningObjectiveId                         AS learning_objective_id
FROM {{ source('oneroster_csv', 'lineItemLearningObjectiveIds') }}
