"""Two list columns that go together entry by entry: ``subjectCodes`` gives the code of each of ``subjects``
(courses and classes, both bindings), so the codes come with subjects, as many as there are subjects.

A mismatch cannot be paired back (which code is whose?); it is a warning and the row is read as it is.
"""

from __future__ import annotations

import duckdb

from passport_pipelines.sql.quoting import ident
from passport_pipelines.validation.oneroster.findings import SAMPLE_LIMIT, Finding, FindingsReport
from passport_pipelines.validation.oneroster.reader import LINE
from passport_pipelines.validation.oneroster.spec import FileSpec

# (the list, the list that gives one entry per entry of it)
LIST_PAIRS = (("subjects", "subjectCodes"),)


def _entries(column: str) -> str:
    return f"len(string_split(or_list({ident(column)}), ','))"


def check_list_pairs(con: duckdb.DuckDBPyConnection, relation: str, spec: FileSpec, report: FindingsReport) -> None:
    for items, codes in LIST_PAIRS:
        if items not in spec.names or codes not in spec.names:
            continue
        # or_list: a blank or comma-only cell is no list at all.
        bad = (f"or_list({ident(codes)}) IS NOT NULL AND (or_list({ident(items)}) IS NULL "
               f"OR {_entries(items)} <> {_entries(codes)})")
        total = con.execute(f"SELECT count(*) FROM {relation} WHERE {bad}").fetchone()[0]
        if not total:
            continue
        rows = con.execute(f"SELECT {LINE}, {ident(codes)}, coalesce({_entries(items)}, 0), {_entries(codes)} "
                           f"FROM {relation} WHERE {bad} ORDER BY {LINE} LIMIT {SAMPLE_LIMIT}").fetchall()
        report.add_many([Finding(spec.filename, line, codes, value, "value.list_pair", "warning",
                                 f"{codes} gives {n_codes} code(s) for {n_items} {items}: the binding pairs "
                                 f"them entry by entry, so their counts must match")
                         for line, value, n_items, n_codes in rows], total)
