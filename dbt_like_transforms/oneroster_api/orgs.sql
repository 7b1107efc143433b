-- OneRoster REST orgs (1.1 and 1.2 JSON) -> canonical orgs; the parent is a reference {href, sourcedId, type}.
SELECT
    record->>'$.sourcedId'                          AS sourced_id,
    or_status(record->>'$.status')                  AS status,
    or_timestamp(record->>'$.dateLastModified')     AS date_last_modified,
    or_json_metadata(record)                        AS extensions,
    record->>'$.name'                               AS name,
    or_enum(record->>'$.type', ['department', 'school', 'district', 'local', 'state', 'national']) AS type,
    nullif(record->>'$.identifier', '')             AS identifier,
    nullif(record->>'$.parent.sourcedId', '')       AS parent_sourced_id
FROM {{ source('oneroster_api', 'orgs') }}
