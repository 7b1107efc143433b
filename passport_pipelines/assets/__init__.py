"""The Dagster assets of a sync, one per stage (``integration_settings``, the ``<kind>_extracts``,
``source_extracts``, ``normalized_rosters``, ``roster_changes``, ``golden_records``, ``duplicate_review_queue``,
``oneroster_exports``, ``sis_writeback``), with their checks and run metadata. Thin Dagster wiring: each asset
calls the module of its stage (validation, normalize, changes, delivery, ...) and reports what it did.
May import jobs and every layer below it; never sensors (same layer), definitions, rest_provider or cli."""
