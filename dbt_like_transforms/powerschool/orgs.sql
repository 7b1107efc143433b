-- PowerSchool district and schools -> canonical orgs.
--
-- Canonical ids (every model in this folder): PowerSchool's ids are integers in SEPARATE spaces —
-- student 12, staff 12, section 12 and course 12 are four different records — and students and
-- staff both become canonical users. Every sourced id is therefore the integer prefixed by the
-- PowerSchool resource it names: district-<district_number>, school-<id>, term-<id>, course-<id>,
-- section-<id>, student-<id> (the student DCID), staff-<id>, contact-<contactId>,
-- section_enrollment-<id>; a section's teacher enrollment is section-<id>-staff-<id>; roles and
-- agents join their users' ids with ':' as the CSV mapping does. Prefixes never collide, and
-- the ids stay stable across extracts because PowerSchool never reuses an id.
SELECT
    'district-' || (record->>'$.district_number')   AS sourced_id,
    'active'                                        AS status,
    CAST(NULL AS VARCHAR)                           AS date_last_modified,
    CAST(NULL AS VARCHAR)                           AS extensions,
    record->>'$.name'                               AS name,
    'district'                                      AS type,
    record->>'$.district_number'                    AS identifier,
    CAST(NULL AS VARCHAR)                           AS parent_sourced_id
FROM {{ source('powerschool', 'district') }}
UNION ALL
SELECT
    'school-' || (s.record->>'$.id'),
    'active',
    CAST(NULL AS VARCHAR),
    CAST(NULL AS VARCHAR),
    s.record->>'$.name',
    'school',
    s.record->>'$.state_province_id',               -- the school's state id (NCES in the synthetic district)
    (SELECT 'district-' || (d.record->>'$.district_number') FROM {{ source('powerschool', 'district') }} AS d LIMIT 1)
FROM (SELECT DISTINCT ON (record->>'$.id') record FROM {{ source('powerschool', 'schools') }}) AS s
