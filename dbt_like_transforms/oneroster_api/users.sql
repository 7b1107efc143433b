-- One row per person, from /users (or /students and /teachers). The password is never kept.
SELECT
    record->>'$.sourcedId'                          AS sourced_id,
    or_status(record->>'$.status')                  AS status,
    or_timestamp(record->>'$.dateLastModified')     AS date_last_modified,
    or_json_metadata(record)                        AS extensions,
    or_bool(record->>'$.enabledUser')               AS enabled_user,
    or_enum(coalesce(record->>'$.role', r.role), [
        'administrator', 'aide', 'guardian', 'parent', 'proctor', 'relative', 'student', 'teacher', 'counselor',
        'districtAdministrator', 'principal', 'siteAdministrator', 'systemAdministrator']) AS role,
    coalesce(or_list(array_to_string(record->>'$.orgs[*].sourcedId', ',')), r.org_sourced_ids) AS org_sourced_ids,
    nullif(record->>'$.username', '')               AS username,
    or_list(array_to_string(list_transform(
        from_json(record->'$.userIds', '[{"type":"VARCHAR","identifier":"VARCHAR"}]'),
        x -> '{' || x.type || ':' || x.identifier || '}'), ','))   AS user_ids,
    record->>'$.givenName'                          AS given_name,
    record->>'$.familyName'                         AS family_name,
    nullif(record->>'$.middleName', '')             AS middle_name,
    nullif(record->>'$.preferredFirstName', '')     AS preferred_given_name,
    nullif(record->>'$.preferredLastName', '')      AS preferred_family_name,
    nullif(record->>'$.identifier', '')             AS identifier,
    coalesce(
        list_filter(from_json(record->'$.userIds', '[{"type":"VARCHAR","identifier":"VARCHAR"}]'),
                    x -> lower(x.type) = 'state')[1].identifier,
        nullif(record->>'$.userMasterIdentifier', ''))              AS state_id,
    nullif(record->>'$.email', '')                  AS email,
    nullif(record->>'$.sms', '')                    AS sms,
    nullif(record->>'$.phone', '')                  AS phone,
    or_list(array_to_string(record->>'$.grades[*]', ','))          AS grades
FROM {{ source('oneroster_api', 'users') }} AS u
LEFT JOIN {{ ref('stg_primary_roles') }} AS r ON r.user_sourced_id = (u.record->>'$.sourcedId')
