"""DuckDB connections set up the way every part of the pipeline expects them."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

MACROS = (Path(__file__).with_name("macros.sql")).read_text(encoding="utf-8")


def connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    threads = os.environ.get("PASSPORT_DUCKDB_THREADS")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute("SET preserve_insertion_order = true")
    con.execute(MACROS)
    return con
