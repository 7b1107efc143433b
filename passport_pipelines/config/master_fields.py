"""Master fields: which source's value a golden record takes, per entity and attribute.

When one person is known from several records (two sources, or twice in one), each attribute of the
golden record comes from the first source in the attribute's list that has a value; among records
of equal rank, the most recently modified, then the most complete, then the lowest record key wins.
``"*"`` sets the order for every attribute not listed. Without any list, sources rank in the order
the integration file lists them.

    master_fields:
      users:
        "*": [sis, google]
        email: [google, sis]      # Google Workspace owns the mailbox
      demographics:
        birth_date: [sis]
"""

from __future__ import annotations

from passport_pipelines.model import entities

# The parts of a person record, and the records a domain of uniqueness may merge across sources.
ENTITIES_WITH_MASTER_FIELDS = ("users", "demographics", "orgs", "academic_sessions", "courses", "classes")
DEFAULT = "*"


def validate_master_fields(value: dict[str, dict[str, list[str]]], sources: list[str]) -> None:
    """Raise ValueError naming the key and the rule when the lists do not fit the integration."""
    known = set(sources)
    for entity, fields in value.items():
        if entity not in ENTITIES_WITH_MASTER_FIELDS:
            raise ValueError(f"master_fields.{entity}: master fields apply to the records one golden record "
                             f"may gather ({', '.join(ENTITIES_WITH_MASTER_FIELDS)}), not {entity!r}")
        columns = set(entities.content_columns(entity)) - {"extensions"}
        for field, order in fields.items():
            if field != DEFAULT and field not in columns:
                raise ValueError(f"master_fields.{entity}.{field}: not an attribute of {entity} "
                                 f"(use one of {', '.join(sorted(columns))}, or \"*\")")
            unknown = [s for s in order if s not in known]
            if unknown:
                raise ValueError(f"master_fields.{entity}.{field}: no source named {', '.join(unknown)} "
                                 f"(sources: {', '.join(sources)})")
            if len(set(order)) != len(order):
                raise ValueError(f"master_fields.{entity}.{field}: a source is listed twice")
            if not order:
                raise ValueError(f"master_fields.{entity}.{field}: list at least one source")


def source_order(value: dict[str, dict[str, list[str]]], sources: list[str], entity: str, field: str) -> list[str]:
    """The sources in the order their value wins for ``entity.field``: the attribute's list,
    then the entity's ``"*"`` list, then the integration's order, each source once."""
    fields = value.get(entity, {})
    order = [*fields.get(field, ()), *fields.get(DEFAULT, ()), *sources]
    return list(dict.fromkeys(order))
