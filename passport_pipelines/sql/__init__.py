"""SQL helpers every stage shares, so they sit under all of them: DuckDB connections set up alike (``engine``,
with the value parsers of ``macros.sql``), names and values quoted in generated SQL (``quoting``), what the
rules call blank (``blank_values``), and the template, regex and date-format languages of rules
(``patterns``). The lowest layer of the package: may import only settings and file_modes."""
