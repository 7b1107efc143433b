SELECT
    sourcedId                                   AS sourced_id,
    or_status(status)                           AS status,
    or_timestamp(dateLastModified)              AS date_last_modified,
    {{ extensions('courseResources') }}         AS extensions,
    title,
    courseSourcedId                             AS course_sourced_id,
    resourceSourcedId                           AS resource_sourced_id
FROM {{ source('oneroster_csv', 'courseResources') }}
