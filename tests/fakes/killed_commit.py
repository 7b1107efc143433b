"""``passport`` run in a child process that stops inside the golden store's commit transaction, after
the first entity's rows are written, and waits there to be killed (SIGKILL) by the test.

Usage: python -m tests.fakes.killed_commit MARKER_FILE passport-args...
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from passport_pipelines.store import golden_store

marker = Path(sys.argv[1])
_apply = golden_store.GoldenStore._apply


def _apply_then_wait(self, *args, **kwargs):
    # The real write happens first: the kill lands in the middle of a transaction that has written rows.
    _apply(self, *args, **kwargs)
    marker.write_text("inside the commit", encoding="utf-8")
    time.sleep(600)


golden_store.GoldenStore._apply = _apply_then_wait

if __name__ == "__main__":
    from passport_pipelines.cli.main import cli

    cli(sys.argv[2:])
