-- One row per person. The password column is read by validation but never kept.
SELECT
    u.sourcedId                                 AS sourced_id,
    or_status(u.status)                         AS status,
    or_timestamp(u.dateLastModified)            AS date_last_modified,
    {{ extensions('users') }}                   AS extensions,
    or_bool(u.enabledUser)                      AS enabled_user,
    or_enum(coalesce(u.role, r.role), [
        'administrator', 'aide', 'guardian', 'parent', 'proctor', 'relative', 'student', 'teacher', 'counselor',
        'districtAdministrator', 'principal', 'siteAdministrator', 'systemAdministrator']) AS role,
    coalesce(or_list(u.orgSourcedIds), r.org_sourced_ids) AS org_sourced_ids,
    u.username,
    or_list(u.userIds)                          AS user_ids,
    u.givenName                                 AS given_name,
    u.familyName                                AS family_name,
    u.middleName                                AS middle_name,
    u.preferredGivenName                        AS preferred_given_name,
    u.preferredFamilyName                       AS preferred_family_name,
    u.identifier,
    coalesce(or_user_id(u.userIds, 'state'), u.userMasterIdentifier) AS state_id,
    u.email,
    u.sms,
    u.phone,
    or_list(u.grades)                           AS grades
FROM {{ source('oneroster_csv', 'users') }} AS u
LEFT JOIN {{ ref('stg_primary_roles') }} AS r ON r.user_sourced_id = u.sourcedId
