"""Passport Data Sync: a roster data hub for K-12 districts, orchestrated by Dagster.

Folders follow the flow of a sync (sources -> validation -> normalize -> reconciliation -> changes ->
delivery) over the base layers store, config, model, artifacts and sql; imports run down that flow
(docs/architecture.md, "Layout: folders that follow the data")."""

from passport_pipelines.file_modes import narrow_umask

# Every process that loads the hub (the CLI, the Dagster code server, run workers) writes files
# holding student data: only its own user may read them (see file_modes).
narrow_umask()
