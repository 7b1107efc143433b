-- Value parsers shared by validation and the SQL models, so that what validation accepts is
-- exactly what normalization can read. Each returns NULL for a value it cannot read.

-- ISO dates, plus the variants real exports contain (a timestamp, US month/day/year).
CREATE OR REPLACE MACRO or_date(x) AS
  strftime(try_strptime(x, ['%Y-%m-%d', '%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%dT%H:%M:%S.%fZ',
                            '%Y-%m-%dT%H:%M:%SZ', '%m/%d/%Y']), '%Y-%m-%d');

-- UTC timestamps as OneRoster writes them: 2025-08-01T12:00:00.000Z. ISO 8601 allows an offset instead
-- of Z (2025-08-01T08:00:00-04:00): such a value is read as the UTC instant it names. (COALESCE tries the
-- offset forms only on the rows the common ones left unread.)
CREATE OR REPLACE MACRO or_timestamp(x) AS
  coalesce(
    strftime(try_strptime(x, ['%Y-%m-%dT%H:%M:%S.%fZ', '%Y-%m-%dT%H:%M:%SZ', '%Y-%m-%dT%H:%M:%S.%f',
                              '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d %H:%M:%S', '%Y-%m-%d']), '%Y-%m-%dT%H:%M:%S.%gZ'),
    strftime(timezone('UTC', try_strptime(x, ['%Y-%m-%dT%H:%M:%S%z', '%Y-%m-%dT%H:%M:%S.%f%z'])),
             '%Y-%m-%dT%H:%M:%S.%gZ'));

CREATE OR REPLACE MACRO or_bool(x) AS
  CASE lower(x) WHEN 'true' THEN true WHEN 'false' THEN false ELSE NULL END;

-- The allowed value spelled as the spec spells it, whatever the case in the file.
CREATE OR REPLACE MACRO or_enum(x, allowed) AS
  CASE WHEN x IS NULL THEN NULL
       WHEN list_contains(allowed, x) THEN x  -- the common case, without a per-row lambda
       ELSE list_filter(allowed, lambda v: lower(v) = lower(x))[1] END;

-- A list cell ("09, 10,11") as a clean comma-joined list ("09,10,11").
CREATE OR REPLACE MACRO or_list(x) AS
  nullif(trim(regexp_replace(regexp_replace(trim(x), '\s*,\s*', ',', 'g'), ',{2,}', ',', 'g'), ','), '');

-- Row status: blank in bulk files means active; OneRoster 1.0's "inactive" means deleted.
CREATE OR REPLACE MACRO or_status(x) AS
  CASE lower(coalesce(x, 'active')) WHEN 'inactive' THEN 'tobedeleted' ELSE lower(coalesce(x, 'active')) END;

-- One id from a {type:id} list, e.g. the state id from userIds.
CREATE OR REPLACE MACRO or_user_id(x, id_type) AS
  nullif(regexp_extract(coalesce(x, ''), '\{\s*' || id_type || '\s*:\s*([^}]*?)\s*\}', 1, 'i'), '');

-- A OneRoster REST record's extension object (``metadata``) as JSON text; NULL when absent or empty.
CREATE OR REPLACE MACRO or_json_metadata(record) AS
  CASE WHEN json_type(record->'$.metadata') = 'OBJECT' AND CAST(record->'$.metadata' AS VARCHAR) <> '{}'
       THEN CAST(record->'$.metadata' AS VARCHAR) END;

-- A number as one spelling whatever the source wrote ("87.50", JSON 92.0): "87.5", "92"; a value that is
-- no number (which CSV validation refuses) is kept as it is.
CREATE OR REPLACE MACRO or_number_text(d) AS
  CASE WHEN d = trunc(d) AND abs(d) < 1e15 THEN CAST(CAST(d AS BIGINT) AS VARCHAR) ELSE CAST(d AS VARCHAR) END;
CREATE OR REPLACE MACRO or_number(x) AS
  coalesce(or_number_text(TRY_CAST(trim(CAST(x AS VARCHAR)) AS DOUBLE)), nullif(trim(CAST(x AS VARCHAR)), ''));
