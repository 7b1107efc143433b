-- One row per Google Workspace account, flattened from the users.list records as received.
-- sis_id is the value of the account's externalIds entry of type "organization": where
-- districts put the SIS id when they provision accounts (GCDS, SIS sync tools).
SELECT
    record->>'$.id'                              AS google_id,
    record->>'$.primaryEmail'                    AS primary_email,
    record->>'$.name.givenName'                  AS given_name,
    record->>'$.name.familyName'                 AS family_name,
    coalesce(nullif(record->>'$.orgUnitPath', ''), '/') AS org_unit_path,
    coalesce(or_bool(record->>'$.suspended'), false)    AS suspended,
    coalesce(or_bool(record->>'$.archived'), false)     AS archived,
    coalesce(or_bool(record->>'$.isAdmin'), false)      AS is_admin,
    nullif(trim(list_filter(CAST(record->'$.externalIds' AS JSON[]),
                            lambda e: lower(e->>'type') = 'organization')[1]->>'value'), '') AS sis_id
FROM {{ source('google_workspace', 'users') }}
WHERE record->>'$.id' IS NOT NULL
