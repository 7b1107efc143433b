"""The Dagster jobs and what a run needs around them: the sync jobs (``sync_jobs``), partitions, the
``passport/*`` run tags, asset groups, owners and stage tags (``asset_groups``), Launchpad jobs with config
(``ops/``), schedules (``scheduling/``), and run-level helpers: ``run_summary``, ``run_liveness``,
``district_lock`` and ``sync_run_notices`` (the one notification of each sync run).
May import resources and the layers below it; never assets or sensors, which sit above it and import it."""
