SELECT record->>'$.id' AS id, any_value(record) AS record, any_value(school_id) AS school_id
FROM {{ source('powerschool', 'sections') }}
GROUP BY 1
