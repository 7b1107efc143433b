"""Stage 2: each source's tables mapped into the canonical model. ``rosters`` runs a source through its SQL
models (``sql_models``, the dbt-like runner; ``csv_drops`` for a CSV drop) and its integration rules
(``rules/``); ``schema_failures`` and ``school_year_check`` check the result, ``row_accounting`` accounts for
every row, ``data_errors`` retells DuckDB's value errors without the value.
May import validation and the layers below it; never reconciliation, changes or anything above."""
