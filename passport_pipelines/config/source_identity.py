"""A source's identity settings: what its records' keys in the golden store are made of.

A record is kept under ``(source name, sourced id)``; its sourced id is the source's own id with the
source's ``sis_id_prefix``, or a district school's id where the source's ``schools`` mapping made it
one. Changing any of these (or the source's ``type``, which says where its ids come from) changes
every key, so each version records the identity of every source it synced, and the next sync
compares (``changes/identity.py``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

# In the order a hold's reason names them.
IDENTITY_SETTINGS = ("name", "type", "sis_id_prefix", "schools")


@dataclass(frozen=True)
class SourceIdentity:
    name: str
    type: str
    sis_id_prefix: str | None
    # As configured: None, "auto", or {"mode": "explicit", "map": {source school id: district school id}}.
    schools: str | dict | None

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def prefix(self) -> str:
        return self.sis_id_prefix or ""

    @property
    def explicit_map(self) -> dict[str, str] | None:
        return self.schools.get("map") if isinstance(self.schools, dict) else None


def source_identity(source) -> SourceIdentity:
    """The identity of a configured source (``config/sources.py``)."""
    schools = source.schools
    if schools is not None and not isinstance(schools, str):
        schools = schools.model_dump(mode="json")
    return SourceIdentity(name=source.name, type=source.type, sis_id_prefix=source.sis_id_prefix, schools=schools)


def identities(integration) -> dict[str, SourceIdentity]:
    return {s.name: source_identity(s) for s in integration.sources}


def recorded_identity(entry: dict | None) -> SourceIdentity | None:
    """The identity a version recorded for a source (its ``sources`` entry), if it recorded one:
    versions committed before identities were recorded have none, and are taken as they are."""
    found = (entry or {}).get("identity")
    return SourceIdentity(**found) if found else None


def district_school_ids(integration, identity: SourceIdentity) -> list[str]:
    """The district school ids the source's records may carry as sourced ids: those of the
    district's ``schools:`` list when the source maps its schools, else none."""
    return [s.id for s in integration.schools] if identity.schools is not None else []
