"""Work a delivery starts on another thread and collects later.

Reading, inflating and hashing the destination's last package (SHA-256, ISA-L, arrow's CSV reader) let go
of Python's lock while they work, as DuckDB does while it builds the frames: started early, they run on
the other core meanwhile instead of one after another.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def started(name: str, work: Callable[..., T], *args) -> Future[T]:
    """``work(*args)``, running from now on a thread of its own named ``passport-<name>``; the future
    gives its result, or raises what it raised."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"passport-{name}")
    try:
        return pool.submit(work, *args)
    finally:
        pool.shutdown(wait=False)  # the thread ends with the work; nothing waits for it here
