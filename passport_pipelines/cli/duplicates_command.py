"""passport duplicates: the review queue of possible duplicates (people, and the orgs, academic sessions,
courses and classes a domain of uniqueness compares), and decisions on it."""

from __future__ import annotations

import getpass

import click

from passport_pipelines import settings
from passport_pipelines.cli.decider_option import checked_decider
from passport_pipelines.cli.output import emit_json, fail
from passport_pipelines.config.approvers import NotAnApprover, require_approver
from passport_pipelines.config.loader import IntegrationError, load_district
from passport_pipelines.store.duplicate_review import (
    SECONDARY_ACTIONS,
    DuplicateReview,
    RecordRef,
    ReviewError,
    domain_label,
)
from passport_pipelines.store.golden_store import GoldenStore


def _review() -> DuplicateReview:
    return DuplicateReview(GoldenStore(settings.database_url()))


def _who(by: str | None) -> str:
    return by or getpass.getuser()


def _check_approver(district: str, by: str, action: str) -> None:
    """Refuse (exit 1) unless ``by`` may decide for ``district``."""
    try:
        require_approver(load_district(district), by, action)
    except (IntegrationError, NotAnApprover) as exc:
        fail(str(exc))


@click.group("duplicates")
def duplicates() -> None:
    """Review possible duplicates (people; orgs, sessions, courses, classes): list cases, resolve, undo."""


@duplicates.command("list")
@click.argument("district")
@click.option("--school-year", help="Only this school year.")
@click.option("--all", "show_all", is_flag=True, help="Resolved cases too, not only pending ones.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_cases(district: str, school_year: str | None, show_all: bool, as_json: bool) -> None:
    """DISTRICT's cases, strongest first. Records are named SOURCE:SOURCED_ID; no values are shown."""
    cases = _review().cases(district, school_year, status=None if show_all else "pending")
    if as_json:
        emit_json({"district": district, "cases": cases})
        return
    if not cases:
        click.echo(f"no {'' if show_all else 'pending '}duplicate cases for {district}")
        return
    for c in cases:
        left = RecordRef(c["left_source"], c["left_sourced_id"])
        right = RecordRef(c["right_source"], c["right_sourced_id"])
        click.echo(f"case {c['id']:<6} {c['status']:9} {c['school_year']} {left} ~ {right}  "
                   f"domain {domain_label(c['entity'], c['domain'])} "
                   f"score {c['score']:.3f} agreed {','.join(c['agreed']) or '-'}  {c['reason']}")


@duplicates.command("resolve")
@click.argument("case_id", type=int)
@click.option("--primary", required=True, help="The record that stays, as SOURCE:SOURCED_ID.")
@click.option("--take", default="", help="Fields copied from the secondary into the golden record, comma-separated.")
@click.option("--secondary", "secondary_action", required=True, type=click.Choice(SECONDARY_ACTIONS),
              help="delete: may come back with a later sync; ignore: redundant, never counted again; "
                   "create-new: not a duplicate, never offered again.")
@click.option("--by", callback=checked_decider, help="Who decides (e-mail), one line; default: the OS user.")
def resolve(case_id: int, primary: str, take: str, secondary_action: str, by: str | None) -> None:
    """Resolve CASE_ID: keep --primary, and delete, ignore or keep the other as a new person."""
    review = _review()
    try:
        district = review.case(case_id)["district"]
    except ReviewError as exc:
        fail(str(exc))
    _check_approver(district, _who(by), f"resolve duplicate case {case_id}")
    try:
        decision = review.resolve(case_id, primary=RecordRef.parse(primary), secondary_action=secondary_action,
                                     take=[f.strip() for f in take.split(",") if f.strip()], by=_who(by))
    except ReviewError as exc:
        fail(str(exc))
    click.echo(f"case {case_id} resolved: decision {decision} ({secondary_action}); "
               f"undo with: passport duplicates undo {decision}")


@duplicates.command("undo")
@click.argument("decision_id", type=int)
@click.option("--by", callback=checked_decider, help="Who decides (e-mail), one line; default: the OS user.")
def undo(decision_id: int, by: str | None) -> None:
    """Take back DECISION_ID (a merge or a resolution); the log keeps both."""
    review = _review()
    try:
        district = review.decision_district(decision_id)
    except ReviewError as exc:
        fail(str(exc))
    _check_approver(district, _who(by), f"undo duplicate decision {decision_id}")
    try:
        undo_id = review.undo(decision_id, by=_who(by))
    except ReviewError as exc:
        fail(str(exc))
    click.echo(f"decision {decision_id} undone (log entry {undo_id})")


@duplicates.command("log")
@click.argument("district")
@click.option("--school-year", help="Only this school year.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def log(district: str, school_year: str | None, as_json: bool) -> None:
    """DISTRICT's append-only log: unattended merges, resolutions and undos."""
    decisions = _review().decisions(district, school_year)
    if as_json:
        emit_json({"district": district, "decisions": decisions})
        return
    for d in decisions:
        primary = RecordRef(d["primary_source"], d["primary_sourced_id"])
        secondary = RecordRef(d["secondary_source"], d["secondary_sourced_id"])
        extra = f" undoes {d['undoes']}" if d["undoes"] else ""
        if d["take_fields"]:
            extra += f" take {','.join(d['take_fields'])}"
        what = "" if d["entity"] == "users" else f"{d['entity']} "
        click.echo(f"decision {d['id']:<6} {d['decided_at']:%Y-%m-%d %H:%M} {d['action']:10} {what}{secondary} -> "
                   f"{primary} ({d['golden_id']}) by {d['decided_by']}{extra}")


@duplicates.command("person")
@click.argument("district")
@click.argument("golden_id")
@click.option("--school-year", required=True, help="e.g. 2025-2026")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def person(district: str, golden_id: str, school_year: str, as_json: bool) -> None:
    """A person's records and, per attribute, the record its value comes from (lineage)."""
    try:
        found = _review().person(district, school_year, golden_id)
    except ReviewError as exc:
        fail(str(exc))
    if as_json:
        emit_json(found)
        return
    records = [r["record"] + (" (deleted)" if r["deleted"] else "") for r in found["records"]]
    click.echo(f"{golden_id}: {', '.join(records)}")
    for attribute, record in found["lineage"].items():
        click.echo(f"  {attribute:22} from {record}")
