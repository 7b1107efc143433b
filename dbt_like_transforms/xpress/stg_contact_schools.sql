-- An xContact names no school: a contact's orgs are the schools of the students it is related to,
-- in the order of its relationships (the first student's school is its primary org).
SELECT
    contact_ref_id,
    string_agg(school, ',' ORDER BY first_seen) AS schools
FROM (
    SELECT r.contact_ref_id, s.school, min(r.rel_pos * 1000 + s.placement_pos) AS first_seen
    FROM (
        SELECT ref_id AS contact_ref_id,
               unnest(relationships)->>'studentRefId'  AS student_ref_id,
               generate_subscripts(relationships, 1)   AS rel_pos
        FROM {{ ref('stg_people') }} WHERE kind = 'contact'
    ) AS r
    JOIN (
        SELECT ref_id,
               unnest(placements)->>'schoolRefId'      AS school,
               generate_subscripts(placements, 1)      AS placement_pos
        FROM {{ ref('stg_people') }} WHERE kind = 'student'
    ) AS s ON s.ref_id = r.student_ref_id
    WHERE s.school IS NOT NULL
    GROUP BY r.contact_ref_id, s.school
)
GROUP BY contact_ref_id
