"""Reading one xPress collection to the end.

Paging is by request headers (``navigationPage``, 1-based, and ``navigationPageSize``); the answer's
``navigationLastPage`` header says how many pages there are, so once page 1 is in, the rest are
fetched at once (bounded by ``max_concurrency``). A provider may serve smaller pages than asked
(SIF 3 lets it cap the size; its ``navigationPageSize`` answer header says which), and the later
pages are then asked in that size. ``SchoolYear`` (the ending year: 2026 for 2025-2026, as RIC One
documents) goes on every request. ``changesSinceMarker`` is a query parameter (SIF 3.2 "Changes
Since"); the answer's ``changesSinceMarker`` header is the marker for the next pull.

Records can move between pages while they are read (one deleted on page 1 pulls the next page's
first record forward). When the ``navigationLastPage`` or ``navigationCount`` of a later page
differs from page 1's, the collection changed during the read and it is read once more; records are
always kept once per refId (the last read wins), so a shift never duplicates a record.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from passport_pipelines.sources.errors import ConnectorError
from passport_pipelines.sources.http.transport import HttpTransport, where
from passport_pipelines.sources.xpress.auth import XpressAuth
from passport_pipelines.sources.xpress.envelopes import records

DEFAULT_PAGE_SIZE = 500
READS = 2  # a collection that keeps changing while it is read is read at most this often


@dataclass
class Page:
    records: list[dict]
    last: int | None  # navigationLastPage
    count: str | None  # navigationCount, when the provider sends it
    size: int  # the page size the provider used
    marker: str | None  # changesSinceMarker answer header


@dataclass
class Collection:
    records: list[dict]
    marker: str | None
    reads: int


def _int_header(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class XpressClient:
    """GETs xPress collections through one transport; thread-safe."""

    def __init__(self, transport: HttpTransport, auth: XpressAuth, *, school_year: str, page_size: int | None,
                 max_concurrency: int):
        self.transport = transport
        self.auth = auth
        self.school_year = school_year
        self.page_size = page_size or DEFAULT_PAGE_SIZE
        self._pool = ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix="xpress")
        self._lock = threading.Lock()
        self.requests = 0

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def page(self, path: str, number: int, size: int, marker: str | None = None) -> Page:
        url = f"{self.auth.base_url()}/{path}"
        headers = {"Accept": "application/json", "navigationPage": str(number), "navigationPageSize": str(size)}
        if self.school_year:
            headers["SchoolYear"] = self.school_year
        params = {"changesSinceMarker": marker} if marker is not None else None
        response = self.transport.send("GET", url, auth=self.auth, params=params, headers=headers)
        with self._lock:
            self.requests += 1
        body = None
        if response.status_code != 204 and response.content:
            try:
                body = response.json()
            except ValueError:
                raise ConnectorError("bad_response", where(url), "the answer is not JSON") from None
        found = records(path.rsplit("/", 1)[-1], body, where(url))
        h = response.headers
        return Page(found, _int_header(h.get("navigationLastPage")) or (1 if not found else None),
                    h.get("navigationCount"), _int_header(h.get("navigationPageSize")) or size,
                    h.get("changesSinceMarker"))

    def collection(self, path: str, marker: str | None = None) -> Collection:
        """Every record of ``path`` (changes since ``marker`` when given), once per refId."""
        for read in range(1, READS + 1):
            first = self.page(path, 1, self.page_size, marker)
            size = min(first.size, self.page_size)
            if first.last is None:  # no navigationLastPage: read on until a short page
                pages, moved = self._sequential(path, first, size, marker), False
            else:
                rest = list(self._pool.map(lambda n: self.page(path, n, size, marker), range(2, first.last + 1)))
                pages = [first, *rest]
                moved = any((p.last, p.count) != (first.last, first.count) for p in rest)
            kept: dict[str, dict] = {}
            for p in pages:
                for record in p.records:
                    kept[record["refId"]] = record
            if not moved:
                break
        return Collection(list(kept.values()), first.marker, read)

    def _sequential(self, path: str, first: Page, size: int, marker: str | None) -> list[Page]:
        pages, current = [first], first
        while len(current.records) >= size:
            current = self.page(path, len(pages) + 1, size, marker)
            pages.append(current)
        return pages
