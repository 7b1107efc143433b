SELECT
    record->>'$.sourcedId'                          AS sourced_id,
    or_status(record->>'$.status')                  AS status,
    or_timestamp(record->>'$.dateLastModified')     AS date_last_modified,
    or_json_metadata(record)                        AS extensions,
    record->>'$.vendorResourceId'                   AS vendor_resource_id,
    nullif(record->>'$.title', '')                  AS title,
    or_list(array_to_string(record->>'$.roles[*]', ','))        AS roles,
    or_enum(record->>'$.importance', ['primary', 'secondary'])  AS importance,
    nullif(record->>'$.vendorId', '')               AS vendor_id,
    nullif(record->>'$.applicationId', '')          AS application_id
FROM {{ source('oneroster_api', 'resources') }}
