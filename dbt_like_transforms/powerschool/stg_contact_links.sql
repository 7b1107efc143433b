-- Student <-> contact links from /ws/contacts/student/{dcid}. A contact is a guardian when an
-- active student detail names a family or legal relationship; emergency-only contacts (neighbour,
-- friend, ...) are not. Relationship codes are the district's CodeSet values: a district with
-- other codes overrides this model (PASSPORT_TRANSFORMS_DIR).
WITH links AS (
    SELECT DISTINCT
        c.record->>'$.contactId'                               AS contact_id,
        cs->>'$.dcid'                                          AS student_id,
        (SELECT d->>'$.relationship' FROM (SELECT unnest(from_json(coalesce(cs->'$.studentDetails', CAST('[]' AS JSON)),
                                                                   '["json"]')) AS d)
         WHERE coalesce(CAST(d->>'$.active' AS BOOLEAN), true) AND NOT coalesce(CAST(d->>'$.deleted' AS BOOLEAN), false)
         LIMIT 1)                                              AS relationship
    FROM (
        SELECT record, unnest(from_json(coalesce(record->'$.contactStudents', CAST('[]' AS JSON)), '["json"]')) AS cs
        FROM {{ source('powerschool', 'contacts') }}
    ) AS c
    WHERE NOT coalesce(CAST(cs->>'$.deleted' AS BOOLEAN), false)
)
SELECT
    l.contact_id,
    l.student_id,
    l.relationship,
    CASE lower(l.relationship)
        WHEN 'mother' THEN 'parent' WHEN 'father' THEN 'parent' WHEN 'parent' THEN 'parent'
        WHEN 'stepmother' THEN 'parent' WHEN 'stepfather' THEN 'parent' WHEN 'step-parent' THEN 'parent'
        WHEN 'legal guardian' THEN 'guardian' WHEN 'guardian' THEN 'guardian' WHEN 'foster parent' THEN 'guardian'
        WHEN 'grandparent' THEN 'relative' WHEN 'grandmother' THEN 'relative' WHEN 'grandfather' THEN 'relative'
        WHEN 'aunt' THEN 'relative' WHEN 'uncle' THEN 'relative' WHEN 'sibling' THEN 'relative'
        WHEN 'brother' THEN 'relative' WHEN 'sister' THEN 'relative' WHEN 'other relative' THEN 'relative'
    END                                                        AS role
FROM links AS l
JOIN {{ ref('stg_students') }} AS s ON s.id = l.student_id
WHERE l.relationship IS NOT NULL
