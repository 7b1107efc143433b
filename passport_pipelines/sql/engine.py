"""DuckDB connections set up the way every part of the pipeline expects them."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from passport_pipelines import settings

MACROS = (Path(__file__).with_name("macros.sql")).read_text(encoding="utf-8")


def connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    threads = os.environ.get("PASSPORT_DUCKDB_THREADS")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    # Bounded memory: a district's tables spill to disk under PASSPORT_HOME rather than grow
    # the sync past its memory budget.
    limit = os.environ.get("PASSPORT_DUCKDB_MEMORY_LIMIT", "4GB")
    spill = settings.passport_home() / "tmp" / "duckdb"
    spill.mkdir(parents=True, exist_ok=True)
    con.execute("SET memory_limit = ?", [limit])
    con.execute("SET temp_directory = ?", [str(spill)])
    con.execute("SET preserve_insertion_order = true")
    con.execute(MACROS)
    return con
