"""Raw tables: what an API returned, record by record, as received.

Each record is kept as its JSON text in a ``record`` column, next to a few context columns the
connector knows from the request (e.g. the school a page was fetched for). Nothing is flattened
or renamed here; the source kind's SQL models in ``dbt_like_transforms/<kind>/`` read the JSON
with DuckDB's ``->>`` operators. The Parquet files live in the sync's archive, so the original
data of every version can be downloaded again.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from passport_pipelines.sql.quoting import ident, lit

ROW_GROUP = 50_000


class RawTableWriter:
    """Appends records of one raw table to ``<folder>/<name>.parquet``; safe across threads."""

    def __init__(self, folder: Path, name: str, context: tuple[str, ...] = ()):
        self.path = folder / f"{name}.parquet"
        self.context = context
        self.schema = pa.schema([pa.field("record", pa.string())] + [pa.field(c, pa.string()) for c in context])
        self._writer = pq.ParquetWriter(self.path, self.schema, compression="zstd")
        self._records: list[str] = []
        self._context: dict[str, list[str | None]] = {c: [] for c in context}
        self._lock = threading.Lock()
        self.rows = 0

    def add(self, records: list[dict], **context: str | int | None) -> None:
        unknown = set(context) - set(self.context)
        if unknown:
            raise ValueError(f"raw table {self.path.stem}: unknown context column(s) {sorted(unknown)}")
        texts = [json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in records]
        with self._lock:
            self._records.extend(texts)
            for c in self.context:
                value = context.get(c)
                self._context[c].extend([None if value is None else str(value)] * len(texts))
            self.rows += len(texts)
            if len(self._records) >= ROW_GROUP:
                self._flush()

    def _flush(self) -> None:
        if not self._records:
            return
        arrays = [pa.array(self._records, pa.string())] + [pa.array(self._context[c], pa.string()) for c in self.context]
        self._writer.write_table(pa.Table.from_arrays(arrays, schema=self.schema))
        self._records = []
        self._context = {c: [] for c in self.context}

    def close(self) -> int:
        with self._lock:
            self._flush()
            self._writer.close()
        return self.rows


class RawTables:
    """The raw tables of one extract, opened on first use and closed together."""

    def __init__(self, folder: Path, declared: dict[str, tuple[str, ...]]):
        self.folder = folder
        self.declared = declared
        folder.mkdir(parents=True, exist_ok=True)
        self._writers: dict[str, RawTableWriter] = {}
        self._lock = threading.Lock()

    def table(self, name: str) -> RawTableWriter:
        if name not in self.declared:
            raise KeyError(f"raw table {name!r} is not declared by this connector")
        with self._lock:
            if name not in self._writers:
                self._writers[name] = RawTableWriter(self.folder, name, self.declared[name])
            return self._writers[name]

    def close(self) -> dict[str, int]:
        return {name: w.close() for name, w in self._writers.items()}


def load_raw_tables(con: duckdb.DuckDBPyConnection, folder: Path, declared: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """A view per declared raw table (``record`` as JSON, context columns as text); empty when
    the extract did not fetch it, so the SQL models always find every table they name."""
    relations = {}
    for name, context in declared.items():
        relation = f"raw__{name}"
        path = folder / f"{name}.parquet"
        ctx = "".join(", " + ident(c) for c in context)
        if path.exists():
            con.execute(f"CREATE OR REPLACE TEMP VIEW {relation} AS "
                        f"SELECT CAST(record AS JSON) AS record{ctx} FROM read_parquet({lit(path.as_posix())})")
        else:
            cols = ", ".join(["CAST(NULL AS JSON) AS record"] + ["CAST(NULL AS VARCHAR) AS " + ident(c) for c in context])
            con.execute(f"CREATE OR REPLACE TEMP VIEW {relation} AS SELECT {cols} WHERE false")
        relations[name] = relation
    return relations
