-- A line item's learningObjectiveSet (1.2): [{source, learningObjectiveIds: [id]}], one row per id,
-- sourcedId "<line item>:<source>:<id>".
WITH sets AS (
    SELECT record, unnest(from_json(record->'$.learningObjectiveSet', '["JSON"]')) AS objective_set
    FROM {{ source('oneroster_api', 'lineItems') }}
    WHERE json_type(record->'$.learningObjectiveSet') = 'ARRAY'
), ids AS (
    SELECT record, objective_set->>'$.source' AS objective_source,
           unnest(from_json(objective_set->'$.learningObjectiveIds', '["JSON"]')) AS objective
    FROM sets
    WHERE json_type(objective_set->'$.learningObjectiveIds') = 'ARRAY'
)
SELECT
    (record->>'$.sourcedId') || ':' || objective_source || ':' || coalesce(objective->>'$.learningObjectiveId', objective->>'$')
                                                    AS sourced_id,
    or_status(record->>'$.status')                  AS status,
    or_timestamp(record->>'$.dateLastModified')     AS date_last_modified,
    CAST(NULL AS VARCHAR)                           AS extensions,
    record->>'$.sourcedId'                          AS line_item_sourced_id,
    objective_source,
    coalesce(objective->>'$.learningObjectiveId', objective->>'$') AS learning_objective_id
FROM ids
