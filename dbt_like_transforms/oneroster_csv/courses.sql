SELECT
    sourcedId                                   AS sourced_id,
    or_status(status)                           AS status,
    or_timestamp(dateLastModified)              AS date_last_modified,
    {{ extensions('courses') }}                 AS extensions,
    title,
    courseCode                                  AS course_code,
    or_list(grades)                             AS grades,
    orgSourcedId                                AS org_sourced_id,
    schoolYearSourcedId                         AS school_year_sourced_id,
    or_list(subjects)                           AS subjects,
    or_list(subjectCodes)                       AS subject_codes
FROM {{ source('oneroster_csv', 'courses') }}
