"""A small dbt-like runner: SQL models (one SELECT per file) executed in DuckDB.

Models refer to raw inputs with ``{{ source('kind', 'table') }}`` and to each other with
``{{ ref('model') }}``; the runner orders them by those references, materializes each as a
table, and checks that every model named after a canonical table yields exactly that
table's columns. ``{{ extensions('table') }}`` expands to a JSON object of the source
table's ``metadata.*`` columns. A district can override or add models by pointing
``PASSPORT_TRANSFORMS_DIR`` at its own copy of the folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Callable

import duckdb

from passport_pipelines.model import entities
from passport_pipelines.normalize.data_errors import DATA_ERRORS, DataValueError, withheld_reason
from passport_pipelines.sql.quoting import ident, lit

# Columns the runner stamps on every canonical row; models select the others.
STAMPED = ("source", "district", "school_year", "content_hash")
TAG = re.compile(r"\{\{\s*(source|ref|extensions)\(\s*([^)]*?)\s*\)\s*\}\}")
ARG = re.compile(r"""^['"]([^'"]+)['"]$""")


class TransformError(ValueError):
    """A model that cannot run; the message names the model file."""


@dataclass(frozen=True)
class Model:
    name: str
    path: Path
    sql: str

    @property
    def refs(self) -> set[str]:
        return {_args(self, m.group(2))[0] for m in TAG.finditer(self.sql) if m.group(1) == "ref"}


def _args(model: Model, raw: str) -> list[str]:
    parts = [p.strip() for p in raw.split(",")] if raw else []
    out = []
    for part in parts:
        m = ARG.match(part)
        if not m:
            raise TransformError(f"{model.path}: arguments must be quoted names, got {part!r}")
        out.append(m.group(1))
    return out


def load_models(folder: Path) -> dict[str, Model]:
    if not folder.is_dir():
        raise TransformError(f"{folder}: no such folder of SQL models")
    models = {}
    for path in sorted(folder.glob("*.sql")):
        sql = path.read_text(encoding="utf-8").strip().rstrip(";")
        models[path.stem] = Model(path.stem, path, sql)
    return models


def execution_order(models: dict[str, Model]) -> list[str]:
    graph: dict[str, set[str]] = {}
    for name, model in models.items():
        missing = model.refs - models.keys()
        if missing:
            raise TransformError(f"{model.path}: ref() to unknown model(s): {', '.join(sorted(missing))}")
        graph[name] = model.refs
    try:
        return list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise TransformError(f"models refer to each other in a cycle: {' -> '.join(exc.args[1])}") from None



def _extensions_sql(con: duckdb.DuckDBPyConnection, relation: str) -> str:
    cols = [row[0] for row in con.execute(f"DESCRIBE {relation}").fetchall() if row[0].startswith("metadata.")]
    if not cols:
        return "CAST(NULL AS VARCHAR)"
    fields = ", ".join(f"{ident(c[len('metadata.'):])} := {ident(c)}" for c in cols)
    any_value = " OR ".join(f"{ident(c)} IS NOT NULL" for c in cols)
    return f"CASE WHEN {any_value} THEN CAST(to_json(struct_pack({fields})) AS VARCHAR) END"


def compile_model(con: duckdb.DuckDBPyConnection, model: Model, kind: str, sources: dict[str, str]) -> str:
    def expand(match: re.Match) -> str:
        func, args = match.group(1), _args(model, match.group(2))
        if func == "ref":
            return f"model__{args[0]}"
        if len(args) != (2 if func == "source" else 1):
            raise TransformError(f"{model.path}: {func}() takes {'two' if func == 'source' else 'one'} argument(s)")
        table = args[-1]
        if func == "source" and args[0] != kind:
            raise TransformError(f"{model.path}: source kind {args[0]!r} does not match the folder {kind!r}")
        if table not in sources:
            raise TransformError(f"{model.path}: unknown source table {table!r} (have: {', '.join(sorted(sources))})")
        return sources[table] if func == "source" else _extensions_sql(con, sources[table])

    return TAG.sub(expand, model.sql)


Refine = Callable[[duckdb.DuckDBPyConnection, dict[str, str]], dict[str, str]]


def run_models(con: duckdb.DuckDBPyConnection, folder: Path, kind: str, sources: dict[str, str],
               provenance: dict[str, str], *, fill_missing: bool = False, refine: Refine | None = None
               ) -> dict[str, str]:
    """Run every model of a source kind; returns canonical table name -> relation holding it.

    ``sources`` maps the raw table names models may use to relations in ``con``;
    ``provenance`` gives the source, district and school_year stamped on every row. With
    ``fill_missing``, a canonical table no model produces comes out empty (a source kind that
    feeds users only, say). ``refine(con, relations)`` sees the canonical models' rows before
    provenance and the content hash are stamped (the integration rules): whatever it changes is
    hashed with the rest, in the same last pass. It may change the model tables in place: nothing
    reads them after it. The canonical relations returned are views, computed when written out.
    """
    models = load_models(folder)
    relations: dict[str, str] = {}
    for name in execution_order(models):
        model = models[name]
        sql = compile_model(con, model, kind, sources)
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE model__{name} AS {sql}")
        except DATA_ERRORS as exc:  # about a value in the data, which the message would quote
            raise DataValueError(f"model {model.path.name} of {kind}: {withheld_reason(exc)}") from None
        except duckdb.Error as exc:
            raise TransformError(f"{model.path}: {exc}") from None
        if name in entities.CANONICAL_MODELS:
            _check_columns(con, model)
            relations[name] = f"model__{name}"
    if fill_missing:
        for name in entities.ENTITIES:
            if name not in relations:
                relations[name] = _empty_model(con, name)
    if refine is not None:
        relations = refine(con, relations)
    return {name: _finish_canonical(con, name, relation, provenance) for name, relation in relations.items()}


def _empty(con: duckdb.DuckDBPyConnection, relation: str, name: str, columns) -> str:
    booleans = set(entities.boolean_columns(name))
    cols = ", ".join(f"CAST(NULL AS {'BOOLEAN' if c in booleans else 'VARCHAR'}) AS {ident(c)}" for c in columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {relation} AS SELECT {cols} WHERE false")
    return relation


def _empty_model(con: duckdb.DuckDBPyConnection, name: str) -> str:
    """No rows, with the columns a model of ``name`` selects."""
    return _empty(con, f"empty_model__{name}", name, [c for c in entities.columns(name) if c not in STAMPED])


def empty_canonical(con: duckdb.DuckDBPyConnection, name: str) -> str:
    """No rows, with every canonical column of ``name`` (a source that carries none of it)."""
    return _empty(con, f"canonical__{name}", name, entities.columns(name))


def content_hash_sql(entity: str) -> str:
    """The SQL of a row's content hash: every rule that changes a value recomputes it with this."""
    # Fields joined by the unit separator, NULL spelled as a NUL character: md5 of one string
    # per row is more than twice as fast as hashing a struct, and as exact for change detection.
    fields = ", ".join(f"coalesce(CAST({ident(c)} AS VARCHAR), chr(0))" for c in entities.content_columns(entity))
    return f"md5(concat_ws(chr(31), {fields}))"


