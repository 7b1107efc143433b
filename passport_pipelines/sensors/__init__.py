"""The Dagster sensors: ``integration_registry`` (districts and school years as partitions),
``approval_sensor`` (the commit run of an approved held sync), ``new_drops`` (a sync per new CSV drop), the
run-status sensors of ``notifications`` and ``abandoned_runs`` (ends runs whose process was killed).
May import jobs and every layer below it; never assets (same layer), definitions, rest_provider or cli."""
