"""Export golden roster tables as a OneRoster 1.1 or 1.2 **bulk** CSV package (a zip).

``write_oneroster_zip(tables, out_path, version)`` takes the canonical DataFrames (keyed by canonical table
name, ids already the ids to deliver), keeps the ``active`` rows and writes ``manifest.csv`` plus the
rostering files with the exact headers of the version (see ``validation/oneroster/spec.py``): seven in 1.1, and
``roles.csv`` too in 1.2 (where a user's role and orgs live; ``users.csv`` 1.2 has no role column and
gives ``primaryOrgSourcedId`` as the user's first org); and the gradebook and resources files of the version
for the tables given (``gradebook_layout``). ``status``/``dateLastModified``
blank as bulk files require, extension columns (``extensions`` JSON) as trailing ``metadata.<name>``
columns, and ``password`` always blank: credentials are never exported.

It is built for district-sized exports (10M+ rows): tables are processed in row chunks, every step is
vectorized with pyarrow / numpy / duckdb (no per-row Python), CSV lines are assembled in Arrow with
minimal quoting (like ``csv.QUOTE_MINIMAL``) and streamed into the zip, and a background thread builds the
next chunk while the current one is compressed (zlib and Arrow both release the GIL). Every text cell
passes through the formula guard (``formula_guard``) so the files are safe to open in a spreadsheet.

The zip is written to a temporary file next to ``out_path`` and moved into place with ``os.replace``:
a failed export never leaves a partial (or half-overwritten) package behind.
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import os
import queue
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from passport_pipelines.delivery import binding_conversions
from passport_pipelines.delivery.csv_splice import RowSplice, as_lines, body_bytes
from passport_pipelines.delivery.formula_guard import TEXT, column_kind, neutralize_array
from passport_pipelines.delivery.gradebook_layout import CLASS_SCHOOL, GRADEBOOK_LAYOUTS
from passport_pipelines.delivery.parallel_deflate import ParallelDeflate
from passport_pipelines.delivery.previous_package import PreviousPackage, copy_member, package_comment
from passport_pipelines.model import entities
from passport_pipelines.validation.oneroster import spec

log = logging.getLogger(__name__)

SYSTEM_NAME = "Passport Data Sync"
CHUNK_ROWS = 262_144
COMPRESS_LEVEL = 1


# 1.2-only user roles and the 1.1 role they are delivered as.
ROLE_TO_11 = {
    "districtAdministrator": "administrator",
    "siteAdministrator": "administrator",
    "principal": "administrator",
    "systemAdministrator": "administrator",
    "counselor": "aide",
}

_AGENTS = "@agents"  # users.agentSourcedIds: built from the agents table
_PRIMARY_ORG = "@primary_org"  # users.primaryOrgSourcedId (1.2): the first of the user's orgs
_DERIVED = (_AGENTS, _PRIMARY_ORG, CLASS_SCHOOL)

# 1.1 file -> (canonical table, {1.1 column: canonical column, or None for an always-blank cell}).
# The column order is checked against spec.files_for("1.1") below.
EXPORTS: dict[str, tuple[str, dict[str, str | None]]] = {
    "orgs": ("orgs", {
        "sourcedId": "sourced_id", "status": None, "dateLastModified": None,
        "name": "name", "type": "type", "identifier": "identifier", "parentSourcedId": "parent_sourced_id",
    }),
    "academicSessions": ("academic_sessions", {
        "sourcedId": "sourced_id", "status": None, "dateLastModified": None,
        "title": "title", "type": "type", "startDate": "start_date", "endDate": "end_date",
        "parentSourcedId": "parent_sourced_id", "schoolYear": "ending_year",
    }),
    "courses": ("courses", {
        "sourcedId": "sourced_id", "status": None, "dateLastModified": None,
        "schoolYearSourcedId": "school_year_sourced_id", "title": "title", "courseCode": "course_code",
        "grades": "grades", "orgSourcedId": "org_sourced_id", "subjects": "subjects",
        "subjectCodes": "subject_codes",
    }),
    "classes": ("classes", {
        "sourcedId": "sourced_id", "status": None, "dateLastModified": None,
        "title": "title", "grades": "grades", "courseSourcedId": "course_sourced_id", "classCode": "class_code",
        "classType": "class_type", "location": "location", "schoolSourcedId": "school_sourced_id",
        "termSourcedIds": "term_sourced_ids", "subjects": "subjects", "subjectCodes": "subject_codes",
        "periods": "periods",
    }),
    "users": ("users", {
        "sourcedId": "sourced_id", "status": None, "dateLastModified": None,
        "enabledUser": "enabled_user", "orgSourcedIds": "org_sourced_ids", "role": "role",
        "username": "username", "userIds": "user_ids", "givenName": "given_name", "familyName": "family_name",
        "middleName": "middle_name", "identifier": "identifier", "email": "email", "sms": "sms",
        "phone": "phone", "agentSourcedIds": _AGENTS, "grades": "grades",
        "password": None,  # never exported
    }),
    "enrollments": ("enrollments", {
        "sourcedId": "sourced_id", "status": None, "dateLastModified": None,
        "classSourcedId": "class_sourced_id", "schoolSourcedId": "school_sourced_id",
        "userSourcedId": "user_sourced_id", "role": "role", "primary": "primary",
        "beginDate": "begin_date", "endDate": "end_date",
    }),
    "demographics": ("demographics", {
        "sourcedId": "sourced_id", "status": None, "dateLastModified": None,
        "birthDate": "birth_date", "sex": "sex",
        "americanIndianOrAlaskaNative": "american_indian_or_alaska_native", "asian": "asian",
        "blackOrAfricanAmerican": "black_or_african_american",
        "nativeHawaiianOrOtherPacificIslander": "native_hawaiian_or_other_pacific_islander", "white": "white",
        "demographicRaceTwoOrMoreRaces": "two_or_more_races",
        "hispanicOrLatinoEthnicity": "hispanic_or_latino_ethnicity",
        "countryOfBirthCode": "country_of_birth_code", "stateOfBirthAbbreviation": "state_of_birth_abbreviation",
        "cityOfBirth": "city_of_birth", "publicSchoolResidenceStatus": "public_school_residence_status",
    }),
}

# 1.2: users without role and orgs (they move to roles.csv), with the 1.2 columns; and roles.csv.
_USERS_12_SOURCES = {**EXPORTS["users"][1], "userMasterIdentifier": None,
                     "preferredGivenName": "preferred_given_name", "preferredMiddleName": None,
                     "preferredFamilyName": "preferred_family_name", "primaryOrgSourcedId": _PRIMARY_ORG,
                     "pronouns": None}
_USERS_12 = {name: _USERS_12_SOURCES[name] for name in spec.files_for("1.2")["users"].names}
EXPORTS_12: dict[str, tuple[str, dict[str, str | None]]] = {
    **{f: EXPORTS[f] for f in ("orgs", "academicSessions", "courses", "classes")},
    "users": ("users", _USERS_12),
    "enrollments": EXPORTS["enrollments"],
    "demographics": EXPORTS["demographics"],
    "roles": ("roles", {
        "sourcedId": "sourced_id", "status": None, "dateLastModified": None, "userSourcedId": "user_sourced_id",
        "roleType": "role_type", "role": "role", "beginDate": "begin_date", "endDate": "end_date",
        "orgSourcedId": "org_sourced_id", "userProfileSourcedId": None,
    }),
}
# The rostering files, always written (unless a shield withholds them).
ROSTER_LAYOUTS = {"1.1": EXPORTS, "1.2": EXPORTS_12}
# Every file, the gradebook and resources ones too: those are written only for the tables given.
LAYOUTS = {v: {**ROSTER_LAYOUTS[v], **GRADEBOOK_LAYOUTS[v]} for v in ROSTER_LAYOUTS}
VERSIONS = tuple(LAYOUTS)
# Files of a manifest that we never write (1.2 user profiles): declared absent.
ABSENT_FILES = {"1.1": (), "1.2": ("userProfiles",)}

for _version, _layout in LAYOUTS.items():
    _spec = spec.files_for(_version)
    for _file, (_entity, _columns) in _layout.items():
        assert tuple(_columns) == _spec[_file].names, f"{_file}: export columns out of step with the {_version} spec"
        assert all(c in entities.columns(_entity) for c in _columns.values() if c not in (None, *_DERIVED))
    assert set(_layout) == set(_spec) - set(ABSENT_FILES[_version])

_AGENT_COLUMNS = ("user_sourced_id", "agent_sourced_id", "status")

# Cells the bindings cannot carry as the golden data holds them (``binding_conversions``).
# (entity, file column) -> the other canonical columns of the same rows the conversion reads.
_CONVERTED = {("courses", "subjectCodes"): ("subjects",), ("classes", "subjectCodes"): ("subjects",),
              ("users", "username"): ("email", "sourced_id"), ("demographics", "sex"): ()}


def _convert(name: str, arr: pa.Array, others: dict[str, pa.Array], version: str) -> tuple[pa.Array, int]:
    """The cells of ``name`` as the binding of ``version`` can carry them, and how many changed."""
    if name == "subjectCodes":
        return binding_conversions.paired_codes(arr, others["subjects"])
    if name == "username":
        return binding_conversions.username_or_fallback(arr, others["email"], others["sourced_id"])
    if name == "sex" and version == "1.1":
        return binding_conversions.sex_for_11(arr)
    return arr, 0

# Bytes that make a CSV cell need quotes (QUOTE_MINIMAL): delimiter, quote char, line ends.
_NEEDS_QUOTES = np.zeros(256, dtype=bool)
_NEEDS_QUOTES[[ord(","), ord('"'), ord("\r"), ord("\n")]] = True


def export_files(version: str, given: set[str], absent: frozenset[str] = frozenset()) -> dict[str, tuple[str, ...]]:
    """The files of a package of ``version`` for tables of the entities ``given`` (less the files named in
    ``absent``): file name (``users.csv``) -> the tables its rows are built from."""
    specs = spec.files_for(version)
    return {specs[f].filename: _reads(entity) for f, (entity, _) in _layout(version, given, absent).items()}


def plain_header(version: str, filename: str) -> bytes:
    """The header line of a file of the version whose rows carry no ``metadata.*`` columns."""
    specs = spec.files_for(version)
    [columns] = [columns for f, (_, columns) in LAYOUTS[version].items() if specs[f].filename == filename]
    return _csv_line(list(columns))


def _layout(version: str, given: set[str], absent: frozenset[str], also: set[str] = frozenset()) -> dict:
    """The files written: every rostering file, and the gradebook and resources files of a given table
    (or in ``also``: copied from a previous package), none named in ``absent``."""
    specs = spec.files_for(version)
    return {f: v for f, v in LAYOUTS[version].items()
            if f not in absent and (f in ROSTER_LAYOUTS[version] or v[0] in given or specs[f].filename in also)}


def write_oneroster_zip(tables: Mapping[str, pd.DataFrame], out_path: Path, version: str = "1.1", *,
                        absent: frozenset[str] = frozenset(), release: bool = False,
                        fingerprints: Mapping[str, str] | None = None,
                        previous: PreviousPackage | None = None, bases: Mapping[str, str] | None = None,
                        spliced: Mapping[str, RowSplice] | None = None) -> dict[str, int]:
    """Write a OneRoster ``version`` bulk package of the active rows of ``tables`` to the zip ``out_path``.

    Returns the number of data rows written per file (``{"orgs.csv": 12, ...}``). A rostering table missing
    from ``tables`` (or empty) is written with its header only and still declared ``bulk``; a gradebook or
    resources file is written only when its table is in ``tables`` (delivered where a destination asks for
    it), and declared absent otherwise. The files named in ``absent`` (e.g. ``{"demographics"}``, withheld
    by a privacy shield) are left out and declared absent.
    Raises ``ValueError`` when a given table lacks a column the export needs; ``out_path`` is then left
    untouched.

    With ``release``, ``tables`` (a dict the caller holds no other reference to) is emptied as the export
    goes: each table is dropped once the last file that reads it is written, so that a large district's
    frames are not all held while its users file, the costliest to write, is built.

    ``fingerprints`` (file name -> fingerprint of its inputs) are written in the zip comment; a file whose
    fingerprint the ``previous`` package names too is copied from it, compressed as it is, and its table
    need not be given. ``bases`` (file name -> splice basis) are written there too, for the next delivery.

    A file in ``spliced`` is the last package's with the rows of some ids replaced (``RowSplice``): its
    table holds the rows of those ids only.
    """
    if version not in LAYOUTS:
        raise ValueError(f"OneRoster {version!r} is not one of {', '.join(VERSIONS)}")
    fingerprints = dict(fingerprints or {})
    copied = previous.unchanged(fingerprints) if previous is not None else set()
    layout = _layout(version, set(tables), absent, copied)
    specs = spec.files_for(version)
    out_path = Path(out_path)
    _check_columns(tables, layout, version)

    fd, tmp_name = tempfile.mkstemp(prefix=f".{out_path.name}.", suffix=".partial", dir=out_path.parent)
    tmp = Path(tmp_name)
    duck = _Duck()
    try:
        counts: dict[str, int] = {}
        with os.fdopen(fd, "wb") as raw, _opened(previous if copied else None) as source:
            with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as zf:
                named = {specs[f].filename: fingerprints[specs[f].filename]
                         for f in layout if specs[f].filename in fingerprints}
                if named:
                    zf.comment = package_comment(named, {f: b for f, b in (bases or {}).items() if f in named})
                _write_small(zf, spec.MANIFEST, _manifest_rows(version, layout))
                order = _write_order(layout)
                for i, file_name in enumerate(order):
                    if release:
                        _release(tables, {t for f in order[i:] if specs[f].filename not in copied
                                          for t in _reads(layout[f][0])})
                    if specs[file_name].filename in copied:
                        copy_member(source, zf, specs[file_name].filename)
                        counts[file_name] = previous.rows[specs[file_name].filename]
                        continue
                    entity, columns = layout[file_name]
                    splice = (spliced or {}).get(specs[file_name].filename)
                    if splice is not None:
                        counts[file_name] = _write_spliced(zf, specs[file_name].filename, entity, columns,
                                                           tables, duck, version, splice)
                    else:
                        counts[file_name] = _write_file(zf, specs[file_name].filename, entity, columns,
                                                        tables, duck, version)
                    # DuckDB keeps what a file's queries allocated until its connection closes (the users'
                    # agent ids: hundreds of megabytes at a million students): not for the next file.
                    duck.close()
                    pa.default_memory_pool().release_unused()
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, out_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        duck.close()
    return {specs[f].filename: counts[f] for f in layout}


def _opened(previous: PreviousPackage | None):
    return zipfile.ZipFile(previous.path) if previous is not None else contextlib.nullcontext()


# The tables a file's rows are built from besides its own (agents' ids on users, org types on 1.2 roles,
# class schools on line items, 1.1's left-out line items on results).
_ALSO_READS = {"users": ("agents",), "roles": ("orgs",), "line_items": ("classes",), "results": ("line_items",)}


def _reads(entity: str) -> tuple[str, ...]:
    return (entity, *_ALSO_READS.get(entity, ()))


def _release(tables: dict[str, pd.DataFrame], needed: set[str]) -> None:
    for name in [t for t in tables if t not in needed]:
        del tables[name]


def _write_order(layout: dict) -> list[str]:
    """The files in the layout's order, users last: building the users file takes the most working memory
    (agent ids, metadata columns), so with ``release`` every other table is gone by then."""
    return sorted(layout, key=lambda f: layout[f][0] == "users")


# --- inputs ----------------------------------------------------------------------------------------------


def _present(tables: Mapping[str, pd.DataFrame], entity: str) -> pd.DataFrame | None:
    df = tables.get(entity)
    return df if df is not None and len(df) else None


def _check_columns(tables: Mapping[str, pd.DataFrame], layout: dict, version: str) -> None:
    problems = []
    for entity, columns in layout.values():
        df = _present(tables, entity)
        if df is None:
            continue
        needed = {"status", *(c for c in columns.values() if c not in (None, *_DERIVED))}
        if _PRIMARY_ORG in columns.values():
            needed.add("org_sourced_ids")
        if CLASS_SCHOOL in columns.values():
            needed |= {"school_sourced_id", "class_sourced_id"}
        missing = sorted(needed - set(df.columns))
        if missing:
            problems.append(f"{entity}: missing column(s) {', '.join(missing)}")
    agents = _present(tables, "agents")
    if agents is not None and (missing := sorted(set(_AGENT_COLUMNS) - set(agents.columns))):
        problems.append(f"agents: missing column(s) {', '.join(missing)}")
    if problems:
        raise ValueError(f"cannot export OneRoster {version}: " + "; ".join(problems))


def _to_arrow(series: pd.Series) -> pa.Array:
    """A pandas column (object, string, Arrow-backed, categorical...) as a plain Arrow array."""
    if series.dtype == object:
        try:  # a declared type saves arrow's type inference
            return pa.array(series, type=pa.string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass  # booleans or numbers in an object column: let arrow infer
    arr = pa.array(series, from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    return arr


def _as_text(arr: pa.Array) -> pa.Array:
    if pa.types.is_string(arr.type):
        return arr
    if pa.types.is_boolean(arr.type):
        return _bool_text(arr)
    return arr.cast(pa.string())


def _bool_text(arr: pa.Array) -> pa.Array:
    """OneRoster booleans: "true" / "false", null stays blank."""
    if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type):
        arr = pc.not_equal(arr, 0)
    if pa.types.is_boolean(arr.type):
        return pc.if_else(arr, pa.scalar("true"), pa.scalar("false"))
    return pc.utf8_lower(arr.cast(pa.string()))  # already text ("TRUE" -> "true")


def _map_roles_12(arr: pa.Array, org_types: pa.Array | None) -> pa.Array:
    """1.1's administrator is a 1.2 districtAdministrator at a district org, else a siteAdministrator."""
    at_district = pc.fill_null(pc.equal(org_types, "district"), False) if org_types is not None else \
        pa.array([False] * len(arr))
    admin = pc.if_else(at_district, pa.scalar("districtAdministrator"), pa.scalar("siteAdministrator"))
    return pc.if_else(pc.fill_null(pc.equal(arr, "administrator"), False), admin, arr)


