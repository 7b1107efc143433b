-- One row per xStudent, xStaff and xContact. Roles: students; staff by their primary assignment's
-- jobFunction; contacts by their first relationshipCode (parent, guardian or relative). Orgs: the
-- schools of a student's enrollments or a staff member's assignments (the LEA for a district-level
-- one), for a contact those of its students. xPress serves only current people: enabled_user is true.
-- Ids: localId is the identifier, stateProvinceId the state id; user_ids lists the state id and otherIds.
-- Phones: a Mobile number is the sms, the first other number the phone. Preferred names: the
-- otherNames entry of type PreferredName.
SELECT
    p.ref_id                                    AS sourced_id,
    CASE WHEN p.deleted THEN 'tobedeleted' ELSE 'active' END AS status,
    CAST(NULL AS VARCHAR)                       AS date_last_modified,
    CAST(NULL AS VARCHAR)                       AS extensions,
    NOT p.deleted                               AS enabled_user,
    CASE p.kind
        WHEN 'student' THEN 'student'
        WHEN 'staff' THEN coalesce(or_enum((p.placements[1]->>'jobFunction'), [
            'administrator', 'aide', 'proctor', 'teacher', 'counselor', 'districtAdministrator', 'principal',
            'siteAdministrator', 'systemAdministrator']), 'teacher')
        ELSE CASE
            WHEN lower((p.relationships[1]->>'relationshipCode')) IN ('parent', 'guardian', 'relative')
                THEN lower((p.relationships[1]->>'relationshipCode'))
            WHEN lower((p.relationships[1]->>'relationshipCode')) IN ('mother', 'father', 'stepmother', 'stepfather')
                THEN 'parent'
            WHEN lower((p.relationships[1]->>'relationshipCode')) IN ('grandparent', 'grandmother', 'grandfather',
                'aunt', 'uncle', 'sibling', 'brother', 'sister') THEN 'relative'
            ELSE 'guardian' END
    END                                         AS role,
    CASE WHEN p.kind = 'contact' THEN cs.schools
         ELSE nullif(array_to_string(list_filter(list_transform(p.placements,
                  lambda a: coalesce((a->>'schoolRefId'), (a->>'leaRefId'))), lambda x: x IS NOT NULL), ','), '')
    END                                         AS org_sourced_ids,
    (p.record->>'$.appProvisioningInfo.loginId')  AS username,
    nullif(array_to_string(
        CASE WHEN (p.record->>'$.stateProvinceId') IS NULL THEN []
             ELSE ['{state:' || ((p.record->>'$.stateProvinceId')) || '}'] END ||
        list_transform(p.other_ids, lambda o: '{' || ((o->>'type')) || ':' || ((o->>'id')) || '}'), ','), '') AS user_ids,
    (p.record->>'$.name.givenName')               AS given_name,
    (p.record->>'$.name.familyName')              AS family_name,
    (p.record->>'$.name.middleName')              AS middle_name,
    list_filter(p.other_names, lambda n: (n->>'type') = 'PreferredName')[1]->>'givenName'  AS preferred_given_name,
    list_filter(p.other_names, lambda n: (n->>'type') = 'PreferredName')[1]->>'familyName' AS preferred_family_name,
    (p.record->>'$.localId')                      AS identifier,
    (p.record->>'$.stateProvinceId')              AS state_id,
    (p.record->>'$.email.emailAddress')           AS email,
    list_filter(p.phones, lambda t: (t->>'phoneNumberType') = 'Mobile')[1]->>'number' AS sms,
    list_filter(p.phones, lambda t: coalesce((t->>'phoneNumberType'), '') <> 'Mobile')[1]->>'number' AS phone,
    CASE WHEN p.kind = 'student' THEN (p.placements[1]->>'gradeLevel') END AS grades
FROM {{ ref('stg_people') }} AS p
LEFT JOIN {{ ref('stg_contact_schools') }} AS cs ON cs.contact_ref_id = p.ref_id
