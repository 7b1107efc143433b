-- PowerSchool terms -> canonical academic sessions. PowerSchool numbers a year's terms
-- yearid*100 + n (3500 is 2025-2026, 3501 its first semester) at every school, and a section's
-- term_id is that number, so each term id is one session; the copy of the lowest school id wins.
-- portion 1 is the year-long term (schoolYear), 2 a semester; thirds and quarters are terms.
WITH terms AS (
    SELECT record->>'$.id' AS id, arg_min(record, CAST(school_id AS BIGINT)) AS record
    FROM {{ source('powerschool', 'terms') }}
    GROUP BY 1
), t AS (
    SELECT id, record, CAST(record->>'$.portion' AS INTEGER) AS portion,
           CAST(record->>'$.start_year' AS INTEGER) AS start_year
    FROM terms
)
SELECT
    'term-' || t.id                                 AS sourced_id,
    'active'                                        AS status,
    CAST(NULL AS VARCHAR)                           AS date_last_modified,
    CAST(NULL AS VARCHAR)                           AS extensions,
    t.record->>'$.name'                             AS title,
    CASE t.portion WHEN 1 THEN 'schoolYear' WHEN 2 THEN 'semester' ELSE 'term' END AS type,
    or_date(t.record->>'$.start_date')              AS start_date,
    or_date(t.record->>'$.end_date')                AS end_date,
    CASE WHEN t.portion > 1 THEN 'term-' || y.id END AS parent_sourced_id,
    CAST(t.start_year + 1 AS VARCHAR)               AS ending_year
FROM t
LEFT JOIN (SELECT start_year, min(id) AS id FROM t WHERE portion = 1 GROUP BY start_year) AS y
       ON y.start_year = t.start_year
