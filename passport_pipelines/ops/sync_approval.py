"""Jobs that approve or reject a held sync from the Launchpad, as ``passport approve`` / ``reject`` do
from a shell. An approval is committed and delivered by the run the ``approval_sensor`` launches."""

import dagster as dg

from passport_pipelines.resources.golden_store import GoldenStoreResource
from passport_pipelines.store.sync_holds import DecisionError, SyncHolds
from passport_pipelines.sync.held_changes import discard

APPROVE_SYNC = "approve_sync"
REJECT_SYNC = "reject_sync"


class DecisionConfig(dg.Config):
    district: str
    school_year: str
    version: int  # the held version's number (passport history DISTRICT)
    by: str  # who decides, e.g. an e-mail address: one line of printable text, at most 254 characters


def decide(config: DecisionConfig, store, *, approve: bool):
    try:
        version = SyncHolds(store).decide(config.district, config.school_year, config.version, approve=approve,
                                          by=config.by)
    except DecisionError as exc:
        raise dg.Failure(str(exc)) from None
    return version


@dg.op
def approve_held_sync(context: dg.OpExecutionContext, config: DecisionConfig,
                      golden_store: GoldenStoreResource) -> int:
    """Approve a held version; the approval sensor then launches its commit and delivery."""
    version = decide(config, golden_store.store(), approve=True)
    context.add_output_metadata({"version": version.number, "status": version.status, "by": version.decided_by})
    return version.id


@dg.op
def reject_held_sync(context: dg.OpExecutionContext, config: DecisionConfig,
                     golden_store: GoldenStoreResource) -> int:
    """Reject a held version: its change set is discarded and the golden store stays as it is."""
    store = golden_store.store()
    held = SyncHolds(store).find(config.district, config.school_year, config.version).held_changes
    version = decide(config, store, approve=False)
    discard(held)
    context.add_output_metadata({"version": version.number, "status": version.status, "by": version.decided_by})
    return version.id


@dg.job(name=APPROVE_SYNC, description="Approve a held sync (district, school year, version, by).")
def approve_sync_job():
    approve_held_sync()


@dg.job(name=REJECT_SYNC, description="Reject a held sync (district, school year, version, by): it is discarded.")
def reject_sync_job():
    reject_held_sync()
