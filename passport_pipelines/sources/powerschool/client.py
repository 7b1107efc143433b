"""A PowerSchool API client: the plugin's OAuth token, JSON GETs, and page-number paging.

Collections are read the way PowerSchool documents: ``/count`` first, then pages
``page=1..n`` of ``pagesize`` (never above the resource's maximum from ``/ws/v1/metadata``),
fetched concurrently. Page-number paging is not a snapshot: a record deleted between two
pages shifts the rest one place up, so one record would be skipped (an insert would repeat
one). Every collection is therefore checked after its last page: records are de-duplicated
by id, and when ``/count`` changed during the read, or the unique records do not add up to
it, the collection is read again (up to ``MAX_PASSES`` times; the last pass is kept).
"""

from __future__ import annotations

import logging
import math
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from passport_pipelines.sources.errors import ConnectorError
from passport_pipelines.sources.http.oauth2 import BearerToken
from passport_pipelines.sources.http.transport import HttpTransport, where
from passport_pipelines.sources.powerschool import envelopes

log = logging.getLogger(__name__)

MAX_PASSES = 3
TOKEN_PATH = "/oauth/access_token"


@dataclass
class Collection:
    """One paged ``/ws/v1`` collection to read, e.g. the students of one school."""

    path: str  # e.g. /ws/v1/school/5/student (its count is path + /count)
    plural: str  # envelope keys: students / student
    singular: str
    page_size: int
    params: dict[str, str] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)  # raw-table context columns
    records: list[dict] = field(default_factory=list)
    passes: int = 0
    schema_table: bool = False  # a /ws/schema/table query: {"count": n}, {"record": [...]} envelopes


def table_collection(name: str, projection: list[str], page_size: int, **context: Any) -> Collection:
    """A ``/ws/schema/table/{name}`` query of ``projection`` (PowerSchool requires one), paged like a
    ``/ws/v1`` collection."""
    return Collection(f"/ws/schema/table/{name}", "record", "record", page_size,
                      {"projection": ",".join(projection)}, context, schema_table=True)


class PowerSchoolClient:
    """Thread-safe: pages of many collections are fetched at once on one pool."""

    def __init__(self, transport: HttpTransport, base_url: str, client_id: str, client_secret: str,
                 max_concurrency: int):
        self.base_url = base_url.rstrip("/")
        self.transport = transport
        self.token = BearerToken(transport, self.base_url + TOKEN_PATH, client_id, client_secret,
                                 credentials_in="basic")
        self.max_concurrency = max_concurrency
        self.requests = 0
        self._lock = threading.Lock()

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET a resource as JSON (PowerSchool answers XML unless asked for JSON)."""
        url = self.base_url + path
        with self._lock:
            self.requests += 1
        response = self.transport.send("GET", url, auth=self.token, params=params,
                                       headers={"Accept": "application/json"})
        try:
            return response.json()
        except ValueError:
            raise ConnectorError("bad_response", where(url), "the response is not JSON") from None

    def count(self, path: str, params: dict[str, str] | None = None, *, schema_table: bool = False) -> int:
        url = where(self.base_url + path + "/count")
        if schema_table:  # a table count takes the query, not the projection
            return envelopes.table_count(self.get(path + "/count", {k: v for k, v in (params or {}).items()
                                                                    if k != "projection"}), url)
        return envelopes.count(self.get(path + "/count", params), url)

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        """``fn`` over ``items`` on at most ``max_concurrency`` threads, results in order."""
        items = list(items)
        if len(items) <= 1 or self.max_concurrency == 1:
            return [fn(i) for i in items]
        with ThreadPoolExecutor(self.max_concurrency, thread_name_prefix="powerschool") as pool:
            return list(pool.map(fn, items))

    def read_collections(self, collections: list[Collection]) -> None:
        """Read every page of every collection into ``collection.records``, consistently."""
        pending = list(collections)
        while pending:
            before = self.map(lambda c: self.count(c.path, c.params, schema_table=c.schema_table), pending)
            pages = [(c, n) for c, total in zip(pending, before) for n in range(1, math.ceil(total / c.page_size) + 1)]
            fetched = self.map(lambda cp: self._page(cp[0], cp[1]), pages)
            by_collection: dict[int, list[dict]] = {id(c): [] for c in pending}
            for (c, _), rows in zip(pages, fetched):
                by_collection[id(c)].extend(rows)
            after = self.map(lambda c: self.count(c.path, c.params, schema_table=c.schema_table), pending)
            again = []
            for c, n_before, n_after in zip(pending, before, after):
                c.records = _unique(by_collection[id(c)])
                c.passes += 1
                if (n_before != n_after or len(c.records) != n_after) and c.passes < MAX_PASSES:
                    log.info("%s changed while it was paged (%d -> %d records, %d read); reading it again",
                             c.path, n_before, n_after, len(c.records))
                    again.append(c)
            pending = again

    def _page(self, c: Collection, page: int) -> list[dict]:
        params = {**c.params, "page": str(page), "pagesize": str(c.page_size)}
        body = self.get(c.path, params)
        if c.schema_table:
            return envelopes.table_records(body, where(self.base_url + c.path))
        return envelopes.records(body, c.plural, c.singular, where(self.base_url + c.path))

    def read_unpaged_count(self, c: Collection) -> list[dict]:
        """A collection without ``/count`` (section enrollments): pages until a short one."""
        rows: list[dict] = []
        page = 1
        while True:
            got = self._page(c, page)
            rows.extend(got)
            if len(got) < c.page_size:
                return _unique(rows)
            page += 1


def _unique(rows: list[dict]) -> list[dict]:
    """First occurrence of each id: an insert during paging repeats a record on the next page."""
    seen: set = set()
    out = []
    for r in rows:
        key = r.get("id")
        if key is None or key not in seen:
            seen.add(key)
            out.append(r)
    return out
