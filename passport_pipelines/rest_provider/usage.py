"""What each app read: requests answered, records served and requests refused, per client, district,
school year and day (UTC), in the golden store's ``api_usage`` table. Counted in memory and written
every few seconds (and when the server stops), so a crawl's thousands of pages cost a few writes."""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import datetime, timezone

from sqlalchemy import and_, select, update
from sqlalchemy.exc import IntegrityError

from passport_pipelines.store import schema
from passport_pipelines.store.golden_store import GoldenStore

FLUSH_SECONDS = 5.0


class UsageMeter:
    def __init__(self, store: GoldenStore):
        self.store = store
        self._counts: dict[tuple, list] = defaultdict(lambda: [0, 0, 0, None])
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def count(self, client_id: str, district: str, school_year: str, *, records: int = 0,
              refused: bool = False) -> None:
        now = datetime.now(timezone.utc)
        with self._lock:
            c = self._counts[(client_id, district, school_year, now.date().isoformat())]
            c[0] += 0 if refused else 1
            c[1] += records
            c[2] += 1 if refused else 0
            c[3] = now

    def flush(self) -> None:
        with self._lock:
            counts, self._counts = dict(self._counts), defaultdict(lambda: [0, 0, 0, None])
        t = schema.api_usage
        for (client, district, year, day), (requests, records, refused, last) in counts.items():
            key = and_(t.c.client_id == client, t.c.district == district, t.c.school_year == year, t.c.day == day)
            bump = update(t).where(key).values(requests=t.c.requests + requests, records=t.c.records + records,
                                               refused=t.c.refused + refused, last_request_at=last)
            with self.store.engine.begin() as conn:
                if conn.execute(bump).rowcount:
                    continue
            try:
                with self.store.engine.begin() as conn:
                    conn.execute(t.insert().values(client_id=client, district=district, school_year=year, day=day,
                                                   requests=requests, records=records, refused=refused,
                                                   last_request_at=last))
            except IntegrityError:  # another server process inserted the day's row first
                with self.store.engine.begin() as conn:
                    conn.execute(bump)

    def start(self) -> None:
        def loop():
            while not self._stop.wait(FLUSH_SECONDS):
                self.flush()
        self._thread = threading.Thread(target=loop, name="api-usage", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=FLUSH_SECONDS * 2)
        self.flush()


def usage_of(store: GoldenStore, district: str) -> list[dict]:
    """Per client and school year: requests, records, refused and the last request, over all days."""
    t = schema.api_usage
    with store.engine.connect() as conn:
        rows = conn.execute(select(t).where(t.c.district == district).order_by(t.c.client_id, t.c.school_year,
                                                                                t.c.day)).mappings().all()
    out: dict[tuple, dict] = {}
    for r in rows:
        entry = out.setdefault((r["client_id"], r["school_year"]), {
            "client_id": r["client_id"], "school_year": r["school_year"], "requests": 0, "records": 0,
            "refused": 0, "days": 0, "last_request_at": None})
        entry["requests"] += r["requests"]
        entry["records"] += r["records"]
        entry["refused"] += r["refused"]
        entry["days"] += 1
        entry["last_request_at"] = r["last_request_at"]
    return list(out.values())