def _map_roles_11(arr: pa.Array) -> pa.Array:
    keys = pa.array(list(ROLE_TO_11))
    idx = pc.index_in(arr, value_set=keys)
    return pc.coalesce(pa.array(list(ROLE_TO_11.values())).take(idx), arr)


# --- per-table context: computed once over the whole table -------------------------------------------------


class _Duck:
    """A duckdb connection opened on first use (connecting costs 10-50 ms; most tables never need one).

    ``_Duck(parent)`` is a cursor of the parent's database, for use in another thread.
    """

    def __init__(self, parent: _Duck | None = None) -> None:
        self._parent = parent
        self._con: duckdb.DuckDBPyConnection | None = None

    def __getattr__(self, name: str):
        if self._con is None:
            self._con = duckdb.connect() if self._parent is None else self._parent.cursor()
        return getattr(self._con, name)

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


@dataclass
class _Table:
    df: pd.DataFrame
    active: np.ndarray  # bool per input row
    agents: pa.Array | None = None  # users: agentSourcedIds per input row
    org_types: pa.Array | None = None  # roles: the type of each row's org (1.1 administrators become 1.2 ones)
    class_schools: pa.Array | None = None  # line items: their school, else their class's (per input row)
    metadata: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (metadata.<name>, JSON pointers into extensions)
    converted: dict[str, int] = field(default_factory=dict)  # "entity.column" -> cells the binding made us change


