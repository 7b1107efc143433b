-- Basic Identity schools -> canonical orgs. The district itself is not in the files, so schools
-- have no parent org (a OneRoster source of the same district may carry it).
SELECT
    school_id                                   AS sourced_id,
    'active'                                    AS status,
    CAST(NULL AS VARCHAR)                       AS date_last_modified,
    {{ extensions('schools') }}                 AS extensions,
    school_name                                 AS name,
    'school'                                    AS type,
    identifier,
    CAST(NULL AS VARCHAR)                       AS parent_sourced_id
FROM {{ source('passport_basic_identity', 'schools') }}
