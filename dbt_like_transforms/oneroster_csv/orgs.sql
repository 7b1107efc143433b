-- OneRoster orgs -> canonical orgs. Enumerations are re-spelled as the spec spells them.
SELECT
    sourcedId                                   AS sourced_id,
    or_status(status)                           AS status,
    or_timestamp(dateLastModified)              AS date_last_modified,
    {{ extensions('orgs') }}                    AS extensions,
    name,
    or_enum(type, ['department', 'school', 'district', 'local', 'state', 'national']) AS type,
    identifier,
    parentSourcedId                             AS parent_sourced_id
FROM {{ source('oneroster_csv', 'orgs') }}
