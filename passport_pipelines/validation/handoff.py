"""What the extract stage hands on: the sources of one sync, fetched and validated.

The API extract assets (one per connector kind) hand ``ApiExtracts`` to ``source_extracts``, which
hands ``SourceExtracts`` (every source, in the order of the integration file) to normalization. The
district and school year are not in them: every asset reads them from its partition.
"""

from __future__ import annotations

from dataclasses import dataclass

from passport_pipelines.validation.extract import SourceExtract


@dataclass(frozen=True)
class ApiExtracts:
    """One connector kind's sources of the district, fetched into raw tables."""

    sources: tuple[SourceExtract, ...] = ()

    def to_json(self) -> dict:
        return {"sources": [s.as_dict() for s in self.sources]}

    @classmethod
    def from_json(cls, data: dict) -> ApiExtracts:
        return cls(tuple(SourceExtract(**s) for s in data["sources"]))


@dataclass(frozen=True)
class SourceExtracts:
    """Every source of the sync, validated; ``started_at`` is the run's start (ISO 8601), where the
    next incremental pull of an API source starts."""

    run_id: str
    started_at: str
    sources: tuple[SourceExtract, ...]

    def to_json(self) -> dict:
        return {"run_id": self.run_id, "started_at": self.started_at, "sources": [s.as_dict() for s in self.sources]}

    @classmethod
    def from_json(cls, data: dict) -> SourceExtracts:
        return cls(data["run_id"], data["started_at"], tuple(SourceExtract(**s) for s in data["sources"]))
