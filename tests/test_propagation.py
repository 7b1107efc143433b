"""When a version is "successfully in production": once every destination that should have it has it. A
destination past its ``until`` date receives nothing, so it never holds a version back, whether the CSV
deliveries or the write-back that runs after them settle the version's status."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import dagster as dg
import pyarrow as pa

from passport_pipelines.assets.sis_writeback import sis_writeback
from passport_pipelines.changes.handoff import CommittedVersion
from passport_pipelines.config.loader import load_integration
from passport_pipelines.delivery.deliveries import deliver_version
from passport_pipelines.delivery.propagation import district_day, expired, fully_propagated
from passport_pipelines.jobs.partitions import register_sync_partition, sync_partition_key, sync_partitions
from passport_pipelines.model import entities
from passport_pipelines.model.change_set import ChangeSet, EntityChanges
from passport_pipelines.resources.golden_store import GoldenStoreResource
from passport_pipelines.resources.integrations import IntegrationsResource
from passport_pipelines.sources.google_workspace.connector import GoogleWorkspaceConnector
from passport_pipelines.sources.powerschool.connector import PowerSchoolConnector
from passport_pipelines.store.golden_store import CommitInfo, GoldenStore
from passport_pipelines.store.version_status import IN_PRODUCTION, PROPAGATION_FAILED
from tests.conftest import write_integration

DISTRICT = "lakeside"
YEAR = "2025-2026"


def _commit(store: GoldenStore):
    """A committed version of one user: enough to be delivered and written back."""
    bools = set(entities.boolean_columns("users"))
    values = {"source": "sis", "district": DISTRICT, "school_year": YEAR, "status": "active", "role": "student",
              "sourced_id": "u1", "given_name": "Ada", "family_name": "Lovelace", "content_hash": "a" * 32}
    users = pa.table({**{c: pa.array([values.get(c)], pa.bool_() if c in bools else pa.string())
                         for c in entities.columns("users")},
                      "golden_id": pa.array(["g-u1"]), "change": pa.array(["added"]),
                      "changed_fields": pa.array([None], pa.string())})
    deletes = pa.table({c: pa.array([], pa.string()) for c in ("source", "sourced_id", "golden_id", "reason")})
    return store.commit(ChangeSet({"users": EntityChanges(users, deletes)}),
                        CommitInfo(DISTRICT, YEAR, "r", "full", "test", datetime.now(timezone.utc), None, {}, {}, None))


def _integration(tmp_path, sources=(), destinations=(), **extra):
    """Two CSV destinations: ``lms``, and ``old_lms`` whose last day was yesterday (the district's day: UTC)."""
    yesterday = datetime.now(timezone.utc).date() - timedelta(days=1)
    return load_integration(write_integration(
        tmp_path / "integrations", DISTRICT, [{"name": "sis", "type": "csv", "path": str(tmp_path / "drop")},
                                             *sources],
        destinations=[{"name": "lms", "type": "oneroster-1.1-csv", "folder": str(tmp_path / "lms")},
                      {"name": "old_lms", "type": "oneroster-1.1-csv", "folder": str(tmp_path / "old"),
                       "until": str(yesterday)},
                      *destinations], **extra))


def test_a_destination_expires_after_its_last_day_in_the_districts_time_zone(tmp_path):
    (tmp_path / "integrations").mkdir(exist_ok=True)
    integration = load_integration(write_integration(
        tmp_path / "integrations", DISTRICT, [{"name": "sis", "type": "csv", "path": str(tmp_path / "drop")}],
        schedule={"timezone": "America/Chicago"},
        destinations=[{"name": "lms", "type": "oneroster-1.1-csv", "until": "2026-06-30"}]))
    [lms] = integration.csv_destinations
    # 2026-07-01 03:00 UTC is still June 30 in Chicago; by noon it is July 1 there too.
    assert district_day(integration, datetime(2026, 7, 1, 3, tzinfo=timezone.utc)) == date(2026, 6, 30)
    assert not expired(lms, district_day(integration, datetime(2026, 7, 1, 3, tzinfo=timezone.utc)))
    assert expired(lms, district_day(integration, datetime(2026, 7, 1, 12, tzinfo=timezone.utc)))


def test_a_version_whose_only_missing_destination_has_expired_is_in_production(tmp_path, store_url):
    (tmp_path / "integrations").mkdir(exist_ok=True)
    store = GoldenStore(store_url)
    version = _commit(store)
    integration = _integration(tmp_path)
    store.record_delivery(version.id, "lms", "oneroster-1.1-csv", str(tmp_path / "lms" / "v1.zip"), {"users": 1},
                          "delivered", checksum="0" * 64)
    day = district_day(integration)
    # old_lms has no delivery of this version, not even its expiry: it is past its day all the same.
    assert fully_propagated(store, integration, version.id, day)
    assert not fully_propagated(store, integration, version.id, day - timedelta(days=1))

    # The deliveries settle it so: a retry of lms alone finds the version everywhere it should be.
    outcomes = deliver_version(integration, version, store, only={"lms"})
    assert [o["status"] for o in outcomes] == ["already delivered"]
    assert not any(d["destination"] == "old_lms" for d in store.deliveries(version.id))
    assert store.version(version.id).status == IN_PRODUCTION
    store.dispose()


def test_the_write_back_settles_an_expired_destination_as_the_deliveries_do(tmp_path, store_url):
    (tmp_path / "integrations").mkdir(exist_ok=True)
    store = GoldenStore(store_url)
    version = _commit(store)
    ps = {"name": "ps", "type": "powerschool", "base_url": "https://ps.example.org", "client_id": "id",
          "client_secret": "env:PS_SECRET"}
    yesterday = str(datetime.now(timezone.utc).date() - timedelta(days=1))
    _integration(tmp_path, sources=[ps], sync_mode="two_way", destinations=[
        {"name": "ps_writeback", "type": "powerschool-writeback", "source": "ps", "until": yesterday}])
    # An earlier write-back failed; since then lms got the version and old_lms's last day went by.
    store.record_delivery(version.id, "lms", "oneroster-1.1-csv", str(tmp_path / "lms" / "v1.zip"), {"users": 1},
                          "delivered", checksum="0" * 64)
    store.set_status(version.id, PROPAGATION_FAILED)

    @dg.asset(name="golden_records", partitions_def=sync_partitions)
    def committed() -> CommittedVersion:
        return CommittedVersion.of(version)

    with dg.instance_for_test() as instance:
        register_sync_partition(instance, DISTRICT, YEAR)
        result = dg.materialize(
            [committed, sis_writeback], instance=instance, partition_key=sync_partition_key(DISTRICT, YEAR),
            resources={"golden_store": GoldenStoreResource(database_url=store_url),
                       "integrations": IntegrationsResource(directory=str(tmp_path / "integrations")),
                       "powerschool_connector": PowerSchoolConnector(),
                       "google_connector": GoogleWorkspaceConnector()})
    assert result.success
    assert store.version(version.id).status == IN_PRODUCTION
    store.dispose()
