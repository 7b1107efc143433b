-- Students, staff and guardian contacts -> canonical users (one row per person).
-- Students: local_id is the student number (identifier), state_province_id the state id,
-- student_username the sign-in name, contact_info.email the e-mail, school_enrollment.grade_level
-- the grade (0 -> KG, -1 -> PK, below -> PR, 1..13 -> 01..13, other -> Other). Extension-table
-- fields go to extensions. Staff: local_id is the teacher number; the teacher or admin sign-in
-- by role; emails.work_email; phones.home_phone. Guardians: contactNumber, the portal account's
-- userName, the primary e-mail, the first SMS phone and the first other phone; or, without the
-- Contact Module, the parents the student record names (stg_parent_fields). Extension fields of
-- students, staff and contacts, and the source's core_fields, are merged into extensions as
-- "<table>.<field>".
SELECT
    'student-' || s.id                                         AS sourced_id,
    'active'                                                   AS status,
    CAST(NULL AS VARCHAR)                                      AS date_last_modified,
    nullif(CAST(json_merge_patch(coalesce(x.extensions, '{}'), coalesce(cf.extensions, '{}')) AS VARCHAR), '{}')
                                                               AS extensions,
    upper(coalesce(s.record->>'$.school_enrollment.enroll_status', 'A')) = 'A' AS enabled_user,
    'student'                                                  AS role,
    'school-' || s.school_id                                   AS org_sourced_ids,
    s.record->>'$.student_username'                            AS username,
    '{state:' || (s.record->>'$.state_province_id') || '}'     AS user_ids,
    s.record->>'$.name.first_name'                             AS given_name,
    s.record->>'$.name.last_name'                              AS family_name,
    nullif(s.record->>'$.name.middle_name', '')                AS middle_name,
    CAST(NULL AS VARCHAR)                                      AS preferred_given_name,
    CAST(NULL AS VARCHAR)                                      AS preferred_family_name,
    s.record->>'$.local_id'                                    AS identifier,
    nullif(s.record->>'$.state_province_id', '')               AS state_id,
    nullif(s.record->>'$.contact_info.email', '')              AS email,
    CAST(NULL AS VARCHAR)                                      AS sms,
    CAST(NULL AS VARCHAR)                                      AS phone,
    CASE WHEN g IS NULL THEN NULL WHEN g = 0 THEN 'KG' WHEN g = -1 THEN 'PK' WHEN g < -1 THEN 'PR'
         WHEN g BETWEEN 1 AND 13 THEN lpad(CAST(g AS VARCHAR), 2, '0') ELSE 'Other' END AS grades
FROM (SELECT *, TRY_CAST(record->>'$.school_enrollment.grade_level' AS INTEGER) AS g
      FROM {{ ref('stg_students') }}) AS s
LEFT JOIN {{ ref('stg_student_extensions') }} AS x ON x.id = s.id
LEFT JOIN {{ ref('stg_core_fields') }} AS cf ON cf.of = 'student' AND cf.record_id = s.id
UNION ALL
SELECT
    'staff-' || t.id,
    'active',
    CAST(NULL AS VARCHAR),
    nullif(CAST(json_merge_patch(coalesce(x.extensions, '{}'), coalesce(cf.extensions, '{}')) AS VARCHAR), '{}'),
    t.active,
    t.role,
    t.org_sourced_ids,
    CASE WHEN t.role = 'teacher' THEN coalesce(t.record->>'$.teacher_username', t.record->>'$.admin_username')
         ELSE coalesce(t.record->>'$.admin_username', t.record->>'$.teacher_username') END,
    '{employee:' || (t.record->>'$.local_id') || '}',
    t.record->>'$.name.first_name',
    t.record->>'$.name.last_name',
    nullif(t.record->>'$.name.middle_name', ''),
    CAST(NULL AS VARCHAR),
    CAST(NULL AS VARCHAR),
    t.record->>'$.local_id',
    CAST(NULL AS VARCHAR),
    nullif(t.record->>'$.emails.work_email', ''),
    CAST(NULL AS VARCHAR),
    nullif(t.record->>'$.phones.home_phone', ''),
    CAST(NULL AS VARCHAR)
FROM {{ ref('stg_staff') }} AS t
LEFT JOIN {{ ref('stg_staff_extensions') }} AS x ON x.id = t.id
LEFT JOIN {{ ref('stg_core_fields') }} AS cf ON cf.of = 'staff' AND cf.record_id = t.id
UNION ALL
SELECT
    'contact-' || c.contact_id,
    'active',
    CAST(NULL AS VARCHAR),
    nullif(CAST(json_merge_patch(coalesce(x.extensions, '{}'), coalesce(cf.extensions, '{}')) AS VARCHAR), '{}'),
    coalesce(CAST(c.record->>'$.contactAccount.enabled' AS BOOLEAN), CAST(c.record->>'$.active' AS BOOLEAN), true),
    c.role,
    c.org_sourced_ids,
    nullif(c.record->>'$.contactAccount.userName', ''),
    CAST(NULL AS VARCHAR),
    c.record->>'$.firstName',
    c.record->>'$.lastName',
    nullif(c.record->>'$.middleName', ''),
    CAST(NULL AS VARCHAR),
    CAST(NULL AS VARCHAR),
    nullif(c.record->>'$.contactNumber', ''),
    nullif(c.record->>'$.stateContactNumber', ''),
    (list_sort(list_filter(from_json(coalesce(c.record->'$.emails', CAST('[]' AS JSON)),
                                     '[{"primary": "BOOLEAN", "address": "VARCHAR", "deleted": "BOOLEAN"}]'),
                           e -> NOT coalesce(e.deleted, false) AND e.address IS NOT NULL),
               'DESC'))[1].address,
    (list_sort(list_filter(from_json(coalesce(c.record->'$.phones', CAST('[]' AS JSON)),
                                     '[{"sequence": "INTEGER", "phoneNumber": "VARCHAR", "sms": "BOOLEAN", "deleted": "BOOLEAN"}]'),
                           p -> coalesce(p.sms, false) AND NOT coalesce(p.deleted, false))))[1].phoneNumber,
    (list_sort(list_filter(from_json(coalesce(c.record->'$.phones', CAST('[]' AS JSON)),
                                     '[{"sequence": "INTEGER", "phoneNumber": "VARCHAR", "sms": "BOOLEAN", "deleted": "BOOLEAN"}]'),
                           p -> NOT coalesce(p.sms, false) AND NOT coalesce(p.deleted, false))))[1].phoneNumber,
    CAST(NULL AS VARCHAR)
FROM {{ ref('stg_guardians') }} AS c
LEFT JOIN {{ ref('stg_contact_extensions') }} AS x ON x.id = c.contact_id
LEFT JOIN {{ ref('stg_core_fields') }} AS cf ON cf.of = 'contact' AND cf.record_id = c.contact_id
UNION ALL
SELECT
    'student-' || g.student_id || '-' || g.which,
    'active',
    CAST(NULL AS VARCHAR),
    CAST(NULL AS VARCHAR),
    true,
    g.role,
    'school-' || g.school_id,
    CAST(NULL AS VARCHAR),
    CAST(NULL AS VARCHAR),
    g.given_name,
    g.family_name,
    g.middle_name,
    CAST(NULL AS VARCHAR),
    CAST(NULL AS VARCHAR),
    CAST(NULL AS VARCHAR),
    CAST(NULL AS VARCHAR),
    g.email,
    CAST(NULL AS VARCHAR),
    g.phone,
    CAST(NULL AS VARCHAR)
FROM {{ ref('stg_parent_fields') }} AS g
