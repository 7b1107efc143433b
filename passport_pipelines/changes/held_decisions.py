"""Deciding a held sync: approving it (its commit run then applies it) or rejecting it (its change set is
discarded and the golden store stays as it was).

The one implementation behind ``passport approve`` / ``reject`` and the Launchpad's ``approve_sync`` /
``reject_sync`` jobs; each of those only loads the integration its own way and reports a refusal its own way.
"""

from __future__ import annotations

from passport_pipelines.changes.held_changes import discard
from passport_pipelines.config.approvers import require_approver
from passport_pipelines.config.integration import Integration
from passport_pipelines.store.golden_store import GoldenStore, Version
from passport_pipelines.store.sync_holds import SyncHolds


def decide_held_sync(store: GoldenStore, integration: Integration, school_year: str, number: int, *,
                     approve: bool, by: str) -> Version:
    """Approve or reject held version ``number`` of the integration's district and ``school_year``, decided
    by ``by``; returns the version as decided. Only one of the district's approvers may, when it has any
    (else ``NotAnApprover``, and nothing is decided), and only a held version is decided (else
    ``DecisionError``). A rejected version's held change set is deleted."""
    require_approver(integration, by, f"{'approve' if approve else 'reject'} version {number}")
    holds = SyncHolds(store)
    # Read before the decision: rejecting clears the version's pointer to its held change set.
    held = holds.find(integration.district, school_year, number).held_changes
    version = holds.decide(integration.district, school_year, number, approve=approve, by=by)
    if not approve:
        discard(held)
    return version

