"""Jobs that approve or reject a held sync from the Launchpad, as ``passport approve`` / ``reject`` do
from a shell. An approval is committed and delivered by the run the ``approval_sensor`` launches."""

import dagster as dg

from passport_pipelines.changes.held_decisions import decide_held_sync
from passport_pipelines.config.approvers import NotAnApprover
from passport_pipelines.config.decided_by import who_decides
from passport_pipelines.config.loader import IntegrationError
from passport_pipelines.resources.golden_store import GoldenStoreResource
from passport_pipelines.resources.integrations import IntegrationsResource
from passport_pipelines.store.sync_holds import DecisionError

APPROVE_SYNC = "approve_sync"
REJECT_SYNC = "reject_sync"


class DecisionConfig(dg.Config):
    district: str
    school_year: str
    version: int  # the held version's number (passport history DISTRICT)
    by: str  # who decides, e.g. an e-mail address: one line of printable text, at most 254 characters;
    # with approvers configured (change_control.approvers, $PASSPORT_APPROVERS), one of them


def _who_decides(by: str) -> str:
    """``by`` as the store keeps it, checked before anything else (a forged line is refused first)."""
    try:
        return who_decides(by)
    except ValueError as exc:
        raise dg.Failure(f"by: {exc}") from None


def decide(config: DecisionConfig, store, integrations: IntegrationsResource, *, approve: bool):
    """The job's decision (``decide_held_sync``); a refusal fails the run with its reason."""
    _who_decides(config.by)
    try:
        return decide_held_sync(store, integrations.load(config.district), config.school_year, config.version,
                                approve=approve, by=config.by)
    except (IntegrationError, NotAnApprover, DecisionError) as exc:
        raise dg.Failure(str(exc)) from None


@dg.op
def approve_held_sync(context: dg.OpExecutionContext, config: DecisionConfig,
                      golden_store: GoldenStoreResource, integrations: IntegrationsResource) -> int:
    """Approve a held version; the approval sensor then launches its commit and delivery. Only a
    named approver of the district may, when it has approvers."""
    version = decide(config, golden_store.store(), integrations, approve=True)
    context.add_output_metadata({"version": version.number, "status": version.status, "by": version.decided_by})
    return version.id


@dg.op
def reject_held_sync(context: dg.OpExecutionContext, config: DecisionConfig,
                     golden_store: GoldenStoreResource, integrations: IntegrationsResource) -> int:
    """Reject a held version: its change set is discarded and the golden store stays as it is. Only a
    named approver of the district may, when it has approvers."""
    version = decide(config, golden_store.store(), integrations, approve=False)
    context.add_output_metadata({"version": version.number, "status": version.status, "by": version.decided_by})
    return version.id


@dg.job(name=APPROVE_SYNC, description="Approve a held sync (district, school year, version, by).")
def approve_sync_job():
    approve_held_sync()


@dg.job(name=REJECT_SYNC, description="Reject a held sync (district, school year, version, by): it is discarded.")
def reject_sync_job():
    reject_held_sync()
