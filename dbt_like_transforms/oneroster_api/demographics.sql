-- Keyed by the user's sourcedId. Flags may come as JSON booleans or as "true"/"false" strings.
SELECT
    record->>'$.sourcedId'                          AS sourced_id,
    or_status(record->>'$.status')                  AS status,
    or_timestamp(record->>'$.dateLastModified')     AS date_last_modified,
    or_json_metadata(record)                        AS extensions,
    or_date(record->>'$.birthDate')                 AS birth_date,
    or_enum(record->>'$.sex', ['male', 'female', 'unspecified', 'other']) AS sex,
    or_bool(record->>'$.americanIndianOrAlaskaNative')          AS american_indian_or_alaska_native,
    or_bool(record->>'$.asian')                                 AS asian,
    or_bool(record->>'$.blackOrAfricanAmerican')                AS black_or_african_american,
    or_bool(record->>'$.nativeHawaiianOrOtherPacificIslander')  AS native_hawaiian_or_other_pacific_islander,
    or_bool(record->>'$.white')                                 AS white,
    or_bool(record->>'$.demographicRaceTwoOrMoreRaces')         AS two_or_more_races,
    or_bool(record->>'$.hispanicOrLatinoEthnicity')             AS hispanic_or_latino_ethnicity,
    nullif(record->>'$.countryOfBirthCode', '')                 AS country_of_birth_code,
    nullif(record->>'$.stateOfBirthAbbreviation', '')           AS state_of_birth_abbreviation,
    nullif(record->>'$.cityOfBirth', '')                        AS city_of_birth,
    nullif(record->>'$.publicSchoolResidenceStatus', '')        AS public_school_residence_status
FROM {{ source('oneroster_api', 'demographics') }}