def _prepare(df: pd.DataFrame, entity: str, tables: Mapping[str, pd.DataFrame], con, version: str) -> _Table:
    status = _to_arrow(df["status"])
    active = pc.fill_null(pc.equal(status, "active"), False).to_numpy(zero_copy_only=False)
    table = _Table(df=df, active=active)
    carried = _carried_11(df, entity, tables) if version == "1.1" else None
    if carried is not None:
        table.active = active & carried
        if left_out := int((active & ~carried).sum()):
            table.converted[f"{entity} rows left out"] = left_out
        active = table.active
    if "extensions" in df.columns:
        table.metadata = _metadata_columns(_to_arrow(df["extensions"]).filter(pa.array(active)), con)
    if entity == "users":
        table.agents = _agent_ids(_to_arrow(df["sourced_id"]), _present(tables, "agents"), con)
    if entity == "line_items":
        table.class_schools = _class_schools(df, _present(tables, "classes"))
    orgs = _present(tables, "orgs")
    if entity == "roles" and orgs is not None:
        ids, types = _as_text(_to_arrow(orgs["sourced_id"])), _as_text(_to_arrow(orgs["type"]))
        table.org_types = types.take(pc.index_in(_as_text(_to_arrow(df["org_sourced_id"])), value_set=ids))
    return table


