"""Cross-file references: rows that point at records that do not exist are filtered out.

Filtering is permissive by design (SPEC §7): the offending rows are reported and dropped,
the rest of the drop goes on. Dropping a class drops its enrollments in turn, so the check
repeats until nothing more falls out.
"""

from __future__ import annotations

import duckdb

from passport_pipelines.oneroster_csv.findings import Finding, FindingsReport
from passport_pipelines.oneroster_csv.reader import LINE
from passport_pipelines.oneroster_csv.spec import FileSpec

MAX_ROUNDS = 5


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def key_relation(target: str, present: set[str], known: set[str], key: str = "sourcedId") -> str | None:
    """SQL that lists the ids a reference to ``target`` (whose key column is ``key``) may point at."""
    parts = []
    if target in present:
        parts.append(f"SELECT {_q(key)} AS sourcedId FROM {target}")
    if target in known:
        parts.append(f"SELECT sourcedId FROM known__{target}")
    return " UNION ALL ".join(parts) if parts else None


def filter_references(con: duckdb.DuckDBPyConnection, specs: dict[str, FileSpec], present: set[str],
                      known: set[str], report: FindingsReport) -> dict[str, int]:
    """Drop dangling rows from the tables named in ``present`` (in place); rows dropped per file."""
    dropped: dict[str, int] = {name: 0 for name in present}
    targets = {c.references for name in present for c in specs[name].columns if c.references}
    for round_no in range(MAX_ROUNDS):
        first_round = round_no == 0
        changed = False
        # The ids each referenced file offers, once per round (a round's filtering is seen by the next).
        key_sets = {}
        for target in sorted(targets):
            keys = key_relation(target, present, known, specs[target].key[0])
            if keys is not None:
                con.execute(f"CREATE OR REPLACE TEMP TABLE keys__{target} AS SELECT DISTINCT sourcedId FROM ({keys}) "
                            "WHERE sourcedId IS NOT NULL")
                key_sets[target] = f"keys__{target}"
        for name in sorted(present):
            spec = specs[name]
            for column in spec.columns:
                if not column.references:
                    continue
                keys = key_sets.get(column.references)
                if keys is None:
                    continue  # the referenced file is neither in this drop nor on record: nothing to check
                c = _q(column.name)
                if column.kind == "ids":
                    # Every id of every list cell against the keys, as one anti-join.
                    con.execute(f"""
                        CREATE OR REPLACE TEMP TABLE _bad AS
                        SELECT t.{LINE}, t.{c} AS value FROM {name} AS t
                        WHERE t.{LINE} IN (
                            SELECT u.{LINE} FROM (
                                SELECT {LINE}, unnest(string_split(or_list({c}), ',')) AS ref FROM {name}
                                WHERE {c} IS NOT NULL
                            ) AS u ANTI JOIN {keys} AS k ON k.sourcedId = u.ref)""")
                else:
                    con.execute(f"CREATE OR REPLACE TEMP TABLE _bad AS SELECT t.{LINE}, t.{c} AS value FROM {name} AS t "
                                f"ANTI JOIN {keys} AS k ON k.sourcedId = t.{c} WHERE t.{c} IS NOT NULL")
                total = con.execute("SELECT count(*) FROM _bad").fetchone()[0]
                if not total:
                    continue
                rows = con.execute(f"SELECT {LINE}, value FROM _bad ORDER BY {LINE} LIMIT 100").fetchall()
                if column.on_dangling == "warn":
                    if first_round:
                        report.add_many([
                            Finding(spec.filename, line, column.name, value, "reference.unresolved", "warning",
                                    f"points at {column.references} that do not exist; the link is left out")
                            for line, value in rows
                        ], total)
                    continue
                report.add_many([
                    Finding(spec.filename, line, column.name, value, "reference.missing", "filtered",
                            f"points at {column.references} that do not exist; the row is left out")
                    for line, value in rows
                ], total)
                con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {name} "
                            f"WHERE {LINE} NOT IN (SELECT {LINE} FROM _bad)")
                dropped[name] += total
                changed = True
        if not changed:
            break
    return dropped
