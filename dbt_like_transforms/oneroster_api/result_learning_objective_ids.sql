-- A result's learningObjectiveSet (1.2): [{source, learningObjectiveResults: [{learningObjectiveId, score,
-- textScore}]}], one row per objective, sourcedId "<result>:<source>:<id>".
WITH sets AS (
    SELECT record, unnest(from_json(record->'$.learningObjectiveSet', '["JSON"]')) AS objective_set
    FROM {{ source('oneroster_api', 'results') }}
    WHERE json_type(record->'$.learningObjectiveSet') = 'ARRAY'
), objectives AS (
    SELECT record, objective_set->>'$.source' AS objective_source,
           unnest(from_json(coalesce(objective_set->'$.learningObjectiveResults',
                                     objective_set->'$.learningObjectiveIds'), '["JSON"]')) AS objective
    FROM sets
)
SELECT
    (record->>'$.sourcedId') || ':' || objective_source || ':' || coalesce(objective->>'$.learningObjectiveId', objective->>'$')
                                                    AS sourced_id,
    or_status(record->>'$.status')                  AS status,
    or_timestamp(record->>'$.dateLastModified')     AS date_last_modified,
    CAST(NULL AS VARCHAR)                           AS extensions,
    record->>'$.sourcedId'                          AS result_sourced_id,
    objective_source,
    coalesce(objective->>'$.learningObjectiveId', objective->>'$') AS learning_objective_id,
    or_number(objective->>'$.score')                AS score,
    nullif(objective->>'$.textScore', '')           AS text_score
FROM objectives
