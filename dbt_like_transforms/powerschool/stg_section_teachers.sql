-- Every teacher of a kept section, from PowerSchool's SectionTeacher table (co-teaching: lead teacher,
-- co-teacher, job share, aide, observer), with the enrollment role the source's section_roles setting
-- gives the co-teaching role (RoleDef name, compared without regard to case); a role set to null, or
-- not listed, is not read. SectionTeacher names sections and staff by their internal ids; the Sections
-- and SchoolStaff tables map them to the DCIDs the /ws/v1 resources use. Empty unless co_teachers.
WITH st AS (
    SELECT record->'$.tables.sectionteacher' AS r FROM {{ source('powerschool', 'section_teachers') }}
), sections AS (
    SELECT DISTINCT record->>'$.tables.sections.id' AS id, record->>'$.tables.sections.dcid' AS dcid
    FROM {{ source('powerschool', 'section_ids') }}
), staff AS (
    SELECT DISTINCT record->>'$.tables.schoolstaff.id' AS id, record->>'$.tables.schoolstaff.users_dcid' AS users_dcid
    FROM {{ source('powerschool', 'schoolstaff_ids') }}
), roles AS (
    SELECT record->>'$.tables.roledef.id' AS id, record->>'$.tables.roledef.name' AS name
    FROM {{ source('powerschool', 'teacher_roles') }}
), mapping AS (
    SELECT lower(record->>'$.name') AS name, record->>'$.role' AS role
    FROM {{ source('powerschool', 'section_roles') }}
)
SELECT
    sec.dcid                                     AS section_id,
    stf.users_dcid                               AS staff_id,
    m.role,
    ro.name                                      AS co_teaching_role,
    or_date(st.r->>'$.start_date')               AS begin_date,
    or_date(st.r->>'$.end_date')                 AS end_date
FROM st
JOIN sections AS sec ON sec.id = (st.r->>'$.sectionid')
JOIN staff AS stf ON stf.id = (st.r->>'$.teacherid')
JOIN roles AS ro ON ro.id = (st.r->>'$.roleid')
JOIN mapping AS m ON m.name = lower(ro.name)
SEMI JOIN {{ ref('stg_sections') }} AS s ON s.id = sec.dcid
WHERE m.role IS NOT NULL
-- One enrollment per section and person: a person in two roles of one section keeps the first role id.
QUALIFY row_number() OVER (PARTITION BY sec.dcid, stf.users_dcid ORDER BY CAST(st.r->>'$.roleid' AS BIGINT)) = 1
