-- A result's scoreScale reference (1.2), as a link of its own: sourcedId "<result>:<scale>".
SELECT
    (record->>'$.sourcedId') || ':' || (record->>'$.scoreScale.sourcedId') AS sourced_id,
    or_status(record->>'$.status')                  AS status,
    or_timestamp(record->>'$.dateLastModified')     AS date_last_modified,
    CAST(NULL AS VARCHAR)                           AS extensions,
    CAST(NULL AS VARCHAR)                           AS title,
    record->>'$.sourcedId'                          AS result_sourced_id,
    record->>'$.scoreScale.sourcedId'               AS score_scale_sourced_id
FROM {{ source('oneroster_api', 'results') }}
WHERE record->>'$.scoreScale.sourcedId' IS NOT NULL
