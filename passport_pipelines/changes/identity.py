"""Changes of a source's identity settings since the last committed version.

A source's records are kept under keys made of its identity (``config/source_identity.py``): a new
``sis_id_prefix``, ``schools`` mapping, name or type makes every record look new. The sync finds the
change by comparing each source's identity with the one the last committed version recorded; such a
sync is always held, with a reason naming the setting, and its change set re-keys the source's
records (``changes/rekey.py``) instead of adding them a second time.

A renamed source is a configured source the last version did not sync, paired with a source that
version synced and the integration no longer configures, when there is exactly one of each of a type.
"""

from __future__ import annotations

from dataclasses import dataclass

from passport_pipelines.config.source_identity import IDENTITY_SETTINGS, SourceIdentity, recorded_identity


@dataclass(frozen=True)
class IdentityChange:
    previous: SourceIdentity
    current: SourceIdentity

    @property
    def settings(self) -> list[str]:
        return [s for s in IDENTITY_SETTINGS if getattr(self.previous, s) != getattr(self.current, s)]

    @property
    def rekeys(self) -> bool:
        """Whether any key changes (a new type alone keeps every key)."""
        return any(s != "type" for s in self.settings)

    def reason(self) -> str:
        """One line for the hold, naming each setting, e.g. ``source sis: sis_id_prefix changed (none -> 'ps-')``."""
        parts = [f"{s} changed ({_shown(getattr(self.previous, s))} -> {_shown(getattr(self.current, s))})"
                 for s in self.settings]
        then = ("approving re-keys its records on record in this version (old ids deleted, new ids added, "
                "golden ids and duplicate decisions carried over)" if self.rekeys
                else "no id changes; approving records the new setting")
        return f"source {self.current.name}: {', '.join(parts)}: {then}"

    def as_dict(self) -> dict:
        return {"source": self.current.name, "previous": self.previous.as_dict(), "current": self.current.as_dict(),
                "settings": self.settings}


def _shown(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, dict):
        mapping = value.get("map") or {}
        return f"explicit map of {len(mapping)} school(s)"
    return repr(value) if isinstance(value, str) and value != "auto" else str(value)


def identity_changes(recorded_sources: dict | None, current: dict[str, SourceIdentity]) -> list[IdentityChange]:
    """The sources whose identity differs from the one ``recorded_sources`` (the last committed
    version's ``sources``) recorded. A source the version recorded no identity for (committed before
    identities were recorded) is taken as it is; its next version records it."""
    recorded = recorded_sources or {}
    changes = []
    for name, identity in current.items():
        previous = recorded_identity(recorded.get(name)) if name in recorded else None
        if previous is not None and previous != identity:
            changes.append(IdentityChange(previous, identity))
    gone = {n: recorded_identity(e) for n, e in recorded.items() if n not in current}
    gone = {n: i for n, i in gone.items() if i is not None}
    new = {n: i for n, i in current.items() if n not in recorded}
    for previous, identity in _renames(gone, new):
        changes.append(IdentityChange(previous, identity))
    return changes


def _renames(gone: dict[str, SourceIdentity], new: dict[str, SourceIdentity]) -> list[tuple]:
    pairs = []
    for kind in {i.type for i in gone.values()}:
        was = [i for i in gone.values() if i.type == kind]
        now = [i for i in new.values() if i.type == kind]
        if len(was) == 1 and len(now) == 1:
            pairs.append((was[0], now[0]))
    return pairs
