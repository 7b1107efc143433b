-- Fields of the source's core_fields tables (/ws/schema/table: core-field tables such as
-- studentcorefields, or any extension table), as one JSON object per record they describe, keyed
-- "<table>.<field>" as extension fields are. `of` is whose fields they are (student, staff, contact),
-- `key` the column holding that record's id (a student's DCID, a staff member's users DCID, a
-- contact's person id); blank fields are left out.
WITH rows AS (
    SELECT c.of, c.key, c."table", json_extract(c.record, '$.tables.' || c."table") AS obj
    FROM {{ source('powerschool', 'core_fields') }} AS c
), fields AS (
    SELECT of, "table", json_extract_string(obj, '$.' || key) AS record_id, obj, unnest(json_keys(obj)) AS field, key
    FROM rows
)
SELECT of, record_id,
       CAST(json_group_object("table" || '.' || field, json_extract_string(obj, '$.' || field)) AS VARCHAR) AS extensions
FROM fields
WHERE field <> key AND record_id IS NOT NULL AND json_extract_string(obj, '$.' || field) IS NOT NULL
GROUP BY of, record_id
