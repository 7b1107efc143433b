-- xRosters are class sections. xPress has no section title, grades or class type: the title is
-- the course title and the school's section id, the grades those of the course, the type
-- 'scheduled'. Terms and periods come from the meeting times (sessionCode, timeTablePeriod), the
-- location from the first meeting's room; with no meeting times the term is the school year.
SELECT
    (r.record->>'$.refId')                        AS sourced_id,
    CASE WHEN json_keys(r.record) = ['refId'] THEN 'tobedeleted' ELSE 'active' END AS status,
    CAST(NULL AS VARCHAR)                       AS date_last_modified,
    CAST(NULL AS VARCHAR)                       AS extensions,
    coalesce(nullif(concat_ws(' - ', (r.record->>'$.courseTitle'), (r.record->>'$.schoolSectionId')), ''),
             (r.record->>'$.refId'))              AS title,
    c.grades,
    (r.record->>'$.courseRefId')                  AS course_sourced_id,
    (r.record->>'$.schoolSectionId')              AS class_code,
    'scheduled'                                 AS class_type,
    (r.meetings[1]->>'roomNumber')                AS location,
    (r.record->>'$.schoolRefId')                  AS school_sourced_id,
    coalesce(nullif(array_to_string(list_sort(list_distinct(
        list_filter(list_transform(r.meetings, lambda m: (m->>'sessionCode')), lambda x: x IS NOT NULL))), ','), ''),
        y.session_code)                         AS term_sourced_ids,
    (r.record->>'$.subject')                      AS subjects,
    CAST(NULL AS VARCHAR)                       AS subject_codes,
    nullif(array_to_string(list_sort(list_distinct(
        list_filter(list_transform(r.meetings, lambda m: (m->>'timeTablePeriod')), lambda x: x IS NOT NULL))), ','),
        '')                                     AS periods
FROM (
    SELECT record,
           CASE WHEN (record->'$.meetingTimes.meetingTime') IS NULL THEN []
                WHEN json_type((record->'$.meetingTimes.meetingTime')) = 'ARRAY'
                THEN json_extract((record->'$.meetingTimes.meetingTime'), '$[*]')
                ELSE [(record->'$.meetingTimes.meetingTime')] END AS meetings
    FROM {{ source('xpress', 'xRosters') }}
    QUALIFY row_number() OVER (PARTITION BY (record->>'$.refId')) = 1
) AS r
LEFT JOIN {{ ref('courses') }} AS c ON c.sourced_id = (r.record->>'$.courseRefId')
LEFT JOIN {{ ref('stg_school_years') }} AS y
    ON y.school_ref_id = (r.record->>'$.schoolRefId') AND y.school_year = (r.record->>'$.schoolYear')
