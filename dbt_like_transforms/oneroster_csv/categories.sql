SELECT
    sourcedId                                   AS sourced_id,
    or_status(status)                           AS status,
    or_timestamp(dateLastModified)              AS date_last_modified,
    {{ extensions('categories') }}              AS extensions,
    title,
    or_number(weight)                           AS weight
FROM {{ source('oneroster_csv', 'categories') }}
