-- One row per staff id with its school affiliations (one object when there is only one).
-- Affiliation type: 1 teacher, 2 staff (administrators and office staff), 3 lunch staff,
-- 4 substitute; status 1 is active. A staff member is listed at every school they belong to.
WITH staff AS (
    SELECT record->>'$.id' AS id, any_value(record) AS record
    FROM {{ source('powerschool', 'staff') }}
    GROUP BY 1
), affiliations AS (
    SELECT id, a->>'$.school_id' AS school_id, CAST(a->>'$.type' AS INTEGER) AS type,
           coalesce(CAST(a->>'$.status' AS INTEGER), 1) AS status
    FROM (
        SELECT id, unnest(from_json(CASE json_type(record->'$.school_affiliations.school_affiliation')
                                         WHEN 'ARRAY' THEN record->'$.school_affiliations.school_affiliation'
                                         WHEN 'OBJECT' THEN json_array(record->'$.school_affiliations.school_affiliation')
                                         ELSE CAST('[]' AS JSON) END, '["json"]')) AS a
        FROM staff
    ) AS x
)
SELECT
    s.id,
    s.record,
    CASE WHEN bool_or(a.type IN (1, 4) AND a.status = 1) THEN 'teacher'
         WHEN bool_or(a.type = 3 AND a.status = 1) AND NOT bool_or(a.type = 2 AND a.status = 1) THEN 'aide'
         ELSE 'administrator' END                                       AS role,
    coalesce(bool_or(a.status = 1), false)                               AS active,
    string_agg(DISTINCT 'school-' || a.school_id, ',' ORDER BY 'school-' || a.school_id)
        FILTER (WHERE a.status = 1)                                      AS org_sourced_ids
FROM staff AS s
LEFT JOIN affiliations AS a ON a.id = s.id
GROUP BY s.id, s.record