def _line_items_left_out_11(line_items: pd.DataFrame) -> pa.Array:
    carried = binding_conversions.line_items_11(_as_text(_to_arrow(line_items["result_value_min"])),
                                                _as_text(_to_arrow(line_items["result_value_max"])))
    return _as_text(_to_arrow(line_items["sourced_id"])).filter(pc.invert(carried))


def _carried_11(df: pd.DataFrame, entity: str, tables: Mapping[str, pd.DataFrame]) -> np.ndarray | None:
    """Rows a 1.1 file can carry (``binding_conversions``); None when every row can be."""
    if entity == "line_items":
        carried = binding_conversions.line_items_11(_as_text(_to_arrow(df["result_value_min"])),
                                                    _as_text(_to_arrow(df["result_value_max"])))
    elif entity == "results":
        line_items = _present(tables, "line_items")
        left_out = _line_items_left_out_11(line_items) if line_items is not None else pa.array([], pa.string())
        carried = binding_conversions.results_11(_as_text(_to_arrow(df["score"])),
                                                 _as_text(_to_arrow(df["line_item_sourced_id"])), left_out)
    else:
        return None
    return carried.to_numpy(zero_copy_only=False)


def _class_schools(line_items: pd.DataFrame, classes: pd.DataFrame | None) -> pa.Array:
    """Each line item's school: its own, else its class's (1.1 line items name none)."""
    own = _as_text(_to_arrow(line_items["school_sourced_id"]))
    if classes is None:
        return own
    ids, schools = _as_text(_to_arrow(classes["sourced_id"])), _as_text(_to_arrow(classes["school_sourced_id"]))
    of_class = schools.take(pc.index_in(_as_text(_to_arrow(line_items["class_sourced_id"])), value_set=ids))
    return pc.coalesce(own, of_class)


