-- Student section enrollments (dropped ones left out; entry and exit dates as PowerSchool keeps
-- them), and the teachers of each section: co-teachers too, with their roles and dates.
SELECT
    'section_enrollment-' || (e.record->>'$.id')               AS sourced_id,
    'active'                                                   AS status,
    CAST(NULL AS VARCHAR)                                      AS date_last_modified,
    CAST(NULL AS VARCHAR)                                      AS extensions,
    'section-' || coalesce(e.record->>'$.section_id', e.section_id) AS class_sourced_id,
    'school-' || e.school_id                                   AS school_sourced_id,
    'student-' || (e.record->>'$.student_id')                  AS user_sourced_id,
    'student'                                                  AS role,
    false                                                      AS "primary",
    or_date(e.record->>'$.entry_date')                         AS begin_date,
    or_date(e.record->>'$.exit_date')                          AS end_date
FROM {{ source('powerschool', 'section_enrollments') }} AS e
SEMI JOIN {{ ref('stg_students') }} AS s ON s.id = (e.record->>'$.student_id')
WHERE NOT coalesce(CAST(e.record->>'$.dropped' AS BOOLEAN), false)
UNION ALL
-- Teachers: every teacher SectionTeacher gives a section (stg_section_teachers), and the section's own
-- teacher (staff_id, PowerSchool's lead teacher) where SectionTeacher does not list them (or was not
-- read). The section's staff_id is the primary teacher.
SELECT
    'section-' || t.section_id || '-staff-' || t.staff_id,
    'active',
    CAST(NULL AS VARCHAR),
    CAST(NULL AS VARCHAR),
    'section-' || t.section_id,
    'school-' || coalesce(s.record->>'$.school_id', s.school_id),
    'staff-' || t.staff_id,
    t.role,
    coalesce(t.staff_id = (s.record->>'$.staff_id'), false),
    t.begin_date,
    t.end_date
FROM {{ ref('stg_section_teachers') }} AS t
JOIN {{ ref('stg_sections') }} AS s ON s.id = t.section_id
UNION ALL
SELECT
    'section-' || s.id || '-staff-' || (s.record->>'$.staff_id'),
    'active',
    CAST(NULL AS VARCHAR),
    CAST(NULL AS VARCHAR),
    'section-' || s.id,
    'school-' || coalesce(s.record->>'$.school_id', s.school_id),
    'staff-' || (s.record->>'$.staff_id'),
    'teacher',
    true,
    CAST(NULL AS VARCHAR),
    CAST(NULL AS VARCHAR)
FROM {{ ref('stg_sections') }} AS s
WHERE (s.record->>'$.staff_id') IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM {{ ref('stg_section_teachers') }} AS t
                  WHERE t.section_id = s.id AND t.staff_id = (s.record->>'$.staff_id'))
