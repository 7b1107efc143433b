SELECT
    sourcedId                                   AS sourced_id,
    or_status(status)                           AS status,
    or_timestamp(dateLastModified)              AS date_last_modified,
    {{ extensions('scoreScales') }}             AS extensions,
    title,
    type,
    orgSourcedId                                AS org_sourced_id,
    courseSourcedId                             AS course_sourced_id,
    classSourcedId                              AS class_sourced_id,
    scoreScaleValue                             AS score_scale_value
FROM {{ source('oneroster_csv', 'scoreScales') }}
