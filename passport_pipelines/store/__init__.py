"""The golden store: committed records, versions, deliveries, holds and duplicate reviews in SQL (SQLite or
PostgreSQL; tables in ``schema``, Alembic ``migrations/``), the bulk Arrow path (``arrow_connection``),
version statuses, stuck versions, notification claims, and the columnar snapshot each commit writes for
the deliveries (``golden_snapshots``). It sits under the stages, so any of them may read it.
May import config, model, artifacts and sql (and settings, file_modes); never sources or a stage."""
