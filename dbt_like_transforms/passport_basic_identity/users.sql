-- One row per person. enabled=false keeps the person with the account disabled.
SELECT
    person_id                                   AS sourced_id,
    'active'                                    AS status,
    CAST(NULL AS VARCHAR)                       AS date_last_modified,
    {{ extensions('people') }}                  AS extensions,
    coalesce(or_bool(enabled), true)            AS enabled_user,
    or_enum(role, ['student', 'teacher', 'administrator', 'aide']) AS role,
    or_list(school_id)                          AS org_sourced_ids,
    username,
    CAST(NULL AS VARCHAR)                       AS user_ids,
    given_name,
    family_name,
    middle_name,
    CAST(NULL AS VARCHAR)                       AS preferred_given_name,
    CAST(NULL AS VARCHAR)                       AS preferred_family_name,
    student_number                              AS identifier,
    state_id,
    email,
    CAST(NULL AS VARCHAR)                       AS sms,
    CAST(NULL AS VARCHAR)                       AS phone,
    or_list(grade)                              AS grades
FROM {{ source('passport_basic_identity', 'people') }}
