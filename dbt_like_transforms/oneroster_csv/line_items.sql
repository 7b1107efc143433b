-- 1.1 names the line item's session gradingPeriodSourcedId, 1.2 academicSessionSourcedId.
SELECT
    sourcedId                                   AS sourced_id,
    or_status(status)                           AS status,
    or_timestamp(dateLastModified)              AS date_last_modified,
    {{ extensions('lineItems') }}               AS extensions,
    title,
    description,
    or_date(assignDate)                         AS assign_date,
    or_date(dueDate)                            AS due_date,
    classSourcedId                              AS class_sourced_id,
    schoolSourcedId                             AS school_sourced_id,
    categorySourcedId                           AS category_sourced_id,
    coalesce(academicSessionSourcedId, gradingPeriodSourcedId) AS grading_period_sourced_id,
    or_number(resultValueMin)                   AS result_value_min,
    or_number(resultValueMax)                   AS result_value_max
FROM {{ source('oneroster_csv', 'lineItems') }}
