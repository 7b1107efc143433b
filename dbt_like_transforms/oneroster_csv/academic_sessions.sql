-- Sessions keep OneRoster's schoolYear (the ending year) as ending_year.
SELECT
    sourcedId                                   AS sourced_id,
    or_status(status)                           AS status,
    or_timestamp(dateLastModified)              AS date_last_modified,
    {{ extensions('academicSessions') }}        AS extensions,
    title,
    or_enum(type, ['gradingPeriod', 'semester', 'schoolYear', 'term']) AS type,
    or_date(startDate)                          AS start_date,
    or_date(endDate)                            AS end_date,
    parentSourcedId                             AS parent_sourced_id,
    schoolYear                                  AS ending_year
FROM {{ source('oneroster_csv', 'academicSessions') }}