def _agent_ids(user_ids: pa.Array, agents: pd.DataFrame | None, con) -> pa.Array | None:
    """agentSourcedIds per user: the active agents' ids, distinct, sorted, comma-joined."""
    if agents is None:
        return None
    rel = pa.table({c: _as_text(_to_arrow(agents[c])) for c in _AGENT_COLUMNS})
    con.register("export_agents", rel)
    try:
        agg = con.sql(
            "SELECT user_sourced_id AS u, array_to_string(list_sort(list_distinct(list(agent_sourced_id))), ',') AS a"
            " FROM export_agents WHERE status = 'active' AND user_sourced_id IS NOT NULL"
            " AND agent_sourced_id IS NOT NULL AND agent_sourced_id <> '' GROUP BY user_sourced_id"
        ).to_arrow_table()
    finally:
        con.unregister("export_agents")
    if agg.num_rows == 0:
        return None
    keys = agg.column("u").combine_chunks()
    values = agg.column("a").combine_chunks()
    return values.take(pc.index_in(_as_text(user_ids), value_set=keys))


def metadata_columns(df: pd.DataFrame) -> tuple[str, ...]:
    """The ``metadata.*`` columns a file of the table's active rows has (found in their extensions)."""
    if "extensions" not in df.columns or not len(df):
        return ()
    active = pc.fill_null(pc.equal(_to_arrow(df["status"]), "active"), False)
    con = duckdb.connect()
    try:
        return tuple(name for name, _ in _metadata_columns(_to_arrow(df["extensions"]).filter(active), con))
    finally:
        con.close()


