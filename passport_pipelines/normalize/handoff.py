"""What normalization hands on: every source's canonical tables, with what it read."""

from __future__ import annotations

from dataclasses import dataclass

from passport_pipelines.normalize.rosters import NormalizedSource
from passport_pipelines.validation.handoff import SourceExtracts


@dataclass(frozen=True)
class NormalizedRosters:
    """The sources as extracted, their canonical tables in the same order, and the accounting of
    every row read (per source and entity: delivered, or why not)."""

    extracts: SourceExtracts
    normalized: tuple[NormalizedSource, ...]
    accounting: dict[str, dict]

    def to_json(self) -> dict:
        return {"extracts": self.extracts.to_json(), "normalized": [n.__dict__ for n in self.normalized],
                "accounting": self.accounting}

    @classmethod
    def from_json(cls, data: dict) -> NormalizedRosters:
        # Before it was typed, this hand-off held the extracts' keys at its top level.
        return cls(SourceExtracts.from_json(data.get("extracts", data)),
                   tuple(NormalizedSource(**n) for n in data["normalized"]), data.get("accounting") or {})
