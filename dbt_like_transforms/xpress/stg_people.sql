-- Students, staff and contacts in one shape: a person's lists (phones, other ids, other names,
-- enrollments or assignments, relationships) read as lists whether the JSON holds a list or one
-- object. A record that is only {"refId"} is a deletion from a Changes Since pull.
SELECT
    p.kind,
    (p.record->>'$.refId')                        AS ref_id,
    json_keys(p.record) = ['refId']             AS deleted,
    p.record,
    list_filter([(p.record->'$.phoneNumber')], lambda x: x IS NOT NULL) ||
        CASE WHEN (p.record->'$.otherPhoneNumbers.phoneNumber') IS NULL THEN []
             WHEN json_type((p.record->'$.otherPhoneNumbers.phoneNumber')) = 'ARRAY'
             THEN json_extract((p.record->'$.otherPhoneNumbers.phoneNumber'), '$[*]')
             ELSE [(p.record->'$.otherPhoneNumbers.phoneNumber')] END AS phones,
    CASE WHEN (p.record->'$.otherIds.otherId') IS NULL THEN []
         WHEN json_type((p.record->'$.otherIds.otherId')) = 'ARRAY' THEN json_extract((p.record->'$.otherIds.otherId'), '$[*]')
         ELSE [(p.record->'$.otherIds.otherId')] END AS other_ids,
    CASE WHEN (p.record->'$.otherNames.name') IS NULL THEN []
         WHEN json_type((p.record->'$.otherNames.name')) = 'ARRAY' THEN json_extract((p.record->'$.otherNames.name'), '$[*]')
         ELSE [(p.record->'$.otherNames.name')] END AS other_names,
    -- student enrollments, or staff assignments, the primary one first
    list_filter([coalesce((p.record->'$.enrollment'), (p.record->'$.primaryAssignment'))], lambda x: x IS NOT NULL) ||
        CASE WHEN p.kind = 'student' THEN
                 CASE WHEN (p.record->'$.otherEnrollments.enrollment') IS NULL THEN []
                      WHEN json_type((p.record->'$.otherEnrollments.enrollment')) = 'ARRAY'
                      THEN json_extract((p.record->'$.otherEnrollments.enrollment'), '$[*]')
                      ELSE [(p.record->'$.otherEnrollments.enrollment')] END
             ELSE
                 CASE WHEN (p.record->'$.otherAssignments.staffPersonAssignment') IS NULL THEN []
                      WHEN json_type((p.record->'$.otherAssignments.staffPersonAssignment')) = 'ARRAY'
                      THEN json_extract((p.record->'$.otherAssignments.staffPersonAssignment'), '$[*]')
                      ELSE [(p.record->'$.otherAssignments.staffPersonAssignment')] END
        END AS placements,
    CASE WHEN (p.record->'$.relationships.relationship') IS NULL THEN []
         WHEN json_type((p.record->'$.relationships.relationship')) = 'ARRAY'
         THEN json_extract((p.record->'$.relationships.relationship'), '$[*]')
         ELSE [(p.record->'$.relationships.relationship')] END AS relationships,
    CASE WHEN (p.record->'$.studentContacts.contactPersonRefId') IS NULL THEN []
         WHEN json_type((p.record->'$.studentContacts.contactPersonRefId')) = 'ARRAY'
         THEN json_extract((p.record->'$.studentContacts.contactPersonRefId'), '$[*]')
         ELSE [(p.record->'$.studentContacts.contactPersonRefId')] END AS contacts
FROM (
    SELECT 'student' AS kind, record FROM {{ source('xpress', 'xStudents') }}
    UNION ALL SELECT 'staff', record FROM {{ source('xpress', 'xStaffs') }}
    UNION ALL SELECT 'contact', record FROM {{ source('xpress', 'xContacts') }}
) AS p
QUALIFY row_number() OVER (PARTITION BY p.kind, (p.record->>'$.refId')) = 1
