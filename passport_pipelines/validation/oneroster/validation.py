"""Validating a CSV drop end to end, whatever its schema (``validation/schemas/registry.py``).

Order matters: the layout first (a OneRoster manifest, or the fixed files of a Passport
schema: which files, which modes), then each file's header and values, then duplicate keys,
then (when the sync's school year is given) that the drop is that year's (``school_year``).
Any error so far fails the drop. Only then are cross-file references resolved, filtering out
dangling rows and keeping the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import duckdb
import pyarrow as pa

from passport_pipelines.config.package_limits import DEFAULT_LIMITS, PackageLimits
from passport_pipelines.sql.engine import connect
from passport_pipelines.validation.oneroster.findings import Finding, FindingsReport, withhold_file_text
from passport_pipelines.validation.oneroster.list_pairs import check_list_pairs
from passport_pipelines.validation.oneroster.package import Package, PackageError
from passport_pipelines.validation.oneroster.reader import read_csv_table
from passport_pipelines.validation.oneroster.references import filter_references, referenced_ids
from passport_pipelines.validation.oneroster.school_year import check_drop_school_year
from passport_pipelines.validation.oneroster.value_rules import check_keys, check_values
from passport_pipelines.validation.schemas.registry import CsvSchema, csv_schema


@dataclass
class ValidatedDrop:
    """The outcome: the report, and (when it passed) the usable rows as DuckDB tables."""

    schema: str
    report: FindingsReport
    con: duckdb.DuckDBPyConnection
    modes: dict[str, str] = field(default_factory=dict)
    present: list[str] = field(default_factory=list)  # files with rows to use, in the connection
    rows: dict[str, int] = field(default_factory=dict)  # rows read per file
    filtered: dict[str, int] = field(default_factory=dict)  # rows dropped per file
    # Rows dropped per file and reason (``references.py``), e.g. {"classes": {"courseSourcedId -> courses: ...": 3}}
    left_out: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.report.has_errors

    def arrow(self, name: str) -> pa.Table:
        return self.con.table(name).to_arrow_table()


# ``known_keys(file, mode, wanted)``: the ids on record of ``file`` that references may point at, or None when
# they do not count; ``wanted()`` gives the distinct ids this drop points at in it, all a caller need look up.
KnownKeys = Callable[[str, str, Callable[[], "pa.Array"]], "pa.Array | None"]


def validate_package(path: Path, schema: str, *, known_keys: KnownKeys | None = None,
                     con: duckdb.DuckDBPyConnection | None = None, limits: PackageLimits = DEFAULT_LIMITS,
                     refused: Iterable[Finding] = (), school_year: str | None = None) -> ValidatedDrop:
    """Validate a folder or zip. ``known_keys(file, mode)`` gives the ids already on record
    for a file that this drop does not replace completely (delta, absent, or an incremental
    sync), which references may point at; None when they do not count. ``refused`` are the
    findings of entries the fetch left out of ``path`` (a sync validates its archive copy, which
    holds only the drop's own files): they are reported as if found here. ``school_year``
    (``2024-2025``) is the year the drop is synced as: a drop of another year fails.

    The report of a schema that holds secrets never quotes the file (``withhold_file_text``)."""
    definition = csv_schema(schema)  # an unknown schema raises, naming the known ones
    drop = _validate(path, definition, known_keys=known_keys, con=con, limits=limits, refused=refused,
                     school_year=school_year)
    if definition.holds_secrets:
        drop.report = withhold_file_text(drop.report, _schema_names(definition))
    return drop


def _schema_names(definition: CsvSchema) -> set[str]:
    names = set()
    for spec in definition.files.values():
        names |= {spec.filename, spec.name, *spec.names}
    return names


def _validate(path: Path, definition: CsvSchema, *, known_keys: KnownKeys | None,
              con: duckdb.DuckDBPyConnection | None, limits: PackageLimits, refused: Iterable[Finding],
              school_year: str | None) -> ValidatedDrop:
    schema = definition.name
    report = FindingsReport()
    drop = ValidatedDrop(schema=schema, report=report, con=con or connect())
    for finding in refused:
        report.add(finding)
    try:
        package = Package.open(path, limits)
    except PackageError as exc:
        for finding in exc.findings:
            report.add(finding)
        return drop
    for finding in package.refused:
        report.add(finding)
    modes = definition.layout(package, report)
    if modes is None:
        return drop
    drop.modes = modes
    specs = definition.files

    for name in [n for n, mode in modes.items() if mode != "absent"]:
        table = read_csv_table(package, specs[name], report, exact_header=definition.has_manifest)
        if table is None:
            continue
        drop.con.register("_incoming", table)
        drop.con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _incoming")
        drop.con.unregister("_incoming")
        drop.rows[name] = table.num_rows
        del table
        check_values(drop.con, name, specs[name], modes[name], report)
        check_keys(drop.con, name, specs[name], report)
        check_list_pairs(drop.con, name, specs[name], report)
        drop.present.append(name)
    if school_year is not None:
        check_drop_school_year(drop.con, drop.present, modes, school_year, report)
    if report.has_errors:
        return drop

    known: set[str] = set()
    # Only the ids a present file may point at: a delta of users reads the orgs on record, never the
    # millions of enrollments nothing in it refers to.
    referenced = {c.references for name in drop.present for c in specs[name].columns if c.references}
    for name in sorted(referenced & set(specs)):
        ids = known_keys(name, drop.modes.get(name, "absent"),
                         lambda name=name: referenced_ids(drop.con, specs, drop.present, name)) if known_keys else None
        if ids is not None:
            drop.con.register("_known", pa.table({"sourcedId": ids}))
            drop.con.execute(f"CREATE OR REPLACE TABLE known__{name} AS SELECT * FROM _known")
            drop.con.unregister("_known")
            known.add(name)
    outcome = filter_references(drop.con, specs, set(drop.present), known, report,
                                bulk={n for n in drop.present if drop.modes.get(n) == "bulk"})
    drop.filtered, drop.left_out = outcome.dropped, outcome.reasons
    return drop
