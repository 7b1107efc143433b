-- PowerSchool courses -> canonical courses. The course resource carries number and name only:
-- no grade levels, subjects or school year, so those stay empty.
SELECT
    'course-' || id                                 AS sourced_id,
    'active'                                        AS status,
    CAST(NULL AS VARCHAR)                           AS date_last_modified,
    CAST(NULL AS VARCHAR)                           AS extensions,
    record->>'$.course_name'                        AS title,
    record->>'$.course_number'                      AS course_code,
    CAST(NULL AS VARCHAR)                           AS grades,
    'school-' || school_id                          AS org_sourced_id,
    CAST(NULL AS VARCHAR)                           AS school_year_sourced_id,
    CAST(NULL AS VARCHAR)                           AS subjects,
    CAST(NULL AS VARCHAR)                           AS subject_codes
FROM {{ ref('stg_courses') }}
