-- Guardian links come from users.agentSourcedIds; the relationship is the agent's own role.
-- Links to people who are not in this drop were reported by validation and are left out.
SELECT
    l.user_sourced_id || ':' || l.agent_sourced_id AS sourced_id,
    l.status,
    l.date_last_modified,
    CAST(NULL AS VARCHAR)                       AS extensions,
    l.user_sourced_id,
    l.agent_sourced_id,
    a.role                                      AS relationship
FROM (
    SELECT
        sourcedId                               AS user_sourced_id,
        or_status(status)                       AS status,
        or_timestamp(dateLastModified)          AS date_last_modified,
        unnest(string_split(or_list(agentSourcedIds), ',')) AS agent_sourced_id
    FROM {{ source('oneroster_csv', 'users') }}
    WHERE agentSourcedIds IS NOT NULL
) AS l
JOIN {{ ref('users') }} AS a ON a.sourced_id = l.agent_sourced_id
