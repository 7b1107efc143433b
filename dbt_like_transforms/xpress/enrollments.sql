-- An xRoster's students and staff. xPress has no enrollment id: an enrollment is its class and
-- person (class:user). Staff are teachers; primary is teacherOfRecord (OneRoster's primary teacher),
-- a student never primary. xPress carries no enrollment dates.
SELECT
    e.class_id || ':' || e.user_id              AS sourced_id,
    'active'                                    AS status,
    CAST(NULL AS VARCHAR)                       AS date_last_modified,
    CAST(NULL AS VARCHAR)                       AS extensions,
    e.class_id                                  AS class_sourced_id,
    e.school_id                                 AS school_sourced_id,
    e.user_id                                   AS user_sourced_id,
    e.role,
    e."primary",
    CAST(NULL AS VARCHAR)                       AS begin_date,
    CAST(NULL AS VARCHAR)                       AS end_date
FROM (
    SELECT class_id, school_id, unnest(students)->>'refId' AS user_id, 'student' AS role, false AS "primary"
    FROM (
        SELECT (record->>'$.refId') AS class_id, (record->>'$.schoolRefId') AS school_id,
               CASE WHEN (record->'$.students.studentReference') IS NULL THEN []
                    WHEN json_type((record->'$.students.studentReference')) = 'ARRAY'
                    THEN json_extract((record->'$.students.studentReference'), '$[*]')
                    ELSE [(record->'$.students.studentReference')] END AS students
        FROM {{ source('xpress', 'xRosters') }}
    )
    UNION ALL
    SELECT class_id, school_id, (staff->>'$.staffPersonReference.refId'), 'teacher',
           coalesce(or_bool((staff->>'$.teacherOfRecord')), false)
    FROM (
        SELECT (record->>'$.refId') AS class_id, (record->>'$.schoolRefId') AS school_id,
               unnest(list_filter([(record->'$.primaryStaff')], lambda x: x IS NOT NULL) ||
                      CASE WHEN (record->'$.otherStaffs.otherStaff') IS NULL THEN []
                           WHEN json_type((record->'$.otherStaffs.otherStaff')) = 'ARRAY'
                           THEN json_extract((record->'$.otherStaffs.otherStaff'), '$[*]')
                           ELSE [(record->'$.otherStaffs.otherStaff')] END) AS staff
        FROM {{ source('xpress', 'xRosters') }}
    )
) AS e
WHERE e.user_id IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY e.class_id, e.user_id ORDER BY e."primary" DESC) = 1
