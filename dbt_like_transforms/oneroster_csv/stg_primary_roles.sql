-- OneRoster 1.2 moves a person's role and orgs to roles.csv: one primary role per user, and
-- all the orgs of their active roles. Empty for 1.1 drops, whose users.csv carries both.
SELECT
    userSourcedId                                                        AS user_sourced_id,
    arg_min(role, CASE lower(roleType) WHEN 'primary' THEN 0 ELSE 1 END) AS role,
    string_agg(DISTINCT orgSourcedId, ',' ORDER BY orgSourcedId)         AS org_sourced_ids
FROM {{ source('oneroster_csv', 'roles') }}
WHERE or_status(status) = 'active'
GROUP BY userSourcedId
