-- A 1.2 user's role is its primary role; its orgs are the orgs of all its roles (as the 1.2 CSV
-- mapping reads roles.csv). Empty for 1.1 users, whose record carries role and orgs itself.
SELECT
    user_sourced_id,
    arg_min(role, (CASE role_type WHEN 'primary' THEN 0 ELSE 1 END) * 1000000 + pos) AS role,
    string_agg(DISTINCT org_sourced_id, ',' ORDER BY org_sourced_id)                  AS org_sourced_ids
FROM {{ ref('stg_user_roles') }}
WHERE listed
GROUP BY user_sourced_id
