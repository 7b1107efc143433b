"""Cross-file references: rows that point at records that do not exist are filtered out.

Filtering is permissive by design: the offending rows are reported and dropped, the rest of the
drop goes on. Dropping a class drops its enrollments in turn, so the check repeats until nothing
more falls out. Each row left out is remembered with why (``gone__{file}``), so a row that points at
a row left out before it is reported with that root cause, not as pointing at nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from passport_pipelines.sql.quoting import ident, lit
from passport_pipelines.validation.oneroster.findings import Finding, FindingsReport
from passport_pipelines.validation.oneroster.reader import LINE
from passport_pipelines.validation.oneroster.spec import FileSpec

MAX_ROUNDS = 5


@dataclass
class ReferenceOutcome:
    """Rows left out per file (``dropped``), and per file and reason (``reasons``): a reason names the
    column, the file it points at and whether that row does not exist or was itself left out, e.g.
    ``courseSourcedId -> courses: does not exist`` or ``classSourcedId -> classes: left out``."""

    dropped: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, dict[str, int]] = field(default_factory=dict)


def missing_reason(column: str, target: str) -> str:
    return f"{column} -> {target}: does not exist"


def parent_left_out_reason(column: str, target: str) -> str:
    return f"{column} -> {target}: left out"


def key_relation(target: str, present: set[str], known: set[str], key: str = "sourcedId",
                 marked: set[str] = frozenset()) -> str | None:
    """SQL that lists the ids a reference to ``target`` (whose key column is ``key``) may point at:
    never a row of this drop marked tobedeleted (``marked``: files with such rows), which is not delivered."""
    parts = []
    if target in present:
        parts.append(f"SELECT {ident(key)} AS sourcedId FROM {target}")
    if target in known:
        parts.append(f"SELECT sourcedId FROM known__{target}")
    if not parts:
        return None
    union = " UNION ALL ".join(parts)
    return f"({union}) EXCEPT SELECT sourcedId FROM marked__{target}" if target in marked else union


def referenced_ids(con: duckdb.DuckDBPyConnection, specs: dict[str, FileSpec], present: list[str],
                   target: str) -> pa.Array:
    """The distinct ids that the ``present`` files point at in ``target``: the only ids on record that
    checking their references needs (a delta of 20,000 users names some 40,000 of 2 million on record)."""
    refs = [_references(name, c) for name in present for c in specs[name].columns if c.references == target]
    if not refs:
        return pa.array([], pa.string())
    union = " UNION ALL ".join(refs)
    return con.execute(f"SELECT DISTINCT CAST(ref AS VARCHAR) FROM ({union})").to_arrow_table().column(0).combine_chunks()


def _references(name: str, column, *, lines: bool = False) -> str:
    """SQL of every id ``column`` of ``name`` points at (``ref``), one row per id (a list column's ids
    split and trimmed); ``lines``: with the row's line number."""
    c, line = ident(column.name), f"{LINE}, " if lines else ""
    ref = f"trim(unnest(string_split(or_list({c}), ',')))" if column.kind == "ids" else c
    return f"SELECT {line}{ref} AS ref FROM {name} WHERE {c} IS NOT NULL"


def _mark_tobedeleted(con: duckdb.DuckDBPyConnection, specs: dict[str, FileSpec], files: set[str]) -> set[str]:
    """Rows of a bulk file marked tobedeleted (or inactive) are not delivered, so nothing of the drop
    may point at them: they start the list of rows left out, with that reason. (In a delta file such a
    row deletes a record on record, and the deletion ends what depends on it.) Returns the files that
    have such rows."""
    marked = set()
    for name in sorted(files):
        spec = specs[name]
        if "status" not in spec.names or len(spec.key) != 1:
            continue
        key = ident(spec.key[0])
        con.execute(f"CREATE OR REPLACE TEMP TABLE marked__{name} AS SELECT {key} AS sourcedId FROM {name} "
                    f"WHERE lower(status) IN ('tobedeleted', 'inactive') AND {key} IS NOT NULL")
        if con.execute(f"SELECT count(*) FROM marked__{name}").fetchone()[0]:
            con.execute(f"INSERT INTO gone__{name} SELECT sourcedId, 'it is marked tobedeleted' FROM marked__{name}")
            marked.add(name)
    return marked


