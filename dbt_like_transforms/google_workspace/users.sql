-- Google Workspace accounts as canonical users. What Google carries: the person's names, the
-- account's address, whether it can sign in, and (through its org unit) the role. Google knows
-- no schools, grades or other identifiers, so those columns stay empty, and no roles rows are
-- derived (a canonical role needs an org).
--   sourced_id   the SIS id from externalIds (type organization), else Google's own user id
--   username     the local part of primaryEmail (what districts' SIS exports carry as username)
--   enabled_user false for a suspended or archived account
-- extensions keep Google's user id, the org unit and (for an administrator) isAdmin: what a
-- google-workspace destination needs to know about the account it may change.
-- Accounts in an org unit that role_by_org_unit does not map (IT, service, test accounts) are
-- left out. Two accounts carrying one SIS id give one user: the one that can sign in, else the
-- first by address.
SELECT
    coalesce(a.sis_id, a.google_id)              AS sourced_id,
    'active'                                     AS status,
    CAST(NULL AS VARCHAR)                        AS date_last_modified,
    CAST(CASE WHEN a.is_admin THEN json_object('googleId', a.google_id, 'orgUnitPath', a.org_unit_path, 'isAdmin', true)
              ELSE json_object('googleId', a.google_id, 'orgUnitPath', a.org_unit_path) END AS VARCHAR) AS extensions,
    NOT (a.suspended OR a.archived)              AS enabled_user,
    r.role,
    CAST(NULL AS VARCHAR)                        AS org_sourced_ids,
    nullif(split_part(a.primary_email, '@', 1), '') AS username,
    CAST(NULL AS VARCHAR)                        AS user_ids,
    a.given_name,
    a.family_name,
    CAST(NULL AS VARCHAR)                        AS middle_name,
    CAST(NULL AS VARCHAR)                        AS preferred_given_name,
    CAST(NULL AS VARCHAR)                        AS preferred_family_name,
    CAST(NULL AS VARCHAR)                        AS identifier,
    CAST(NULL AS VARCHAR)                        AS state_id,
    a.primary_email                              AS email,
    CAST(NULL AS VARCHAR)                        AS sms,
    CAST(NULL AS VARCHAR)                        AS phone,
    CAST(NULL AS VARCHAR)                        AS grades
FROM {{ ref('stg_accounts') }} AS a
JOIN {{ ref('stg_account_roles') }} AS r ON r.google_id = a.google_id
QUALIFY row_number() OVER (PARTITION BY coalesce(a.sis_id, a.google_id)
                           ORDER BY a.suspended OR a.archived, a.primary_email) = 1
