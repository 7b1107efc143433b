-- Guardian links come from each user's agents [{href, sourcedId, type}]; the relationship is the
-- agent's own role. Links to people not in this extract are left out, as for the CSV drop.
SELECT
    l.user_sourced_id || ':' || l.agent_sourced_id AS sourced_id,
    l.status,
    l.date_last_modified,
    CAST(NULL AS VARCHAR)                           AS extensions,
    l.user_sourced_id,
    l.agent_sourced_id,
    a.role                                          AS relationship
FROM (
    SELECT
        record->>'$.sourcedId'                      AS user_sourced_id,
        or_status(record->>'$.status')              AS status,
        or_timestamp(record->>'$.dateLastModified') AS date_last_modified,
        unnest(record->>'$.agents[*].sourcedId')    AS agent_sourced_id
    FROM {{ source('oneroster_api', 'users') }}
) AS l
JOIN {{ ref('users') }} AS a ON a.sourced_id = l.agent_sourced_id
