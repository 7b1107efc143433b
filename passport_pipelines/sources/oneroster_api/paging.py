"""Reading a whole OneRoster collection with ``limit``/``offset`` paging.

Stop rules, in the order they apply after the first page:
- ``X-Total-Count`` given: every remaining offset is known, so the pages are fetched at once,
  ``max_concurrency`` at a time, until offset + received >= total.
- else ``Link: <...>; rel="next"`` given: follow it, page by page, while it is there.
- else: next offset, page by page, until a page comes back empty.
An empty page always ends a read, and a page that brings nothing new (a server ignoring
``offset``) too, so a wrong total or a looping link cannot keep the extract going forever.

The page size is the smaller of what we ask and what the server returns on a full first page:
servers cap ``limit`` at their own maximum, and offsets must follow what they really send.

Offset paging over a collection that changes while it is read can skip a row (a record deleted
before the offset moves past it shifts the rest up by one) or repeat one (an insert). Every read
keeps each ``sourcedId`` once, so repeats never reach the raw tables. A skip shows as a changed
``X-Total-Count`` between pages: the collection is then read again (up to ``MAX_REREADS`` times)
and the records not seen yet are added. A record deleted meanwhile stays in this extract from
the earlier read — it goes at the next sync — which errs towards keeping, never towards a false
deletion. Without ``X-Total-Count`` a skip cannot be seen; a server that sends neither header
should be read with a page size above its largest collection.
"""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Callable

from passport_pipelines.sources.oneroster_api.client import OneRosterClient, Page
from passport_pipelines.sources.oneroster_api.collections import Collection
from passport_pipelines.sources.raw_tables import RawTableWriter

MAX_REREADS = 2


class RecordSink:
    """The records of one raw table, each ``sourcedId`` kept once (the first time it is seen); with ``key``,
    each identity it gives (a resource under several classes is one record per class).

    With ``keep``, only the records it accepts are written; the others are counted in
    ``left_out`` (an extract restricted to one school year). Without a writer nothing is
    written: the collection is read for what ``keep`` learns from it. ``add`` answers how many
    records were new, kept or not, so paging stops on what the server sends, not on what is kept.
    """

    def __init__(self, writer: RawTableWriter | None, keep: Callable[[dict], bool] | None = None,
                 key: Callable[[dict, dict], str] | None = None):
        self.writer = writer
        self.keep = keep
        self.key = key  # a record's identity within the table, given its context (default: its sourcedId)
        self.seen: set[str] = set()
        self.left_out = 0
        self._lock = threading.Lock()

    def add(self, records: list, **context) -> int:
        with self._lock:
            fresh, new = [], 0
            for record in records:
                sid = record.get("sourcedId") if isinstance(record, dict) else None
                if sid is not None and self.key is not None:
                    sid = self.key(record, context)
                if sid is None or sid in self.seen:
                    continue
                self.seen.add(sid)
                new += 1
                if self.keep is not None and not self.keep(record):
                    self.left_out += 1
                    continue
                fresh.append(record)
            if fresh and self.writer is not None:
                self.writer.add(fresh, **context)
        return new


@dataclass
class ReadStats:
    pages: int = 0
    rereads: int = 0
    server_time: dt.datetime | None = None  # the Date of the first page
    totals: set[int] = field(default_factory=set)


def read_collection(client: OneRosterClient, collection: Collection, sink: RecordSink, *, page_size: int,
                    max_concurrency: int, params: dict | None = None, context: dict | None = None) -> ReadStats:
    stats = ReadStats()
    for attempt in range(MAX_REREADS + 1):
        stats.rereads = attempt
        if not _read_once(client, collection, sink, stats, page_size, max_concurrency, params or {}, context or {}):
            break
    return stats


def _read_once(client, collection, sink, stats, size, concurrency, params, context) -> bool:
    """One pass over the collection; True when X-Total-Count changed while it was read."""
    first = client.page(collection, params={**params, "limit": size, "offset": 0})
    stats.pages += 1
    stats.server_time = stats.server_time or first.server_time
    sink.add(first.records, **context)
    if not first.records:
        return False
    step = min(size, len(first.records))
    if first.total is not None:
        totals = {first.total}
        offsets = range(len(first.records), first.total, step)

        def fetch(offset: int) -> int | None:
            page = client.page(collection, params={**params, "limit": size, "offset": offset})
            sink.add(page.records, **context)
            return page.total

        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            futures = [pool.submit(fetch, o) for o in offsets]
            try:
                for future in as_completed(futures):
                    total = future.result()
                    stats.pages += 1
                    if total is not None:
                        totals.add(total)
            except BaseException:
                for future in futures:
                    future.cancel()  # one page failed for good: the extract fails, so stop asking
                raise
        stats.totals |= totals
        return len(totals) > 1
    if first.next_url:
        _follow_links(client, collection, sink, stats, first, context)
        return False
    offset = len(first.records)
    while True:
        page = client.page(collection, params={**params, "limit": size, "offset": offset})
        stats.pages += 1
        if not page.records or not sink.add(page.records, **context):
            return False
        offset += len(page.records)


def _follow_links(client, collection, sink, stats, page: Page, context) -> None:
    visited = set()
    url = page.next_url
    while url and url not in visited:
        visited.add(url)
        page = client.page(collection, url=url)
        stats.pages += 1
        if not page.records or not sink.add(page.records, **context):
            return
        url = page.next_url
