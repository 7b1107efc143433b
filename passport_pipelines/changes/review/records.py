"""What a change review holds: totals per entity, and the first records with what changed."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

CHANGES = ("added", "updated", "deleted")
DEFAULT_LIMIT = 100


@dataclass
class FieldChange:
    field: str
    old: str | None
    new: str | None
    known: bool = True  # False: a committed update, whose old (and maybe new) value is not on record

    def text(self) -> str:
        if not self.known:
            return f"{self.field}: ? -> {_text(self.new) if self.new is not None else '?'}"
        return f"{self.field}: {_text(self.old)} -> {_text(self.new)}"


@dataclass
class RecordChange:
    entity: str
    change: str  # added | restored | updated | deleted
    source: str
    sourced_id: str
    golden_id: str
    fields: list[FieldChange] = field(default_factory=list)  # updated: what changed
    values: dict[str, str | None] = field(default_factory=dict)  # added / restored / deleted: the record
    reason: str | None = None  # deleted: missing | tobedeleted | cascade
    later_version: int | None = None  # committed: a later version changed the record again

    @property
    def record(self) -> str:
        return f"{self.source}:{self.sourced_id}"

    def detail(self) -> str:
        """What changed, on one line: ``email: <withheld> -> <withheld>; grades: 04 -> 05``."""
        if self.change == "updated":
            text = "; ".join(f.text() for f in self.fields)
        else:
            text = ", ".join(f"{k}={v}" for k, v in self.values.items())
            if self.change == "deleted":
                text = f"({self.reason or 'deleted'})" + (f" {text}" if text else "")
        if self.later_version is not None:
            text += " (changed again by a later version; values as of now)" if self.change != "updated" else \
                " (changed again by a later version)"
        return text


@dataclass
class ChangeReview:
    district: str
    school_year: str
    version: int
    status: str
    basis: str  # where the details come from: the held change set, or the golden store
    totals: dict[str, dict[str, int]]
    records: list[RecordChange]
    limit: int
    values_shown: bool
    note: str | None = None  # what the review cannot show, and why

    @property
    def total(self) -> int:
        return sum(sum(c.get(k, 0) for k in CHANGES) for c in self.totals.values())

    def as_dict(self) -> dict:
        return {**asdict(self), "total": self.total, "shown": len(self.records)}


def _text(value: str | None) -> str:
    return "(blank)" if value is None else value
