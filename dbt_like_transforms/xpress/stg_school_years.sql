-- The school-year session of each school's calendar: an xCourse names no session, so a course's
-- school_year_sourced_id is the FullSchoolYear session of its school's calendar for its year.
SELECT
    s.school_ref_id,
    s.school_year,
    min((s.session->>'sessionCode'))              AS session_code
FROM (
    SELECT (record->>'$.schoolRefId') AS school_ref_id, (record->>'$.schoolYear') AS school_year,
           unnest(CASE WHEN (record->'$.sessions.sessionList') IS NULL THEN []
                       WHEN json_type((record->'$.sessions.sessionList')) = 'ARRAY'
                       THEN json_extract((record->'$.sessions.sessionList'), '$[*]')
                       ELSE [(record->'$.sessions.sessionList')] END) AS session
    FROM {{ source('xpress', 'xCalendars') }}
) AS s
WHERE (s.session->>'sessionType') = 'FullSchoolYear'
GROUP BY 1, 2
