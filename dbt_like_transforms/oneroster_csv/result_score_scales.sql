SELECT
    sourcedId                                   AS sourced_id,
    or_status(status)                           AS status,
    or_timestamp(dateLastModified)              AS date_last_modified,
    {{ extensions('resultScoreScales') }}       AS extensions,
    title,
    resultSourcedId                             AS result_sourced_id,
    scoreScaleSourcedId                         AS score_scale_sourced_id
FROM {{ source('oneroster_csv', 'resultScoreScales') }}
