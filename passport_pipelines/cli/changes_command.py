"""passport changes: what a version adds, updates and deletes, record by record."""

from __future__ import annotations

import click

from passport_pipelines import settings
from passport_pipelines.changes.review.records import DEFAULT_LIMIT, ChangeReview
from passport_pipelines.changes.review.review import ReviewUnavailable, review_version
from passport_pipelines.cli.output import emit_json, fail
from passport_pipelines.model import entities
from passport_pipelines.store.golden_store import GoldenStore
from passport_pipelines.store.sync_holds import DecisionError, SyncHolds

_MARK = {"added": "+", "restored": "+", "updated": "~", "deleted": "-"}


@click.command("changes")
@click.argument("district")
@click.argument("version", type=int)
@click.option("--school-year", help="default: the latest school year with versions.")
@click.option("--entity", type=click.Choice(entities.ENTITIES), help="Only this entity.")
@click.option("--limit", type=click.IntRange(min=0), default=DEFAULT_LIMIT, show_default=True,
              help="Records to list (0: all); the totals always count every change.")
@click.option("--show-values", is_flag=True, help="Show personal values (names, contact details, identifiers, "
                                                   "demographics) instead of <withheld>.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def changes(district: str, version: int, school_year: str | None, entity: str | None, limit: int, show_values: bool,
            as_json: bool) -> None:
    """What VERSION of DISTRICT adds, updates (field: old -> new) and deletes, record by record: a held or
    previewed version before it is approved, or a committed one. Personal values are withheld unless
    --show-values."""
    store = GoldenStore(settings.database_url())
    if school_year is None:
        years = sorted({v.school_year for v in store.versions(district)})
        if not years:
            fail(f"no versions for {district}")
        school_year = years[-1]
    try:
        found = SyncHolds(store).find(district, school_year, version)
        review = review_version(store, found, entity=entity, limit=limit, show_values=show_values)
    except (DecisionError, ReviewUnavailable) as exc:
        fail(str(exc))
    if as_json:
        emit_json(review.as_dict())
        return
    for line in review_lines(review):
        click.echo(line)


def review_lines(review: ChangeReview) -> list[str]:
    counts = ", ".join(f"{e} +{c['added']} ~{c['updated']} -{c['deleted']}" for e, c in review.totals.items())
    lines = [f"{review.district} {review.school_year} version {review.version} ({review.status}): "
             f"{counts or 'no changes'}",
             f"  from the {review.basis}"]
    current = None
    for r in review.records:
        if r.entity != current:
            current = r.entity
            lines.append(f"  {r.entity}")
        lines.append(f"    {_MARK.get(r.change, '?')} {r.record} [{r.golden_id}] {r.detail()}".rstrip())
    shown = len(review.records)
    if shown < review.total:
        lines.append(f"  showing {shown} of {review.total:,} changed records (--limit 0 for all, --entity to narrow, "
                     "--json)")
    if not review.values_shown and review.records:
        lines.append("  personal values are withheld (--show-values to see them)")
    if review.note:
        lines.append(f"  note: {review.note}")
    return lines