def _check_columns(con: duckdb.DuckDBPyConnection, model: Model) -> None:
    have = [row[0] for row in con.execute(f"DESCRIBE model__{model.name}").fetchall()]
    expected = [c for c in entities.columns(model.name) if c not in STAMPED]
    if sorted(have) != sorted(expected):
        missing = sorted(set(expected) - set(have))
        extra = sorted(set(have) - set(expected))
        raise TransformError(
            f"{model.path}: must select exactly the canonical {model.name} columns; "
            f"missing: {', '.join(missing) or 'none'}; unexpected: {', '.join(extra) or 'none'}"
        )


def _finish_canonical(con: duckdb.DuckDBPyConnection, name: str, relation: str, provenance: dict[str, str]) -> str:
    """Stamp provenance and the content hash, in the model's column order."""
    select = []
    for col in entities.columns(name):
        if col in provenance:
            select.append(f"{lit(provenance[col])} AS {col}")
        elif col == "content_hash":
            select.append(f"{content_hash_sql(name)} AS content_hash")
        else:
            select.append(ident(col))
    target = f"canonical__{name}"
    # A view: whoever writes the table out computes it as it writes, so a million-student
    # district is never held in memory twice (models and canonical tables), which spilled to disk.
    con.execute(f"CREATE OR REPLACE TEMP VIEW {target} AS SELECT {', '.join(select)} FROM {relation}")
    return target
