-- Students' demographics: gender M/F, birth date, and the ethnicity_race expansion. Races are
-- district race codes mapped to the federal categories (I, A, B, P, W as PowerSchool ships them;
-- a district with other codes overrides this model); two or more races is two or more codes;
-- federal_ethnicity is the Hispanic/Latino flag. Birthplace is not in PowerSchool's student resource.
WITH s AS (
    SELECT id, record, record->'$.ethnicity_race' AS er,
           list_transform(from_json(CASE json_type(record->'$.ethnicity_race.races') WHEN 'ARRAY' THEN record->'$.ethnicity_race.races'
                                         WHEN 'OBJECT' THEN json_array(record->'$.ethnicity_race.races')
                                         ELSE CAST('[]' AS JSON) END, '["json"]'),
                          r -> upper(r->>'$.district_race_code')) AS codes
    FROM {{ ref('stg_students') }}
)
SELECT
    'student-' || id                                           AS sourced_id,
    'active'                                                   AS status,
    CAST(NULL AS VARCHAR)                                      AS date_last_modified,
    CAST(NULL AS VARCHAR)                                      AS extensions,
    or_date(record->>'$.demographics.birth_date')              AS birth_date,
    CASE upper(record->>'$.demographics.gender') WHEN 'M' THEN 'male' WHEN 'F' THEN 'female' END AS sex,
    CASE WHEN er IS NOT NULL THEN list_contains(codes, 'I') END AS american_indian_or_alaska_native,
    CASE WHEN er IS NOT NULL THEN list_contains(codes, 'A') END AS asian,
    CASE WHEN er IS NOT NULL THEN list_contains(codes, 'B') END AS black_or_african_american,
    CASE WHEN er IS NOT NULL THEN list_contains(codes, 'P') END AS native_hawaiian_or_other_pacific_islander,
    CASE WHEN er IS NOT NULL THEN list_contains(codes, 'W') END AS white,
    CASE WHEN er IS NOT NULL THEN len(list_distinct(codes)) >= 2 END AS two_or_more_races,
    CASE lower(er->>'$.federal_ethnicity') WHEN 'true' THEN true WHEN 'yes' THEN true WHEN '1' THEN true
         WHEN 'false' THEN false WHEN 'no' THEN false WHEN '0' THEN false END AS hispanic_or_latino_ethnicity,
    CAST(NULL AS VARCHAR)                                      AS country_of_birth_code,
    CAST(NULL AS VARCHAR)                                      AS state_of_birth_abbreviation,
    CAST(NULL AS VARCHAR)                                      AS city_of_birth,
    CAST(NULL AS VARCHAR)                                      AS public_school_residence_status
FROM s
WHERE (record->'$.demographics') IS NOT NULL OR er IS NOT NULL
