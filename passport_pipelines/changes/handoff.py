"""What the change stage hands to the commit, and what a held sync keeps until it is decided.

``roster_changes`` hands ``SyncChanges`` to ``golden_records``. A held sync keeps the same data in
its version row (``versions.held_changes``, JSON) as a *held change set*, the format below, with its
paths moved to the held folder; the approval's commit run reads it back. The format is versioned:
a Passport reads the versions it knows and refuses a newer one with a message, rather than
committing what it half understands.

Held change set, format 1 (a JSON object)::

    format          "passport.held_change_set"
    format_version  1
    run_id          the run that computed the change set (its seal names it)
    started_at      that run's start, ISO 8601
    sources         per source, in the integration's order: what was extracted (name, schema, mode,
                    files and their modes, rows, rows filtered, archive, cursor of an API source)
    normalized      per source: its canonical tables' folder, rows per entity, fingerprint, rules
    changes         the change set: folder of Parquet files, base version, counts per entity,
                    duplicates found, whether deletions apply, identity changes, re-keyed counts
    on_record       records per entity before the commit
    identities      each source's identity settings, recorded with the version
    held_folder     where the held copies wait (removed when the sync is rejected or superseded)

Rows held before the format was versioned (no ``format`` key) hold the same keys and are read as
format 1.
"""

from __future__ import annotations

from dataclasses import dataclass

from passport_pipelines.changes.roster_changes import RosterChanges
from passport_pipelines.normalize.rosters import NormalizedSource
from passport_pipelines.store.golden_store import Version
from passport_pipelines.validation.extract import SourceExtract

HELD_FORMAT = "passport.held_change_set"
HELD_FORMAT_VERSION = 1


class HeldFormatError(ValueError):
    """A held change set this Passport cannot read."""


@dataclass(frozen=True)
class HeldVersion:
    id: int
    number: int


@dataclass(frozen=True)
class SyncChanges:
    """A sync's change set with what its commit records: where the data came from, the counts on
    record, the sources' identities. ``held_version``: the sync was held as that version (nothing
    to commit in this run); ``commit`` False: a preview that changes nothing."""

    run_id: str
    started_at: str
    sources: tuple[SourceExtract, ...]
    normalized: tuple[NormalizedSource, ...]
    changes: RosterChanges
    on_record: dict[str, int]
    identities: dict[str, dict]
    held_version: HeldVersion | None = None
    commit: bool = True
    held_folder: str | None = None

    def archives(self) -> dict[str, str]:
        return {s.source: s.archive for s in self.sources}

    def to_json(self) -> dict:
        return {**self.held_change_set(), "commit": self.commit,
                "held_version": self.held_version.__dict__ if self.held_version else None}

    def held_change_set(self) -> dict:
        """The versioned JSON a held sync keeps in its version row."""
        return {"format": HELD_FORMAT, "format_version": HELD_FORMAT_VERSION, "run_id": self.run_id,
                "started_at": self.started_at, "sources": [s.as_dict() for s in self.sources],
                "normalized": [n.__dict__ for n in self.normalized], "changes": dict(self.changes.__dict__),
                "on_record": self.on_record, "identities": self.identities, "held_folder": self.held_folder}

    @classmethod
    def from_json(cls, data: dict) -> SyncChanges:
        version = data.get("format_version", HELD_FORMAT_VERSION) if data.get("format", HELD_FORMAT) == HELD_FORMAT \
            else None
        if version != HELD_FORMAT_VERSION:
            raise HeldFormatError(
                f"the held change set is in format {data.get('format')!r} version {data.get('format_version')!r}; "
                f"this Passport reads {HELD_FORMAT!r} version {HELD_FORMAT_VERSION}: decide it with the Passport "
                "that held it, or reject it and sync again")
        held = data.get("held_version")
        return cls(run_id=data["run_id"], started_at=data["started_at"],
                   sources=tuple(SourceExtract(**s) for s in data["sources"]),
                   normalized=tuple(NormalizedSource(**n) for n in data["normalized"]),
                   changes=RosterChanges(**data["changes"]), on_record=data.get("on_record") or {},
                   identities=data.get("identities") or {},
                   held_version=HeldVersion(**held) if held else None, commit=data.get("commit", True),
                   held_folder=data.get("held_folder"))


@dataclass(frozen=True)
class CommittedVersion:
    """What ``golden_records`` hands to the deliveries: the version it committed."""

    id: int
    number: int

    @classmethod
    def of(cls, version: Version) -> CommittedVersion:
        return cls(version.id, version.number)

    def to_json(self) -> dict:
        return {"id": self.id, "number": self.number}

    @classmethod
    def from_json(cls, data: dict) -> CommittedVersion:
        # A hand-off written before this type was the version row's dict: "version" was its number.
        return cls(data["id"], data.get("number", data.get("version")))
