"""Change control in the integration file: preview, and the sync hold threshold.

```yaml
change_control:
  preview: false            # true: every sync that changes something waits for approval
  deletions: true           # false: import without deletions (records missing from a drop stay)
  sync_hold:                # per entity ("*" for every entity); a limit is "10%", 500, or both
    "*": {deleted: "10%", updated: "75%", left_out: "10%"}
    users: {deleted: {percent: 5, count: 200}}
  approvers: [registrar@lakeside.org, data.lead@lakeside.org]   # only they approve, reject, resolve
```

Limits given for one entity keep the defaults for the others; `"*": {}` turns the defaults off.
A limit is exceeded when the change is *more than* it: 10% lets exactly a tenth of the users go.
A share is of the records on record before the sync; a first sync (nothing on record) is held by
counts only. ``left_out`` is the share (or count) of an entity's rows read that the drop's own
references leave out (a class pointing at a course that does not exist, and what points at it): its
default, 10%, holds even where "*" does not name it (``left_out: "100%"`` turns it off); it holds a
first sync too. An entity a sync would deliver empty, every row left out by references, where records
are on record, is always held.

``approvers``: who may approve or reject a held sync and resolve duplicates for the district
(``config/approvers.py``; without it, the fleet's default list, else anyone).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from passport_pipelines.config.approvers import check_list
from passport_pipelines.model import entities

CHANGES = ("added", "updated", "deleted")
PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Limit(_Strict):
    """Hold when the change is more than ``percent`` of the records on record, or more than ``count``."""

    percent: float | None = Field(None, ge=0, le=100)
    count: int | None = Field(None, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value):
        if isinstance(value, bool):
            raise ValueError("a limit is a share like \"10%\", a count like 500, or {percent: 10, count: 500}")
        if isinstance(value, int):
            return {"count": value}
        if isinstance(value, str):
            m = PERCENT.match(value)
            if not m:
                raise ValueError(f"{value!r} is not a share like \"10%\" (or give a count like 500)")
            return {"percent": float(m.group(1))}
        return value

    @model_validator(mode="after")
    def _something(self) -> "Limit":
        if self.percent is None and self.count is None:
            raise ValueError("a limit needs a percent, a count, or both")
        return self


class EntityLimits(_Strict):
    added: Limit | None = None
    updated: Limit | None = None
    deleted: Limit | None = None
    left_out: Limit | None = None  # rows read that the drop's references leave out (a share of rows read)


DEFAULT_LEFT_OUT = Limit(percent=10)
DEFAULT_HOLD = {"*": EntityLimits(updated=Limit(percent=75), deleted=Limit(percent=10), left_out=DEFAULT_LEFT_OUT)}


class ChangeControl(_Strict):
    preview: bool = Field(False, description="every sync that changes something is held until approved")
    deletions: bool = Field(True, description="false: import without deletions (nothing is ever deleted)")
    sync_hold: dict[str, EntityLimits] = Field(
        default_factory=lambda: dict(DEFAULT_HOLD),
        description='entity (or "*") -> limits on records added, updated and deleted')
    approvers: list[str] | None = Field(
        None, description="who may approve, reject and resolve duplicates (e-mail addresses); default: "
                          "$PASSPORT_APPROVERS, else anyone. Accountability, not authentication")

    @field_validator("approvers")
    @classmethod
    def _approvers(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else check_list(value)

    @field_validator("sync_hold")
    @classmethod
    def _entities(cls, value: dict[str, EntityLimits]) -> dict[str, EntityLimits]:
        unknown = sorted(set(value) - {"*", *entities.ENTITIES})
        if unknown:
            raise ValueError(f"sync_hold: unknown entit{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)}; "
                             f"use \"*\" or one of {', '.join(entities.ENTITIES)}")
        # Limits for one entity add to the defaults; `"*": {}` turns the defaults off.
        return {**DEFAULT_HOLD, **value}

    def limit(self, entity: str, change: Literal["added", "updated", "deleted", "left_out"]) -> Limit | None:
        """The entity's own limit for this kind of change, else the "*" one (for ``left_out``, else
        the default: rows vanishing by reference are held unless a limit says otherwise)."""
        own = self.sync_hold.get(entity)
        if own is not None and getattr(own, change) is not None:
            return getattr(own, change)
        default = self.sync_hold.get("*")
        limit = getattr(default, change) if default is not None else None
        return DEFAULT_LEFT_OUT if limit is None and change == "left_out" else limit
