-- One row per PowerSchool course; a course offered at several schools belongs to the lowest school id.
SELECT record->>'$.id' AS id, arg_min(record, CAST(school_id AS BIGINT)) AS record,
       min(CAST(school_id AS BIGINT)) AS school_id
FROM {{ source('powerschool', 'courses') }}
GROUP BY 1
