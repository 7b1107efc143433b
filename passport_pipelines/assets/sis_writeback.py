"""Two-way write-back: the committed golden values PowerSchool accepts, written back through its API,
and the Google Workspace accounts the golden users call for (docs/writeback.md).

Runs after the OneRoster exports of the same version, so that the version's status is decided by
every delivery: PowerSchool failing as a whole (down, refused credentials) fails this asset and marks
the version ``propagation failed``; records PowerSchool refuses one by one do not, and are listed in
the metadata and in the ``writeback_results`` table, to be retried by the next write-back.
"""

from datetime import datetime, timezone

import dagster as dg

from passport_pipelines.assets.sync_outcome import tag_outcome
from passport_pipelines.changes.handoff import CommittedVersion
from passport_pipelines.changes.hold_gate import check_deliverable
from passport_pipelines.config.destinations import GoogleWorkspaceDestination, TwoWayDestination
from passport_pipelines.config.integration import Integration
from passport_pipelines.delivery.propagation import district_day, expired, fully_propagated
from passport_pipelines.delivery.writeback import report
from passport_pipelines.delivery.writeback.client import WritebackClient
from passport_pipelines.delivery.writeback.google.client import GoogleDirectoryWriter
from passport_pipelines.delivery.writeback.google.run import write_back_google
from passport_pipelines.delivery.writeback.records import WritebackOutcome
from passport_pipelines.delivery.writeback.run import write_back
from passport_pipelines.jobs.asset_groups import WRITEBACK, sync_asset
from passport_pipelines.jobs.partitions import partition_of, sync_partitions
from passport_pipelines.resources.golden_store import GoldenStoreResource
from passport_pipelines.resources.integrations import IntegrationsResource
from passport_pipelines.sources.google_workspace.connector import GoogleWorkspaceConnector
from passport_pipelines.sources.powerschool.connector import PowerSchoolConnector
from passport_pipelines.store.golden_store import Version
from passport_pipelines.store.version_status import IN_PRODUCTION, PROPAGATION_FAILED

_PROBLEMS_SCHEMA = dg.TableSchema(columns=[
    dg.TableColumn("destination", "string"), dg.TableColumn("entity", "string"), dg.TableColumn("action", "string"),
    dg.TableColumn("golden_id", "string"), dg.TableColumn("powerschool_id", "string"),
    dg.TableColumn("status", "string"), dg.TableColumn("attempts", "int"), dg.TableColumn("rule", "string"),
    dg.TableColumn("reason", "string"),
])


class WritebackFailed(dg.Failure):
    """PowerSchool failed as a whole: the version is 'propagation failed'; nothing is lost."""


def _problems_table(outcomes: list[WritebackOutcome]) -> dg.MetadataValue:
    rows = [{"destination": o.destination, **p} for o in outcomes for p in report.problems(o.rows)]
    return dg.MetadataValue.table([dg.TableRecord(r) for r in rows[:report.PROBLEM_ROWS]], schema=_PROBLEMS_SCHEMA)


def _metadata(version: Version, outcomes: list[WritebackOutcome], not_run: dict[str, str]) -> dict:
    all_rows = [r for o in outcomes for r in o.rows]
    return {
        "version": version.number,
        **{f"records_{status}": n for status, n in report.totals(all_rows).items()},
        "counts": dg.MetadataValue.json({o.destination: report.counts(o.rows) for o in outcomes}),
        "skipped_by_rule": dg.MetadataValue.json(report.skipped_by_rule(all_rows)),
        "problems": _problems_table(outcomes),
        "requests": sum(o.requests for o in outcomes),
        **({"not_run": dg.MetadataValue.json(not_run)} if not_run else {}),
    }


def writeback_destinations(integration: Integration, now: datetime) -> tuple[list[TwoWayDestination], dict[str, str]]:
    """The district's write-back destinations (PowerSchool, Google Workspace) still due on ``now`` (in
    the schedule's time zone), and why the others are not written to."""
    today = district_day(integration, now)
    all_ = integration.two_way_destinations
    not_run = {d.name: f"expired: nothing is written back after {d.until}" for d in all_ if expired(d, today)}
    return [d for d in all_ if d.name not in not_run], not_run


