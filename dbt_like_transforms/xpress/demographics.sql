-- xStudent demographics: CEDS sex (Male, Female, NotSelected, X) and race codes. xPress has no
-- birth state, birth city or residence status.
SELECT
    p.ref_id                                    AS sourced_id,
    CASE WHEN p.deleted THEN 'tobedeleted' ELSE 'active' END AS status,
    CAST(NULL AS VARCHAR)                       AS date_last_modified,
    CAST(NULL AS VARCHAR)                       AS extensions,
    or_date((p.record->>'$.demographics.birthDate')) AS birth_date,
    CASE (p.record->>'$.demographics.sex') WHEN 'Male' THEN 'male' WHEN 'Female' THEN 'female'
        WHEN 'NotSelected' THEN 'unspecified' WHEN 'X' THEN 'other' END AS sex,
    list_contains(p.races, 'AmericanIndianOrAlaskaNative')         AS american_indian_or_alaska_native,
    list_contains(p.races, 'Asian')                                AS asian,
    list_contains(p.races, 'BlackOrAfricanAmerican')               AS black_or_african_american,
    list_contains(p.races, 'NativeHawaiianOrOtherPacificIslander') AS native_hawaiian_or_other_pacific_islander,
    list_contains(p.races, 'White')                                AS white,
    list_contains(p.races, 'DemographicRaceTwoOrMoreRaces')        AS two_or_more_races,
    or_bool((p.record->>'$.demographics.hispanicLatinoEthnicity'))   AS hispanic_or_latino_ethnicity,
    (p.record->>'$.demographics.countryOfBirth')  AS country_of_birth_code,
    CAST(NULL AS VARCHAR)                       AS state_of_birth_abbreviation,
    CAST(NULL AS VARCHAR)                       AS city_of_birth,
    CAST(NULL AS VARCHAR)                       AS public_school_residence_status
FROM (
    SELECT ref_id, deleted, record,
           -- NULL when the provider sends no races at all: unknown, not "none"
           CASE WHEN (record->'$.demographics.races') IS NULL THEN NULL
                ELSE list_transform(
                    CASE WHEN (record->'$.demographics.races.race') IS NULL THEN []
                         WHEN json_type((record->'$.demographics.races.race')) = 'ARRAY'
                         THEN json_extract((record->'$.demographics.races.race'), '$[*]')
                         ELSE [(record->'$.demographics.races.race')] END,
                    lambda r: (r->>'race')) END AS races
    FROM {{ ref('stg_people') }}
    WHERE kind = 'student' AND (deleted OR (record->'$.demographics') IS NOT NULL)
) AS p
