SELECT
    sourcedId                                   AS sourced_id,
    or_status(status)                           AS status,
    or_timestamp(dateLastModified)              AS date_last_modified,
    {{ extensions('classes') }}                 AS extensions,
    title,
    or_list(grades)                             AS grades,
    courseSourcedId                             AS course_sourced_id,
    classCode                                   AS class_code,
    or_enum(classType, ['homeroom', 'scheduled']) AS class_type,
    location,
    schoolSourcedId                             AS school_sourced_id,
    or_list(termSourcedIds)                     AS term_sourced_ids,
    or_list(subjects)                           AS subjects,
    or_list(subjectCodes)                       AS subject_codes,
    or_list(periods)                            AS periods
FROM {{ source('oneroster_csv', 'classes') }}
