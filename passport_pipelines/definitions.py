"""The Dagster code location of Passport Data Sync."""

from __future__ import annotations

import dagster as dg

from passport_pipelines.assets.api_extracts import api_extracts
from passport_pipelines.assets.duplicate_review_queue import duplicate_review_queue
from passport_pipelines.assets.golden_records import golden_records
from passport_pipelines.assets.normalized_rosters import normalized_rosters
from passport_pipelines.assets.oneroster_exports import oneroster_exports
from passport_pipelines.assets.roster_changes import roster_changes
from passport_pipelines.assets.source_extracts import source_extracts
from passport_pipelines.connectors.registry import default_connectors
from passport_pipelines.jobs import roster_sync_job
from passport_pipelines.ops.connection_checks import test_connection_job
from passport_pipelines.ops.duplicate_review import resolve_duplicate_job, undo_duplicate_decision_job
from passport_pipelines.resources.golden_store import GoldenStoreResource
from passport_pipelines.resources.integrations import IntegrationsResource
from passport_pipelines.sensors.integration_registry import integration_registry

defs = dg.Definitions(
    assets=[*api_extracts, source_extracts, normalized_rosters, roster_changes, golden_records,
            duplicate_review_queue, oneroster_exports],
    jobs=[roster_sync_job, test_connection_job, resolve_duplicate_job, undo_duplicate_decision_job],
    sensors=[integration_registry],
    resources={"golden_store": GoldenStoreResource(), "integrations": IntegrationsResource(),
               **default_connectors()},
)
