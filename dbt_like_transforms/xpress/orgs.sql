-- xLeas are districts, xSchools schools (parent: leaRefId). A record that is only {"refId"} is a
-- deletion from a Changes Since pull. xPress carries no modification time: date_last_modified is NULL.
SELECT
    (record->>'$.refId')                          AS sourced_id,
    CASE WHEN json_keys(record) = ['refId'] THEN 'tobedeleted' ELSE 'active' END AS status,
    CAST(NULL AS VARCHAR)                       AS date_last_modified,
    CAST(NULL AS VARCHAR)                       AS extensions,
    (record->>'$.leaName')                        AS name,
    'district'                                  AS type,
    (record->>'$.ncesId')                         AS identifier,
    CAST(NULL AS VARCHAR)                       AS parent_sourced_id
FROM {{ source('xpress', 'xLeas') }}
QUALIFY row_number() OVER (PARTITION BY (record->>'$.refId')) = 1
UNION ALL
SELECT
    (record->>'$.refId')                          AS sourced_id,
    CASE WHEN json_keys(record) = ['refId'] THEN 'tobedeleted' ELSE 'active' END AS status,
    CAST(NULL AS VARCHAR)                       AS date_last_modified,
    CAST(NULL AS VARCHAR)                       AS extensions,
    (record->>'$.schoolName')                     AS name,
    'school'                                    AS type,
    -- the NCES id among otherIds (a list, or one object)
    list_filter(CASE WHEN (record->'$.otherIds.otherId') IS NULL THEN []
                     WHEN json_type((record->'$.otherIds.otherId')) = 'ARRAY'
                     THEN json_extract((record->'$.otherIds.otherId'), '$[*]')
                     ELSE [(record->'$.otherIds.otherId')] END,
                lambda o: upper((o->>'type')) = 'NCES')[1]->>'id' AS identifier,
    (record->>'$.leaRefId')                       AS parent_sourced_id
FROM {{ source('xpress', 'xSchools') }}
QUALIFY row_number() OVER (PARTITION BY (record->>'$.refId')) = 1
