-- Guardians from the student record, for a district that does not use the Contact Module
-- (contacts: student_fields): the Mother and Father name fields, the Guardian name fields, the
-- guardian e-mail field, and the mother's and father's day phones (PowerSchool's Students table).
--
-- Names: a comma always means "Last, First Middle" ("Okafor, Ada Marie": Ada, Marie, Okafor). Without
-- one, the source's contact_name_format says the order: last_first reads "Okafor Ada Marie" the same
-- way; first_last reads "Ada Marie Okafor" as first name, middle names, last name. A name that gives no
-- first and last name is left out (a single word), as is a Father field that repeats the Mother field.
-- E-mail: one address is every guardian's; several (separated by commas, semicolons or spaces) go one
-- each, in order, to the mother, the father and the guardian the record names.
-- Ids: student-<dcid>-mother|father|guardian; a parent of two children is two records here, which the
-- district's domains of uniqueness can make one person.
WITH settings AS (
    SELECT coalesce(any_value(record->>'$.contact_name_format'), 'last_first') AS name_format
    FROM {{ source('powerschool', 'contact_settings') }}
), p AS (
    SELECT r->>'$.dcid' AS student_id, r
    FROM (SELECT record->'$.tables.students' AS r FROM {{ source('powerschool', 'student_parents') }})
    SEMI JOIN {{ ref('stg_students') }} AS s ON s.id = (r->>'$.dcid')
), parents AS (
    SELECT student_id, r, 'mother' AS which, 1 AS pos, nullif(trim(r->>'$.mother'), '') AS full_name,
           nullif(trim(r->>'$.motherdayphone'), '') AS phone
    FROM p
    UNION ALL
    SELECT student_id, r, 'father', 2, nullif(trim(r->>'$.father'), ''), nullif(trim(r->>'$.fatherdayphone'), '')
    FROM p
    WHERE nullif(trim(r->>'$.father'), '') IS DISTINCT FROM nullif(trim(r->>'$.mother'), '')
), words AS (
    SELECT *, contains(full_name, ',') AS comma,
           string_split(regexp_replace(trim(CASE WHEN contains(full_name, ',')
                                                 THEN substr(full_name, strpos(full_name, ',') + 1)
                                                 ELSE full_name END), '\s+', ' ', 'g'), ' ') AS w
    FROM parents
    WHERE full_name IS NOT NULL
), named AS (
    SELECT student_id, r, which, pos, phone,
           nullif(CASE WHEN comma THEN w[1] WHEN s.name_format = 'last_first' THEN w[2] ELSE w[1] END, '') AS given_name,
           nullif(array_to_string(CASE WHEN comma THEN w[2:] WHEN s.name_format = 'last_first' THEN w[3:]
                                       ELSE w[2:-2] END, ' '), '') AS middle_name,
           nullif(CASE WHEN comma THEN trim(split_part(full_name, ',', 1))
                       WHEN s.name_format = 'last_first' THEN w[1]
                       WHEN len(w) > 1 THEN w[-1] END, '') AS family_name
    FROM words, settings AS s
    UNION ALL
    SELECT student_id, r, 'guardian', 3, CAST(NULL AS VARCHAR),
           nullif(trim(r->>'$.guardian_fn'), ''), nullif(trim(r->>'$.guardian_mn'), ''),
           nullif(trim(r->>'$.guardian_ln'), '')
    FROM p
), present AS (
    SELECT *, row_number() OVER (PARTITION BY student_id ORDER BY pos) AS k,
           list_filter(string_split(regexp_replace(trim(coalesce(r->>'$.guardianemail', '')), '[,;\s]+', ',', 'g'), ','),
                       e -> e <> '') AS emails
    FROM named
    WHERE given_name IS NOT NULL AND family_name IS NOT NULL
)
SELECT
    g.student_id,
    g.which,
    g.given_name,
    g.middle_name,
    g.family_name,
    CASE WHEN len(g.emails) = 1 THEN g.emails[1] ELSE g.emails[g.k] END AS email,
    g.phone,
    CASE g.which WHEN 'guardian' THEN 'guardian' ELSE 'parent' END       AS role,
    s.school_id
FROM present AS g
JOIN {{ ref('stg_students') }} AS s ON s.id = g.student_id
