-- PowerSchool sections -> canonical classes. A section has no name of its own: its title is the
-- course name and section number, its code PowerSchool's own "course.section" notation. The
-- periods are the period parts of the meeting expression ("1(A) 3(B)" -> "1,3").
SELECT
    'section-' || s.id                              AS sourced_id,
    'active'                                        AS status,
    CAST(NULL AS VARCHAR)                           AS date_last_modified,
    CAST(NULL AS VARCHAR)                           AS extensions,
    coalesce(c.record->>'$.course_name', 'Course ' || (s.record->>'$.course_id'))
        || ' - Section ' || (s.record->>'$.section_number') AS title,
    CAST(NULL AS VARCHAR)                           AS grades,
    'course-' || (s.record->>'$.course_id')         AS course_sourced_id,
    (c.record->>'$.course_number') || '.' || (s.record->>'$.section_number') AS class_code,
    'scheduled'                                     AS class_type,
    s.record->>'$.room'                             AS location,
    'school-' || coalesce(s.record->>'$.school_id', s.school_id) AS school_sourced_id,
    'term-' || (s.record->>'$.term_id')             AS term_sourced_ids,
    CAST(NULL AS VARCHAR)                           AS subjects,
    CAST(NULL AS VARCHAR)                           AS subject_codes,
    nullif(array_to_string(list_filter(list_transform(string_split(trim(coalesce(s.record->>'$.expression', '')), ' '),
                                                      x -> split_part(x, '(', 1)), x -> x <> ''), ','), '') AS periods
FROM {{ ref('stg_sections') }} AS s
LEFT JOIN {{ ref('stg_courses') }} AS c ON c.id = (s.record->>'$.course_id')