@dg.asset(**sync_asset(WRITEBACK), partitions_def=sync_partitions, kinds={"api"}, pool="sis_powerschool",
          deps=["oneroster_exports"])
def sis_writeback(context: dg.AssetExecutionContext, golden_records: CommittedVersion, golden_store: GoldenStoreResource,
                  integrations: IntegrationsResource, powerschool_connector: PowerSchoolConnector,
                  google_connector: GoogleWorkspaceConnector):
    """Changed golden values written back (``sync_mode: two_way``): into the district's PowerSchool
    (``powerschool-writeback``: students updated and created through ``POST /ws/v1/student``, guardians
    through the contacts API) and its Google Workspace (``google-workspace``: accounts created, updated
    and suspended, never deleted, through the Directory API). Each system's rules are enforced before
    sending. Per-record results are stored and shown here; refused records are retried by the next
    write-back."""
    district, _ = partition_of(context)
    integration = integrations.load(district)
    store = golden_store.store()
    version = store.version(golden_records.id)
    now = datetime.now(timezone.utc)
    destinations, not_run = writeback_destinations(integration, now)
    if not destinations and not not_run:
        return dg.Output({"version": version.number, "destinations": []},
                         metadata={"version": version.number, "skipped": "no powerschool-writeback destination"})
    latest = store.latest_version(district, version.school_year)
    if latest is not None and latest.id != version.id:
        # The plan is made from the golden data now on record: a later version's write-back carries it.
        return dg.Output({"version": version.number, "destinations": []},
                         metadata={"version": version.number,
                                   "skipped": f"version {latest.number} is newer: its write-back sends what is left"})
    check_deliverable(store, version)
    for dest in integration.destinations:
        if dest.name in not_run and not any(d["destination"] == dest.name and d["status"] == "expired"
                                            for d in store.deliveries(version.id)):
            # In the version's history: this destination was due no write-back.
            store.record_delivery(version.id, dest.name, dest.type, None, {}, "expired", error=not_run[dest.name])
    outcomes: list[WritebackOutcome] = []
    try:
        for dest in destinations:
            source = integration.source(dest.source)
            if isinstance(dest, GoogleWorkspaceDestination):
                outcome = write_back_google(
                    store, integration, dest, version,
                    lambda source=source: GoogleDirectoryWriter.open(google_connector, source))
            else:
                outcome = write_back(store, integration, dest, version,
                                     lambda source=source: WritebackClient.open(powerschool_connector, source))
            outcomes.append(outcome)
            store.record_delivery(version.id, dest.name, dest.type, None, report.totals(outcome.rows),
                                  "delivered" if outcome.ok else "failed", error=outcome.failure_kind)
            context.log.info(report.summary_line(dest.name, outcome.rows))
    except Exception:
        store.set_status(version.id, PROPAGATION_FAILED)
        raise
    failed = [o for o in outcomes if not o.ok]
    if failed:
        store.set_status(version.id, PROPAGATION_FAILED)
        tag_outcome(context, PROPAGATION_FAILED, version=version.number)
        raise WritebackFailed(
            description="A two-way destination failed as a whole during the write-back: "
                        + "; ".join(f"{o.destination}: {o.unavailable}" for o in failed)
                        + f". Version {version.number} is {PROPAGATION_FAILED}; the records not sent are listed as "
                          "failed and go out with the next write-back.",
            metadata=_metadata(version, outcomes, not_run))
    current = store.version(version.id)
    if current.status == PROPAGATION_FAILED and fully_propagated(store, integration, current.id,
                                                                 district_day(integration, now)):
        # An earlier write-back of this version failed; this one delivered what it had left.
        store.set_status(version.id, IN_PRODUCTION)
    tag_outcome(context, store.version(version.id).status, version=version.number)
    return dg.Output(
        {"version": version.number,
         "destinations": [{"destination": o.destination, "totals": report.totals(o.rows),
                           "counts": report.counts(o.rows), "skipped_by_rule": report.skipped_by_rule(o.rows)}
                          for o in outcomes],
         "not_run": not_run},
        metadata=_metadata(version, outcomes, not_run))
