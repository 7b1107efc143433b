"""Jobs that decide duplicate cases from the Launchpad, as ``passport duplicates`` does from a shell."""

import dagster as dg

from passport_pipelines.config.approvers import NotAnApprover, require_approver
from passport_pipelines.config.decided_by import who_decides
from passport_pipelines.config.loader import IntegrationError
from passport_pipelines.resources.golden_store import GoldenStoreResource
from passport_pipelines.resources.integrations import IntegrationsResource
from passport_pipelines.store.duplicate_review import DuplicateReview, RecordRef, ReviewError

RESOLVE_DUPLICATE = "resolve_duplicate"
UNDO_DUPLICATE_DECISION = "undo_duplicate_decision"


class ResolveConfig(dg.Config):
    case: int
    primary: str  # SOURCE:SOURCED_ID
    secondary: str  # delete | ignore | create-new
    take: list[str] = []
    by: str


class UndoConfig(dg.Config):
    decision: int
    by: str


def _who_decides(by: str) -> None:
    """A forged or blank ``by`` is refused before anything is looked up."""
    try:
        who_decides(by)
    except ValueError as exc:
        raise dg.Failure(f"by: {exc}") from None


def _check_approver(integrations: IntegrationsResource, district: str, by: str, action: str) -> None:
    try:
        require_approver(integrations.load(district), by, action)
    except (IntegrationError, NotAnApprover) as exc:
        raise dg.Failure(str(exc)) from None


@dg.op
def resolve_case(context: dg.OpExecutionContext, config: ResolveConfig, golden_store: GoldenStoreResource,
                 integrations: IntegrationsResource) -> int:
    """Resolve one case of the review queue; the decision is appended to the log. Only a named
    approver of the district may, when it has approvers."""
    _who_decides(config.by)
    review = DuplicateReview(golden_store.store())
    try:
        district = review.case(config.case)["district"]
    except ReviewError as exc:
        raise dg.Failure(str(exc)) from None
    _check_approver(integrations, district, config.by, f"resolve duplicate case {config.case}")
    try:
        decision = review.resolve(
            config.case, primary=RecordRef.parse(config.primary), secondary_action=config.secondary,
            take=config.take, by=config.by)
    except ReviewError as exc:
        raise dg.Failure(str(exc)) from None
    context.add_output_metadata({"decision": decision, "case": config.case, "secondary": config.secondary})
    return decision


@dg.op
def undo_decision(context: dg.OpExecutionContext, config: UndoConfig, golden_store: GoldenStoreResource,
                  integrations: IntegrationsResource) -> int:
    """Undo a merge or a resolution; the undo is appended to the log. Only a named approver of the
    district may, when it has approvers."""
    _who_decides(config.by)
    review = DuplicateReview(golden_store.store())
    try:
        district = review.decision_district(config.decision)
    except ReviewError as exc:
        raise dg.Failure(str(exc)) from None
    _check_approver(integrations, district, config.by, f"undo duplicate decision {config.decision}")
    try:
        undo_id = review.undo(config.decision, by=config.by)
    except ReviewError as exc:
        raise dg.Failure(str(exc)) from None
    context.add_output_metadata({"undone": config.decision, "log_entry": undo_id})
    return undo_id


@dg.job(name=RESOLVE_DUPLICATE, description="Resolve a duplicate case: primary, fields to take, and "
                                            "delete | ignore | create-new for the secondary.")
def resolve_duplicate_job():
    resolve_case()


@dg.job(name=UNDO_DUPLICATE_DECISION, description="Undo a duplicate decision (a merge or a resolution).")
def undo_duplicate_decision_job():
    undo_decision()
