-- One row per guardian contact: its record, its role (from its link to the lowest student
-- DCID), and its orgs (the schools of its students, in the order of their lowest student DCID).
WITH guardian_links AS (
    SELECT l.*, s.school_id, CAST(l.student_id AS BIGINT) AS student_no
    FROM {{ ref('stg_contact_links') }} AS l
    JOIN {{ ref('stg_students') }} AS s ON s.id = l.student_id
    WHERE l.role IS NOT NULL
), schools AS (
    SELECT contact_id, school_id, min(student_no) AS first_student
    FROM guardian_links GROUP BY 1, 2
)
SELECT
    g.contact_id,
    (SELECT any_value(record) FROM {{ source('powerschool', 'contacts') }} AS c
     WHERE (c.record->>'$.contactId') = g.contact_id)            AS record,
    arg_min(g.role, g.student_no)                              AS role,
    (SELECT string_agg('school-' || s.school_id, ',' ORDER BY s.first_student)
     FROM schools AS s WHERE s.contact_id = g.contact_id)      AS org_sourced_ids
FROM guardian_links AS g
GROUP BY g.contact_id
