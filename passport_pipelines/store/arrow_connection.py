"""Arrow-native access to the golden store's database (ADBC), for moving many rows at once.

SQLAlchemy owns the schema, the migrations and the small queries; this is the bulk path: reads
come back as Arrow tables, inserts go in through ADBC ingestion (COPY on PostgreSQL) and
updates bind whole Arrow columns. A write happens inside one transaction of this connection.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator, Sequence

import numpy as np
import pyarrow as pa
from sqlalchemy.engine import make_url

# SQLite's driver infers column types from the first batch; one batch means one inference
# over every row, so a column that starts with NULLs is still read with its real type.
_SQLITE_ONE_BATCH = {"adbc.sqlite.query.batch_rows": str(1 << 30)}


class ArrowConnection:
    def __init__(self, url: str):
        self._in_transaction = False
        parsed = make_url(url)
        self.backend = parsed.get_backend_name()
        if self.backend == "sqlite":
            import adbc_driver_sqlite.dbapi as driver

            # Autocommit, with transactions opened explicitly: BEGIN IMMEDIATE takes the write
            # lock up front, so two syncs can never interleave their commits.
            self._conn = driver.connect(parsed.database or ":memory:", autocommit=True)
            self.execute("PRAGMA busy_timeout = 60000")
            # A large page cache keeps the primary-key B-trees in memory during big commits; WAL
            # (set by the engine) with synchronous=NORMAL is durable at each commit's checkpoint.
            self.execute("PRAGMA cache_size = -262144")
            self.execute("PRAGMA synchronous = NORMAL")
            self.execute("PRAGMA temp_store = MEMORY")
        elif self.backend == "postgresql":
            import adbc_driver_postgresql.dbapi as driver

            uri = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
            self._conn = driver.connect(uri, autocommit=False)
        else:
            raise ValueError(f"the golden store supports SQLite and PostgreSQL, not {self.backend}")

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "ArrowConnection":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def ph(self, position: int) -> str:
        """The placeholder of the position-th parameter (1-based)."""
        return "?" if self.backend == "sqlite" else f"${position}"

    def value_ph(self, position: int, value) -> str:
        """The placeholder of a parameter ``value`` (see ``param``): typed on PostgreSQL, where a text
        parameter does not go into a JSON or timestamp column by itself."""
        ph = self.ph(position)
        if self.backend == "postgresql" and isinstance(value, datetime):
            return f"CAST({ph} AS TIMESTAMPTZ)"
        if self.backend == "postgresql" and isinstance(value, (dict, list)):
            return f"CAST({ph} AS JSON)"
        return ph

    def param(self, value):
        """A Python value as this driver binds it: JSON text for dicts and lists, timestamps as text."""
        if isinstance(value, datetime):
            # SQLAlchemy's own SQLite format (naive UTC), so its readers parse what the bulk path writes.
            return value.isoformat() if self.backend == "postgresql" else \
                value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
        if isinstance(value, (dict, list)):
            return json.dumps(value)
        return value

    def placeholders(self, count: int, start: int = 1) -> str:
        return ", ".join(self.ph(i) for i in range(start, start + count))

    def _cursor(self):
        cur = self._conn.cursor()
        if self.backend == "sqlite":
            cur.adbc_statement.set_options(**_SQLITE_ONE_BATCH)
        return cur

    @contextmanager
    def _executed(self, sql: str, params: Sequence = ()) -> Iterator:
        cur = self._cursor()
        try:
            cur.execute(sql, parameters=tuple(params) if params else None)
            yield cur
        finally:
            cur.close()

    def fetch(self, sql: str, params: Sequence = (), schema: pa.Schema | None = None) -> pa.Table:
        with self._executed(sql, params) as cur:
            table = cur.fetch_arrow_table()
        if schema is not None:
            table = pa.table([table.column(i).cast(field.type) for i, field in enumerate(schema)], schema=schema)
        if self.backend == "postgresql" and not self._in_transaction:
            self._conn.rollback()  # end the read's implicit transaction
        return table

    def scalar(self, sql: str, params: Sequence = ()):
        with self._executed(sql, params) as cur:
            row = cur.fetchone()
        return row[0] if row else None

    def execute(self, sql: str, params: Sequence = ()) -> None:
        with self._executed(sql, params):
            pass

    def execute_many(self, sql: str, rows: pa.Table) -> None:
        if rows.num_rows:
            cur = self._cursor()
            try:
                cur.executemany(sql, rows)
            finally:
                cur.close()

    def ingest(self, table_name: str, rows: pa.Table, *, temporary: bool = False) -> None:
        """Append rows to a table, or create a temporary table holding them."""
        if rows.num_rows or temporary:
            cur = self._cursor()
            try:
                if temporary:
                    cur.adbc_ingest(table_name, rows, mode="create", temporary=True)
                else:
                    cur.adbc_ingest(table_name, rows, mode="append")
            finally:
                cur.close()

    @contextmanager
    def transaction(self) -> Iterator["ArrowConnection"]:
        sqlite = self.backend == "sqlite"
        if sqlite:
            self.execute("BEGIN IMMEDIATE")
        self._in_transaction = True
        try:
            yield self
        except BaseException:
            self.execute("ROLLBACK") if sqlite else self._conn.rollback()
            raise
        else:
            self.execute("COMMIT") if sqlite else self._conn.commit()
        finally:
            self._in_transaction = False


def const_array(value, n: int, type_: pa.DataType | None = None) -> pa.Array:
    """An array of n copies of one value."""
    type_ = type_ or pa.string()
    return pa.array([value], type_).take(pa.array(np.zeros(n, dtype=np.int32))) if n else pa.array([], type_)