def _metadata_columns(extensions: pa.Array, con) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The metadata.* columns found in the (active rows') extensions, in order of first appearance."""
    distinct = pc.unique(pc.drop_null(_as_text(extensions)))
    if len(distinct) == 0:
        return ()
    con.register("export_ext", pa.table({"i": pa.array(np.arange(len(distinct), dtype=np.int64)), "e": distinct}))
    try:
        keys = [k for (k,) in con.sql(
            "SELECT k FROM (SELECT i, unnest(json_keys(e)) AS k, generate_subscripts(json_keys(e), 1) AS pos"
            " FROM export_ext WHERE trim(e) <> '') GROUP BY k ORDER BY min(i * 1000000 + pos)"
        ).fetchall()]
    finally:
        con.unregister("export_ext")
    columns: dict[str, list[str]] = {}
    for key in keys:
        name = key if key.startswith("metadata.") else f"metadata.{key}"
        columns.setdefault(name, []).append("/" + key.replace("~", "~0").replace("/", "~1"))
    return tuple((name, tuple(paths)) for name, paths in columns.items())


def _metadata_values(extensions: pa.Array, metadata, con) -> list[pa.Array]:
    """One text array per metadata column; the JSON is parsed once per distinct value (in duckdb)."""
    encoded = pc.dictionary_encode(_as_text(extensions))
    values = encoded.dictionary
    if len(values) == 0:
        return [pa.nulls(len(extensions), pa.string()) for _ in metadata]
    selects, params = [], []
    for n, (_, paths) in enumerate(metadata):
        selects.append(f"coalesce({', '.join('json_extract_string(e, ?)' for _ in paths)}) AS c{n}")
        params.extend(paths)
    con.register("export_ext", pa.table({"i": pa.array(np.arange(len(values), dtype=np.int64)), "e": values}))
    try:
        parsed = con.sql(
            f"SELECT {', '.join(selects)} FROM export_ext ORDER BY i", params=params
        ).to_arrow_table()
    finally:
        con.unregister("export_ext")
    return [parsed.column(n).combine_chunks().take(encoded.indices) for n in range(len(metadata))]


# --- CSV assembly ------------------------------------------------------------------------------------------


def _quote_minimal(arr: pa.Array) -> pa.Array:
    """Quote the cells that contain a comma, a quote or a line end (doubling inner quotes)."""
    _, offsets_buf, data_buf = arr.buffers()
    if data_buf is None or data_buf.size == 0:
        return arr
    data = np.frombuffer(data_buf, dtype=np.uint8)
    offsets = np.frombuffer(offsets_buf, dtype=np.int32, count=len(arr) + 1, offset=arr.offset * 4)
    data = data[offsets[0]:offsets[-1]]
    raw = data.tobytes()  # a copy, but bytes.find runs at memchr speed: most columns have nothing to quote
    if all(raw.find(c) < 0 for c in (b",", b'"', b"\n", b"\r")):
        return arr
    special = np.flatnonzero(_NEEDS_QUOTES[data])
    if special.size == 0:
        return arr
    rows = np.searchsorted(offsets, special + offsets[0], side="right") - 1
    mask = np.zeros(len(arr), dtype=bool)
    mask[rows] = True
    if arr.null_count:
        mask &= arr.is_valid().to_numpy(zero_copy_only=False)
    pa_mask = pa.array(mask)
    inner = pc.replace_substring(arr.filter(pa_mask), '"', '""')
    return pc.replace_with_mask(arr, pa_mask, pc.binary_join_element_wise('"', inner, '"', ""))


def _cell(arr: pa.Array, kind: str = TEXT) -> pa.Array:
    arr = _as_text(arr)
    if pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.string())
    return _quote_minimal(neutralize_array(arr, kind))


