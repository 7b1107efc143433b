-- Staff extension-table fields (staff_extensions: extensions= on the staff resource) as one JSON
-- object per staff member, keyed "<table>.<field>", as stg_student_extensions does for students.
SELECT id, CAST(json_group_object(table_name || '.' || (f->>'$.name'), f->>'$.value') AS VARCHAR) AS extensions
FROM (
    SELECT t.id, t.ext->>'$.name' AS table_name,
           unnest(from_json(CASE json_type(t.ext->'$._field') WHEN 'ARRAY' THEN t.ext->'$._field'
                                 WHEN 'OBJECT' THEN json_array(t.ext->'$._field') ELSE CAST('[]' AS JSON) END,
                            '["json"]')) AS f
    FROM (
        SELECT id,
               unnest(from_json(CASE json_type(record->'$._extension_data._table_extension')
                                     WHEN 'ARRAY' THEN record->'$._extension_data._table_extension'
                                     WHEN 'OBJECT' THEN json_array(record->'$._extension_data._table_extension')
                                     ELSE CAST('[]' AS JSON) END, '["json"]')) AS ext
        FROM {{ ref('stg_staff') }}
    ) AS t
) AS fields
WHERE (f->>'$.name') IS NOT NULL
GROUP BY id
