"""The hold decision: does this change set wait for a person's approval?

A sync is held when it is a preview, when any entity's added, updated or deleted records exceed
the integration's sync hold threshold, when the drop's references leave out more of an entity's
rows than the threshold's ``left_out`` share (an entity emptied that way, where records are on
record, is always held), or when a source's identity settings changed (always, whatever it changes).
Otherwise a sync that changes nothing is never held: there is nothing to approve. The decision
carries the numbers per entity, for the check's metadata and for the person who approves or rejects it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from passport_pipelines.config.change_control import CHANGES, ChangeControl
from passport_pipelines.normalize.row_accounting import reference_left_out


@dataclass(frozen=True)
class HoldDecision:
    held: bool
    preview: bool
    # Why, one line each, e.g. "users: 612 of 1,020 deleted (60.0%), more than 10%".
    reasons: list[str] = field(default_factory=list)
    # Per entity with records on record or changes: on_record, added, updated, deleted (less those
    # re-keyed), their shares, and rekeyed (when any).
    entities: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def _share(n: int, on_record: int) -> float | None:
    return round(100.0 * n / on_record, 2) if on_record else None


def left_out_reasons(accounting: dict[str, dict], on_record: dict[str, int], control: ChangeControl) -> list[str]:
    """Why the rows the drop's references leave out hold the sync, one line per entity (``accounting``:
    the district's, ``normalize/row_accounting.py``). The same lines for ``passport validate``, which
    knows nothing on record."""
    reasons = []
    for entity, a in accounting.items():
        n, read = reference_left_out(a), a["read"]
        if not n or not read:
            continue
        before = on_record.get(entity, 0)
        if not a["delivered"] and before:
            reasons.append(f"{entity}: every row read ({read:,}) is left out by references, and {before:,} are "
                           "on record: the sync would empty it")
            continue
        limit = control.limit(entity, "left_out")
        share = round(100.0 * n / read, 2)
        if limit is None:
            continue
        if limit.count is not None and n > limit.count:
            reasons.append(f"{entity}: {n:,} of {read:,} rows read left out by references, more than {limit.count:,}")
        elif limit.percent is not None and share > limit.percent:
            reasons.append(f"{entity}: {n:,} of {read:,} rows read left out by references ({share:.1f}%), "
                           f"more than {limit.percent:g}%")
    return reasons


def decide_hold(counts: dict[str, dict[str, int]], on_record: dict[str, int], control: ChangeControl, *,
                preview: bool = False, accounting: dict[str, dict] | None = None, identity: list[str] = (),
                rekeyed: dict[str, int] | None = None) -> HoldDecision:
    """``counts``: entity -> added/updated/deleted of this sync; ``on_record``: entity -> records
    current before it. ``preview``: the run asked to be held (the integration's own ``preview``
    setting holds too). ``accounting``: the district's rows read, delivered and left out, per entity.
    ``identity``: one reason per source whose identity settings changed (``changes/identity.py``): such
    a sync is always held, whatever it changes. ``rekeyed``: per entity, the records it re-keys (deleted
    under an old key, added under a new one): moved, not added nor deleted, as far as the threshold is
    concerned."""
    reasons, rows = [], []
    changed = False
    for entity, c in counts.items():
        before = on_record.get(entity, 0)
        if not before and not any(c.values()):
            continue
        changed = changed or any(c.values())
        row = {"entity": entity, "on_record": before}
        moved = (rekeyed or {}).get(entity, 0)
        if moved:
            row["rekeyed"] = moved
        for change in CHANGES:
            n = c.get(change, 0) - (moved if change in ("added", "deleted") else 0)
            share = _share(n, before)
            row[change] = n
            row[f"{change}_percent"] = share
            limit = control.limit(entity, change)
            if limit is None or not n:
                continue
            if limit.count is not None and n > limit.count:
                reasons.append(f"{entity}: {n:,} {change}, more than {limit.count:,}")
            elif limit.percent is not None and share is not None and share > limit.percent:
                reasons.append(f"{entity}: {n:,} of {before:,} {change} ({share:.1f}%), more than {limit.percent:g}%")
        rows.append(row)
    reasons += left_out_reasons(accounting or {}, on_record, control)
    wants_preview = preview or control.preview
    if wants_preview and changed:
        reasons.insert(0, "preview: every change waits for approval" if control.preview and not preview
                       else "preview requested for this sync")
    reasons[:0] = list(identity)
    return HoldDecision(held=bool(identity) or (changed and bool(reasons)), preview=wants_preview, reasons=reasons,
                        entities=rows)