def _csv_line(values: list[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\n").writerow(values)
    return out.getvalue().encode("utf-8")


def _lines(cells: list[pa.Array | None]) -> pa.Array:
    """Join the cells of each row into one ``a,b,c\\n`` string (None = a blank column)."""
    parts: list = [pa.scalar("") if c is None else c for c in cells]
    last = parts[-1]
    if isinstance(last, pa.Scalar):
        parts[-1] = pa.scalar("\n")
    else:
        parts[-1] = pc.binary_join_element_wise(last, "", "\n", null_handling="replace", null_replacement="")
    line = pc.binary_join_element_wise(*parts, ",", null_handling="replace", null_replacement="")
    assert isinstance(line, pa.Array), "sourcedId is never blank"
    return line


def _buffer(lines: pa.Array) -> memoryview:
    _, offsets_buf, data_buf = lines.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int32, count=len(lines) + 1, offset=lines.offset * 4)
    return memoryview(data_buf)[int(offsets[0]):int(offsets[-1])]


def _chunks(table: _Table, entity: str, columns: dict[str, str | None], duck: _Duck,
            version: str) -> Iterator[tuple[memoryview, int]]:
    """The CSV body of one file, chunk by chunk: (bytes, rows)."""
    con = _Duck(duck)  # its own cursor: this generator may run in the worker thread
    try:
        yield from _chunks_with(table, entity, columns, con, version)
    finally:
        con.close()


def _chunks_with(table: _Table, entity: str, columns: dict[str, str | None], con,
                 version: str) -> Iterator[tuple[memoryview, int]]:
    df = table.df
    bools = set(entities.boolean_columns(entity))
    for start in range(0, len(df), CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, len(df))
        active = table.active[start:stop]
        rows = int(active.sum())
        if rows == 0:
            continue
        keep = None if rows == stop - start else pa.array(active)

        def take(arr: pa.Array) -> pa.Array:
            return arr if keep is None else arr.filter(keep)

        cells: list[pa.Array | None] = []
        for name, source in columns.items():
            if source is None:
                cells.append(None)
                continue
            if source == _AGENTS:
                if table.agents is None:
                    cells.append(None)
                    continue
                arr = take(table.agents.slice(start, stop - start))
            elif source == CLASS_SCHOOL:
                arr = take(table.class_schools.slice(start, stop - start))
            elif source == _PRIMARY_ORG:
                orgs = _as_text(take(_to_arrow(df["org_sourced_ids"].iloc[start:stop])))
                arr = pc.list_element(pc.split_pattern(pc.fill_null(orgs, ""), ","), 0)
                arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
            else:
                arr = take(_to_arrow(df[source].iloc[start:stop]))
                if source in bools:
                    arr = _bool_text(arr)
                elif (entity, name) in _CONVERTED:
                    others = {}
                    for other in _CONVERTED[entity, name]:
                        others[other] = _as_text(take(_to_arrow(df[other].iloc[start:stop])))
                    arr, changed = _convert(name, _as_text(arr), others, version)
                    if changed:
                        table.converted[f"{entity}.{name}"] = table.converted.get(f"{entity}.{name}", 0) + changed
                elif entity == "users" and source == "role" and version == "1.1":
                    arr = _map_roles_11(_as_text(arr))
                elif entity == "roles" and source == "role":
                    arr = _map_roles_12(_as_text(arr), None if table.org_types is None
                                        else take(table.org_types.slice(start, stop - start)))
            cells.append(_cell(arr, column_kind(name)))
        if table.metadata:
            ext = take(_to_arrow(df["extensions"].iloc[start:stop]))
            cells.extend(_cell(v) for v in _metadata_values(ext, table.metadata, con))
        yield _buffer(_lines(cells)), rows


def _in_background(chunks: Iterator, depth: int = 2) -> Iterator:
    """Run a chunk generator in a worker thread, ``depth`` chunks ahead of the consumer."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in chunks:
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(done)
        except BaseException as exc:  # handed to the consumer
            q.put(exc)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()  # runs the generator's cleanup (its duckdb connection) in this thread

    worker = threading.Thread(target=produce, name="oneroster-export-chunks", daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                worker.join(0.05)


# --- zip ---------------------------------------------------------------------------------------------------


def _zip_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info._compresslevel = COMPRESS_LEVEL  # noqa: SLF001 - ZipFile.open reads it from here
    info.external_attr = 0o100644 << 16
    return info


@contextlib.contextmanager
def _member(zf: zipfile.ZipFile, filename: str, big: bool) -> Iterator:
    """A member of ``zf`` open for writing, compressed on both cores (``ParallelDeflate``). zipfile has no
    parameter for its compressor; the one it made is replaced before anything is written."""
    with zf.open(_zip_info(filename), "w", force_zip64=big) as f:
        if getattr(f, "_compressor", None) is not None:
            f._compressor = ParallelDeflate(COMPRESS_LEVEL)
        yield f


def _write_small(zf: zipfile.ZipFile, name: str, rows: list[list[str]]) -> None:
    with zf.open(_zip_info(name), "w") as f:
        for row in rows:
            f.write(_csv_line(row))


def _manifest_rows(version: str, layout: dict) -> list[list[str]]:
    files = [*LAYOUTS[version], *ABSENT_FILES[version]]
    modes = {f: "bulk" if f in layout else "absent" for f in files}
    return [
        ["propertyName", "value"],
        ["manifest.version", "1.0"],
        ["oneroster.version", version],
        *([f"file.{f}", modes[f]] for f in sorted(modes, key=str.lower)),
        ["source.systemName", SYSTEM_NAME],
    ]


def _write_file(zf: zipfile.ZipFile, filename: str, entity: str, columns: dict[str, str | None],
                tables: Mapping[str, pd.DataFrame], duck: _Duck, version: str) -> int:
    df = _present(tables, entity)
    if df is None:
        _write_small(zf, filename, [list(columns)])
        return 0
    table = _prepare(df, entity, tables, duck, version)
    header = _csv_line([*columns, *(name for name, _ in table.metadata)])
    chunks: Iterator[tuple[memoryview, int]] = _chunks(table, entity, columns, duck, version)
    if len(df) > CHUNK_ROWS:  # overlap building the next chunk with compressing this one
        chunks = _in_background(chunks)
    first = next(chunks, None)
    # Streamed entries need ZIP64 declared up front when they might pass 2 GiB: estimate from chunk 1.
    big = first is not None and len(first[0]) / first[1] * int(table.active.sum()) > zipfile.ZIP64_LIMIT // 2
    rows = 0
    with _member(zf, filename, big) as f:
        f.write(header)
        if first is not None:
            f.write(first[0])
            rows += first[1]
            for body, n in chunks:
                f.write(body)
                rows += n
    _log_converted(table, version)
    return rows


def _write_spliced(zf: zipfile.ZipFile, filename: str, entity: str, columns: dict[str, str | None],
                   tables: Mapping[str, pd.DataFrame], duck: _Duck, version: str, splice: RowSplice) -> int:
    """The file as the last package had it, with the rows of ``splice.ids`` built again from the table
    (which holds those ids' rows only) in their place. Each line is built as ``_write_file`` builds it,
    so the file is the one a full build writes."""
    header = plain_header(version, filename)
    if splice.previous.header != header:
        raise ValueError(f"{filename}: the last package's header is not this version's")
    df = _present(tables, entity)
    new_lines, new_ids = pa.array([], pa.large_binary()), pa.array([], pa.string())
    if df is not None:
        table = _prepare(df, entity, tables, duck, version)
        if table.metadata:
            raise ValueError(f"{filename}: rows with metadata columns cannot be spliced into a file without them")
        body = b"".join(bytes(b) for b, _ in _chunks(table, entity, columns, duck, version))
        new_lines = as_lines(body)
        new_ids = neutralize_array(_as_text(_to_arrow(df["sourced_id"])).filter(pa.array(table.active)),
                                   column_kind(next(iter(columns))))
        _log_converted(table, version)
    merged = splice.previous.replaced(splice.ids, new_lines, new_ids)
    at_most = len(header) + body_bytes(splice.previous.lines).size + body_bytes(new_lines).size
    with _member(zf, filename, at_most > zipfile.ZIP64_LIMIT // 2) as f:
        f.write(header)
        for body in merged.bodies():
            f.write(body)
    return len(merged)


def _log_converted(table: _Table, version: str) -> None:
    for what, changed in table.converted.items():  # counts only: the values may be personal data
        log.warning("OneRoster %s export: %d %s: the binding cannot carry them as they are (see "
                    "docs/deliveries.md)", version, changed, what if what.endswith("left out") else f"{what} cells")


