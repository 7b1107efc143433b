-- An xContact names no school: a contact's orgs are the schools of the students it is related to.
SELECT
    r.contact_ref_id,
    string_agg(DISTINCT s.school, ',' ORDER BY s.school) AS schools
FROM (
    SELECT ref_id AS contact_ref_id, unnest(relationships)->>'studentRefId' AS student_ref_id
    FROM {{ ref('stg_people') }} WHERE kind = 'contact'
) AS r
JOIN (
    SELECT ref_id, unnest(placements)->>'schoolRefId' AS school
    FROM {{ ref('stg_people') }} WHERE kind = 'student'
) AS s ON s.ref_id = r.student_ref_id
WHERE s.school IS NOT NULL
GROUP BY r.contact_ref_id
