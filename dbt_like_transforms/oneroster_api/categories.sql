SELECT
    record->>'$.sourcedId'                          AS sourced_id,
    or_status(record->>'$.status')                  AS status,
    or_timestamp(record->>'$.dateLastModified')     AS date_last_modified,
    or_json_metadata(record)                        AS extensions,
    record->>'$.title'                              AS title,
    or_number(record->>'$.weight')                  AS weight
FROM {{ source('oneroster_api', 'categories') }}
