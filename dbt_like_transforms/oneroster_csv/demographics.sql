SELECT
    sourcedId                                   AS sourced_id,
    or_status(status)                           AS status,
    or_timestamp(dateLastModified)              AS date_last_modified,
    {{ extensions('demographics') }}            AS extensions,
    or_date(birthDate)                          AS birth_date,
    or_enum(sex, ['male', 'female', 'unspecified', 'other']) AS sex,
    or_bool(americanIndianOrAlaskaNative)       AS american_indian_or_alaska_native,
    or_bool(asian)                              AS asian,
    or_bool(blackOrAfricanAmerican)             AS black_or_african_american,
    or_bool(nativeHawaiianOrOtherPacificIslander) AS native_hawaiian_or_other_pacific_islander,
    or_bool(white)                              AS white,
    or_bool(demographicRaceTwoOrMoreRaces)      AS two_or_more_races,
    or_bool(hispanicOrLatinoEthnicity)          AS hispanic_or_latino_ethnicity,
    countryOfBirthCode                          AS country_of_birth_code,
    stateOfBirthAbbreviation                    AS state_of_birth_abbreviation,
    cityOfBirth                                 AS city_of_birth,
    publicSchoolResidenceStatus                 AS public_school_residence_status
FROM {{ source('oneroster_csv', 'demographics') }}
