-- Sessions of the xCalendars (one calendar per school and year). xPress sessions have no refId:
-- sessionCode is their identifier (xRoster meeting times name it), so it is the sourced_id, and a
-- code shared by several schools' calendars is one session. sessionType is CEDS (FullSchoolYear,
-- Semester, Trimester, Quarter, ...); a marking-only term is a grading period. The parent is
-- linkedSessionCode; ending_year the calendar's schoolYear.
SELECT
    (s.session->>'sessionCode')                   AS sourced_id,
    'active'                                    AS status,
    CAST(NULL AS VARCHAR)                       AS date_last_modified,
    CAST(NULL AS VARCHAR)                       AS extensions,
    coalesce((s.session->>'description'), (s.session->>'sessionCode')) AS title,
    CASE WHEN (s.session->>'sessionType') = 'FullSchoolYear' THEN 'schoolYear'
         WHEN or_bool((s.session->>'markingTerm')) AND NOT coalesce(or_bool((s.session->>'schedulingTerm')), false)
         THEN 'gradingPeriod'
         WHEN (s.session->>'sessionType') = 'Semester' THEN 'semester'
         ELSE 'term' END                        AS type,
    or_date((s.session->>'startDate'))            AS start_date,
    or_date((s.session->>'endDate'))              AS end_date,
    (s.session->>'linkedSessionCode')             AS parent_sourced_id,
    s.school_year                               AS ending_year
FROM (
    SELECT (record->>'$.schoolRefId') AS school_ref_id, (record->>'$.schoolYear') AS school_year,
           unnest(CASE WHEN (record->'$.sessions.sessionList') IS NULL THEN []
                       WHEN json_type((record->'$.sessions.sessionList')) = 'ARRAY'
                       THEN json_extract((record->'$.sessions.sessionList'), '$[*]')
                       ELSE [(record->'$.sessions.sessionList')] END) AS session
    FROM {{ source('xpress', 'xCalendars') }}
) AS s
QUALIFY row_number() OVER (PARTITION BY (s.session->>'sessionCode') ORDER BY s.school_ref_id) = 1
