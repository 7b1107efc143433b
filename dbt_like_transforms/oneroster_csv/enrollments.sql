SELECT
    sourcedId                                   AS sourced_id,
    or_status(status)                           AS status,
    or_timestamp(dateLastModified)              AS date_last_modified,
    {{ extensions('enrollments') }}             AS extensions,
    classSourcedId                              AS class_sourced_id,
    schoolSourcedId                             AS school_sourced_id,
    userSourcedId                               AS user_sourced_id,
    or_enum(role, ['administrator', 'proctor', 'student', 'teacher']) AS role,
    or_bool("primary")                          AS "primary",
    or_date(beginDate)                          AS begin_date,
    or_date(endDate)                            AS end_date
FROM {{ source('oneroster_csv', 'enrollments') }}
