-- xCourses. grades: applicableEducationLevels; the school year: the FullSchoolYear session of the
-- course's school calendar for its metadata.schoolYear. xCourse.subject is a single subject.
SELECT
    (c.record->>'$.refId')                        AS sourced_id,
    CASE WHEN json_keys(c.record) = ['refId'] THEN 'tobedeleted' ELSE 'active' END AS status,
    CAST(NULL AS VARCHAR)                       AS date_last_modified,
    CAST(NULL AS VARCHAR)                       AS extensions,
    (c.record->>'$.courseTitle')                  AS title,
    (c.record->>'$.schoolCourseId')               AS course_code,
    nullif(array_to_string(list_transform(
        CASE WHEN (c.record->'$.applicableEducationLevels.applicableEducationLevel') IS NULL THEN []
             WHEN json_type((c.record->'$.applicableEducationLevels.applicableEducationLevel')) = 'ARRAY'
             THEN json_extract((c.record->'$.applicableEducationLevels.applicableEducationLevel'), '$[*]')
             ELSE [(c.record->'$.applicableEducationLevels.applicableEducationLevel')] END,
        lambda g: (g->>'$')), ','), '')           AS grades,
    (c.record->>'$.schoolRefId')                  AS org_sourced_id,
    y.session_code                              AS school_year_sourced_id,
    (c.record->>'$.subject')                      AS subjects,
    CAST(NULL AS VARCHAR)                       AS subject_codes
FROM {{ source('xpress', 'xCourses') }} AS c
LEFT JOIN {{ ref('stg_school_years') }} AS y
    ON y.school_ref_id = (c.record->>'$.schoolRefId') AND y.school_year = (c.record->>'$.metadata.schoolYear')
QUALIFY row_number() OVER (PARTITION BY (c.record->>'$.refId')) = 1
