"""Tables handed between stages as Parquet files, written and read by DuckDB.

A stage writes its whole set into a fresh folder and swaps it in at the end, so a crash
midway never leaves a mix of old and new tables for the next stage to read.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from passport_pipelines.artifacts.staged_folder import staged_folder
from passport_pipelines.sql.quoting import lit


def write_table_set(con: duckdb.DuckDBPyConnection, folder: Path, relations: dict[str, str]) -> dict[str, int]:
    """Write each relation to ``folder/<name>.parquet``; returns rows per table."""
    rows = {}
    with staged_folder(folder) as staging:
        for name, relation in relations.items():
            path = staging / f"{name}.parquet"
            # COPY answers with the rows it wrote: a view is computed once, not once more to count.
            rows[name] = con.execute(f"COPY (SELECT * FROM {relation}) TO {lit(str(path))} "
                                     "(FORMAT parquet, COMPRESSION zstd)").fetchone()[0]
    return rows


def load_table_set(con: duckdb.DuckDBPyConnection, folder: Path, prefix: str = "") -> dict[str, str]:
    """Expose each Parquet file in ``folder`` as a view ``<prefix><name>``."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: the upstream stage has not written its tables; materialize it first")
    out = {}
    for path in sorted(folder.glob("*.parquet")):
        view = f"{prefix}{path.stem}"
        con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM read_parquet({lit(str(path))})")
        out[path.stem] = view
    return out
