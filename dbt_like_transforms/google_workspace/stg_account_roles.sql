-- Each account's role from the org unit it sits in: the source's role_by_org_unit setting (stored
-- with the extract as org_unit_roles), longest matching path prefix first. A prefix matches the
-- org unit itself and everything below it ("/Staff" covers "/Staff/Teachers", not "/StaffRoom");
-- "/" covers every account. Paths compare without regard to case, as the Admin console shows them.
SELECT
    a.google_id,
    arg_max(m.record->>'$.role', length(m.record->>'$.orgUnitPath')) AS role
FROM {{ ref('stg_accounts') }} AS a
JOIN {{ source('google_workspace', 'org_unit_roles') }} AS m
  ON m.record->>'$.orgUnitPath' = '/'
  OR lower(a.org_unit_path) = lower(m.record->>'$.orgUnitPath')
  OR starts_with(lower(a.org_unit_path), lower(m.record->>'$.orgUnitPath') || '/')
GROUP BY a.google_id
