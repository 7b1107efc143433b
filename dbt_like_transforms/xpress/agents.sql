-- Links both ways, as a OneRoster drop's agentSourcedIds: a student's studentContacts and a
-- contact's relationships; the relationship is the agent's own role. Links to people not read are
-- left out.
SELECT
    l.user_id || ':' || l.agent_id              AS sourced_id,
    'active'                                    AS status,
    CAST(NULL AS VARCHAR)                       AS date_last_modified,
    CAST(NULL AS VARCHAR)                       AS extensions,
    l.user_id                                   AS user_sourced_id,
    l.agent_id                                  AS agent_sourced_id,
    a.role                                      AS relationship
FROM (
    SELECT ref_id AS user_id, unnest(contacts)->>'$' AS agent_id FROM {{ ref('stg_people') }} WHERE kind = 'student'
    UNION
    SELECT ref_id, unnest(relationships)->>'studentRefId' FROM {{ ref('stg_people') }} WHERE kind = 'contact'
) AS l
JOIN {{ ref('users') }} AS a ON a.sourced_id = l.agent_id AND a.status = 'active'
