SELECT
    sourcedId                                   AS sourced_id,
    or_status(status)                           AS status,
    or_timestamp(dateLastModified)              AS date_last_modified,
    {{ extensions('classResources') }}          AS extensions,
    title,
    classSourcedId                              AS class_sourced_id,
    resourceSourcedId                           AS resource_sourced_id
FROM {{ source('oneroster_csv', 'classResources') }}
