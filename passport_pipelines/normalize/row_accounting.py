"""Every row a source gave, accounted for per entity: delivered, or counted with why it was not.

A row read is exactly one of:

- delivered (an active record handed to the golden store);
- ``tobedeleted``: marked tobedeleted (or OneRoster 1.0's ``inactive``), in a bulk or a delta file: not
  delivered, and the record is deleted when it is on record;
- ``filtered``: left out by one of the integration's filters, named by its rule (``student: active_only``);
- ``left_out``: left out because of a reference (``classSourcedId -> classes: does not exist`` or
  ``... : left out`` when the row it points at was itself left out), or by the integration rules
  (``rules: depends on a row the rules left out``, ``rules: school not in the schools mapping``,
  ``rules: missing a required field (skip_if_missing)``).

So ``read == delivered + tobedeleted + sum(filtered) + sum(left_out)`` for every entity. For an entity
read from a file of its own (``users.csv`` -> users), ``read`` is the file's row count; for an entity
derived from another (roles from users.csv in OneRoster 1.1, an API source's tables) it is the rows the
models made. Counts only: never an id or a value.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from passport_pipelines.config.rules import ENTITY_TYPES
from passport_pipelines.sql.quoting import lit
from passport_pipelines.validation.schemas.registry import CSV_KINDS, csv_schema

RULES_CASCADE = "rules: depends on a row the rules left out"
RULES_UNMAPPED_SCHOOL = "rules: school not in the schools mapping"
RULES_SKIPPED = "rules: missing a required field (skip_if_missing)"
NOT_SELECTED = "source: not one of the entities the source feeds"
NOT_STORED = "not stored: Passport keeps no table of this file"


def count_tobedeleted(folder: Path, entities: list[str]) -> dict[str, int]:
    """Rows marked tobedeleted per canonical table written in ``folder`` (one scan of the status column)."""
    con = duckdb.connect()
    try:
        out = {}
        for entity in entities:
            path = folder / f"{entity}.parquet"
            if not path.exists():
                continue
            n = con.execute(f"SELECT count(*) FROM read_parquet({lit(str(path))}) "
                            "WHERE status = 'tobedeleted'").fetchone()[0]
            if n:
                out[entity] = n
        return out
    finally:
        con.close()


def _rules_left_out(rules: dict) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    """Per entity: rows each filter left out, and the other rows the rules left out, by reason."""
    filtered: dict[str, dict[str, int]] = {}
    for label, n in (rules.get("filters") or {}).items():
        if n:
            entity = ENTITY_TYPES.get(label.partition(":")[0].strip(), "users")
            filtered.setdefault(entity, {})[label] = n
    left_out: dict[str, dict[str, int]] = {}
    cascaded = rules.get("cascaded") or {}
    for entity, total in (rules.get("left_out") or {}).items():
        reasons = {}
        if cascaded.get(entity):
            reasons[RULES_CASCADE] = cascaded[entity]
        # What neither a filter nor a cascade removed: a school the mapping does not name (orgs, which
        # no filter or requirement addresses), else a skip_if_missing requirement.
        rest = total - sum(filtered.get(entity, {}).values()) - cascaded.get(entity, 0)
        if rest:
            reasons[RULES_UNMAPPED_SCHOOL if entity == "orgs" else RULES_SKIPPED] = rest
        if reasons:
            left_out[entity] = reasons
    return filtered, left_out


def account_source(*, entity_rows: dict[str, int], tobedeleted: dict[str, int], rules: dict,
                   file_rows: dict[str, int] | None = None, file_left_out: dict[str, dict[str, int]] | None = None,
                   file_entity: dict[str, str] | None = None, unselected: set[str] | None = None
                   ) -> dict[str, dict]:
    """One source's accounting, entity -> read, delivered, tobedeleted, filtered and left_out.

    ``entity_rows``: rows of each canonical table the source's normalization wrote (tobedeleted ones
    included); ``rules``: its ``RulesReport`` as a dict; ``file_rows`` / ``file_left_out``: a CSV drop's
    rows read per file and rows its references left out per file and reason; ``file_entity``: which
    entity each file feeds; ``unselected``: entities the source is not asked to feed."""
    filtered, rules_left_out = _rules_left_out(rules)
    by_entity_file = {e: f for f, e in (file_entity or {}).items() if f in (file_rows or {})}
    out: dict[str, dict] = {}
    for entity in sorted(set(entity_rows) | set(by_entity_file)):
        file = by_entity_file.get(entity)
        left_out = dict((file_left_out or {}).get(file, {})) if file else {}
        for reason, n in rules_left_out.get(entity, {}).items():
            left_out[reason] = left_out.get(reason, 0) + n
        marked = tobedeleted.get(entity, 0)
        delivered = entity_rows.get(entity, 0) - marked
        if file and entity not in entity_rows:
            # Read, then not mapped at all: a file Passport keeps no table of (userProfiles).
            rest = file_rows[file] - sum(left_out.values())
            if rest:
                left_out[NOT_STORED] = rest
        elif file and entity in (unselected or ()) and not entity_rows.get(entity):
            rest = file_rows[file] - sum(left_out.values()) - sum(filtered.get(entity, {}).values())
            if rest:
                left_out[NOT_SELECTED] = rest
        counted = marked + sum(filtered.get(entity, {}).values()) + sum(left_out.values())
        read = (file_rows or {})[file] if file else delivered + counted
        if not read and not delivered and not counted:
            continue
        out[entity] = {"read": read, "delivered": delivered, "tobedeleted": marked,
                       "filtered": filtered.get(entity, {}), "left_out": left_out}
    return out


def unaccounted(accounting: dict[str, dict]) -> dict[str, int]:
    """Entities whose rows read are not all delivered or counted (rows read minus the rest): empty
    when every row is accounted for."""
    out = {}
    for entity, a in accounting.items():
        gap = a["read"] - a["delivered"] - a["tobedeleted"] - sum(a["filtered"].values()) - sum(a["left_out"].values())
        if gap:
            out[entity] = gap
    return out


def merge_accounts(per_source: dict[str, dict[str, dict]]) -> dict[str, dict]:
    """The district's accounting: every source's, added up per entity."""
    total: dict[str, dict] = {}
    for accounting in per_source.values():
        for entity, a in accounting.items():
            t = total.setdefault(entity, {"read": 0, "delivered": 0, "tobedeleted": 0, "filtered": {}, "left_out": {}})
            for key in ("read", "delivered", "tobedeleted"):
                t[key] += a[key]
            for key in ("filtered", "left_out"):
                for reason, n in a[key].items():
                    t[key][reason] = t[key].get(reason, 0) + n
    return dict(sorted(total.items()))


def left_out_by_entity(accounting: dict[str, dict]) -> dict[str, dict[str, int]]:
    """Entity -> reason -> rows not delivered, tobedeleted included: the ``left_out`` of ``--json``."""
    out = {}
    for entity, a in accounting.items():
        reasons = {**a["left_out"], **({"tobedeleted": a["tobedeleted"]} if a["tobedeleted"] else {})}
        if reasons:
            out[entity] = reasons
    return out


def is_reference_reason(reason: str) -> bool:
    """``courseSourcedId -> courses: ...``: left out by a reference of the drop (not by the rules, nor
    as a file Passport keeps no table of)."""
    return " -> " in reason and not reason.startswith("rules: ")


def reference_left_out(a: dict) -> int:
    """Rows of an entity left out by a reference of the drop."""
    return sum(n for reason, n in a["left_out"].items() if is_reference_reason(reason))


def source_accounting(extract, normalized) -> dict[str, dict]:
    """The accounting of one source's sync: its ``SourceExtract`` and its ``NormalizedSource``."""
    csv = extract.kind in CSV_KINDS
    unselected = {e for e, mode in normalized.entity_modes.items()
                  if mode == "absent" and extract.file_modes and csv}
    return account_source(
        entity_rows=normalized.rows, tobedeleted=normalized.tobedeleted, rules=normalized.rules,
        file_rows=extract.rows if csv else None, file_left_out=extract.left_out if csv else None,
        file_entity=csv_schema(extract.schema).file_entity if csv else None, unselected=unselected)