def _bad_rows(con: duckdb.DuckDBPyConnection, name: str, column, keys: str, gone: str) -> None:
    """``_bad``: the rows of ``name`` whose ``column`` points at an id missing from ``keys``; per row,
    whether every missing id is a row left out earlier (``gone``), and then which one and why."""
    c = ident(column.name)
    refs = _references(name, column, lines=True)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _bad AS
        WITH dangling AS (SELECT u.{LINE}, u.ref FROM ({refs}) AS u ANTI JOIN {keys} AS k ON k.sourcedId = u.ref)
        SELECT d.{LINE}, any_value(t.{c}) AS value,
               bool_and(g.sourcedId IS NOT NULL) AS parent_left_out,
               min(d.ref) FILTER (WHERE g.sourcedId IS NULL) AS missing,
               min(d.ref) FILTER (WHERE g.sourcedId IS NOT NULL) AS parent,
               min(g.reason) AS parent_reason
        FROM dangling AS d
        JOIN {name} AS t ON t.{LINE} = d.{LINE}
        LEFT JOIN {gone} AS g ON g.sourcedId = d.ref
        GROUP BY d.{LINE}""")


def filter_references(con: duckdb.DuckDBPyConnection, specs: dict[str, FileSpec], present: set[str],
                      known: set[str], report: FindingsReport, bulk: set[str] = frozenset()) -> ReferenceOutcome:
    """Drop dangling rows from the tables named in ``present`` (in place); what was left out, and why.
    ``bulk``: the present files that are complete (bulk mode), whose rows marked tobedeleted offer no id."""
    outcome = ReferenceOutcome(dropped={name: 0 for name in present})
    targets = {c.references for name in present for c in specs[name].columns if c.references}
    for target in targets | present:
        con.execute(f"CREATE OR REPLACE TEMP TABLE gone__{target} (sourcedId VARCHAR, reason VARCHAR)")
    marked = _mark_tobedeleted(con, specs, present & bulk)
    for round_no in range(MAX_ROUNDS):
        first_round = round_no == 0
        changed = False
        # The ids each referenced file offers, once per round (a round's filtering is seen by the next).
        key_sets = {}
        for target in sorted(targets):
            keys = key_relation(target, present, known, specs[target].key[0], marked)
            if keys is not None:
                con.execute(f"CREATE OR REPLACE TEMP TABLE keys__{target} AS SELECT DISTINCT sourcedId FROM ({keys}) "
                            "WHERE sourcedId IS NOT NULL")
                key_sets[target] = f"keys__{target}"
        for name in sorted(present):
            spec = specs[name]
            for column in spec.columns:
                target = column.references
                if not target:
                    continue
                keys = key_sets.get(target)
                if keys is None:
                    continue  # the referenced file is neither in this drop nor on record: nothing to check
                _bad_rows(con, name, column, keys, f"gone__{target}")
                total, cascaded = con.execute(
                    "SELECT count(*), count(*) FILTER (WHERE parent_left_out) FROM _bad").fetchone()
                if not total:
                    continue
                rows = con.execute(f"SELECT {LINE}, value, parent_left_out, parent, parent_reason FROM _bad "
                                   f"ORDER BY {LINE} LIMIT 100").fetchall()
                if column.on_dangling == "warn":
                    if first_round:
                        report.add_many([
                            Finding(spec.filename, line, column.name, value, "reference.unresolved", "warning",
                                    f"points at {target} that do not exist; the link is left out")
                            for line, value, *_ in rows
                        ], total)
                    continue
                report.add_many([
                    Finding(spec.filename, line, column.name, value, "reference.missing", "filtered",
                            _message(target, left_out, parent, why))
                    for line, value, left_out, parent, why in rows
                ], total)
                _remember_gone(con, name, spec, column.name, target)
                con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {name} "
                            f"WHERE {LINE} NOT IN (SELECT {LINE} FROM _bad)")
                outcome.dropped[name] += total
                reasons = outcome.reasons.setdefault(name, {})
                for reason, n in ((missing_reason(column.name, target), total - cascaded),
                                  (parent_left_out_reason(column.name, target), cascaded)):
                    if n:
                        reasons[reason] = reasons.get(reason, 0) + n
                changed = True
        if not changed:
            break
    return outcome


def _message(target: str, parent_left_out: bool, parent: str | None, why: str | None) -> str:
    if parent_left_out:
        return f"points at {target} {parent!r}, which was left out ({why}); the row is left out"
    return f"points at {target} that do not exist; the row is left out"


def _remember_gone(con: duckdb.DuckDBPyConnection, name: str, spec: FileSpec, column: str, target: str) -> None:
    """Record the rows about to be left out with their root cause, for the rows that point at them."""
    key = ident(spec.key[0])
    own = lit(f"its {column} points at {target} ")
    con.execute(f"""
        INSERT INTO gone__{name}
        SELECT t.{key}, CASE WHEN b.parent_left_out
                             THEN {own} || '''' || b.parent || ''', which was left out: ' || b.parent_reason
                             ELSE {own} || '''' || b.missing || ''' that do not exist' END
        FROM {name} AS t JOIN _bad AS b ON b.{LINE} = t.{LINE}
        WHERE t.{key} IS NOT NULL""")
