-- Sessions keep OneRoster's schoolYear (the ending year) as ending_year.
SELECT
    record->>'$.sourcedId'                          AS sourced_id,
    or_status(record->>'$.status')                  AS status,
    or_timestamp(record->>'$.dateLastModified')     AS date_last_modified,
    or_json_metadata(record)                        AS extensions,
    record->>'$.title'                              AS title,
    or_enum(record->>'$.type', ['gradingPeriod', 'semester', 'schoolYear', 'term']) AS type,
    or_date(record->>'$.startDate')                 AS start_date,
    or_date(record->>'$.endDate')                   AS end_date,
    nullif(record->>'$.parent.sourcedId', '')       AS parent_sourced_id,
    record->>'$.schoolYear'                         AS ending_year
FROM {{ source('oneroster_api', 'academicSessions') }}
