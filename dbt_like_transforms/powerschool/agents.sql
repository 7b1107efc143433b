-- Student <-> guardian links, both ways as the CSV mapping gives them: the student's agent is the
-- guardian (relationship: the guardian's role for that student), the guardian's agent the student.
SELECT
    'student-' || l.student_id || ':contact-' || l.contact_id  AS sourced_id,
    'active'                                                   AS status,
    CAST(NULL AS VARCHAR)                                      AS date_last_modified,
    CAST(NULL AS VARCHAR)                                      AS extensions,
    'student-' || l.student_id                                 AS user_sourced_id,
    'contact-' || l.contact_id                                 AS agent_sourced_id,
    l.role                                                     AS relationship
FROM {{ ref('stg_contact_links') }} AS l
WHERE l.role IS NOT NULL
UNION ALL
SELECT
    'contact-' || l.contact_id || ':student-' || l.student_id,
    'active',
    CAST(NULL AS VARCHAR),
    CAST(NULL AS VARCHAR),
    'contact-' || l.contact_id,
    'student-' || l.student_id,
    'student'
FROM {{ ref('stg_contact_links') }} AS l
WHERE l.role IS NOT NULL
UNION ALL
-- Without the Contact Module: the parents and guardian the student record names.
SELECT
    'student-' || g.student_id || ':student-' || g.student_id || '-' || g.which,
    'active',
    CAST(NULL AS VARCHAR),
    CAST(NULL AS VARCHAR),
    'student-' || g.student_id,
    'student-' || g.student_id || '-' || g.which,
    g.role
FROM {{ ref('stg_parent_fields') }} AS g
UNION ALL
SELECT
    'student-' || g.student_id || '-' || g.which || ':student-' || g.student_id,
    'active',
    CAST(NULL AS VARCHAR),
    CAST(NULL AS VARCHAR),
    'student-' || g.student_id || '-' || g.which,
    'student-' || g.student_id,
    'student'
FROM {{ ref('stg_parent_fields') }} AS g
