SELECT
    sourcedId                                   AS sourced_id,
    or_status(status)                           AS status,
    or_timestamp(dateLastModified)              AS date_last_modified,
    {{ extensions('resources') }}               AS extensions,
    vendorResourceId                            AS vendor_resource_id,
    title,
    or_list(roles)                              AS roles,
    or_enum(importance, ['primary', 'secondary']) AS importance,
    vendorId                                    AS vendor_id,
    applicationId                               AS application_id
FROM {{ source('oneroster_csv', 'resources') }}
