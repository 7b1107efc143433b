-- One row per student DCID (a student is listed by the school of their current enrollment).
-- school_enrollment.school_id is the school's id; the listing school stands in when it is missing.
SELECT
    record->>'$.id'                                            AS id,
    any_value(record)                                          AS record,
    coalesce(any_value(record->>'$.school_enrollment.school_id'), any_value(school_id)) AS school_id
FROM {{ source('powerschool', 'students') }}
GROUP BY 1
