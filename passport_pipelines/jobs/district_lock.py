"""One `passport sync` per district at a time when no Dagster daemon runs the queue.

With a daemon, `passport sync` queues its run and the instance's one-sync-per-district limit orders
it. Without one, it runs the sync in its own process and takes this lock first, so a second
`passport sync` of the district waits for the first instead of failing at its commit. On PostgreSQL
the lock is a session advisory lock (it holds across machines sharing the store); on the embedded
SQLite store, an exclusive lock on a file under ``$PASSPORT_HOME/locks``. Either is released by the
operating system or the database if the process dies.
"""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from typing import Callable, Iterator

from passport_pipelines import settings


@contextmanager
def district_lock(store_url: str, district: str, *, on_wait: Callable[[], None]) -> Iterator[None]:
    """Hold the district's sync lock; ``on_wait`` is called once if another process holds it."""
    if store_url.startswith("postgresql"):
        with _advisory_lock(store_url, district, on_wait):
            yield
    else:
        with _file_lock(district, on_wait):
            yield


@contextmanager
def _file_lock(district: str, on_wait: Callable[[], None]) -> Iterator[None]:
    folder = settings.passport_home() / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / f"{district}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait()
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


@contextmanager
def _advisory_lock(store_url: str, district: str, on_wait: Callable[[], None]) -> Iterator[None]:
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(store_url).set(drivername="postgresql").render_as_string(hide_password=False)
    key = f"passport-sync:{district}"
    with psycopg.connect(url, autocommit=True) as conn:
        if not conn.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", [key]).fetchone()[0]:
            on_wait()
            conn.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", [key])
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [key])
