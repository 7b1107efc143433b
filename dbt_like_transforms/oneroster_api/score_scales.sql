-- scoreScaleValue arrives as [{itemValueLHS, itemValueRHS}] and is kept as the CSV's {LHS:RHS} list.
SELECT
    record->>'$.sourcedId'                          AS sourced_id,
    or_status(record->>'$.status')                  AS status,
    or_timestamp(record->>'$.dateLastModified')     AS date_last_modified,
    or_json_metadata(record)                        AS extensions,
    record->>'$.title'                              AS title,
    nullif(record->>'$.type', '')                   AS type,
    coalesce(record->>'$.org.sourcedId', record->>'$.school.sourcedId') AS org_sourced_id,
    record->>'$.course.sourcedId'                   AS course_sourced_id,
    record->>'$.class.sourcedId'                    AS class_sourced_id,
    nullif(array_to_string(list_transform(
        from_json(record->'$.scoreScaleValue', '[{"itemValueLHS":"VARCHAR","itemValueRHS":"VARCHAR"}]'),
        v -> '{' || v.itemValueLHS || ':' || v.itemValueRHS || '}'), ','), '') AS score_scale_value
FROM {{ source('oneroster_api', 'scoreScales') }}
