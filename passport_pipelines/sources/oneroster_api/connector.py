"""The OneRoster REST source (1.1 and 1.2): every rostering collection into raw tables, as received, and
the gradebook and resources collections the source lists (``collections``).

One collection after another; within a collection, pages at once up to ``max_concurrency`` (see
``paging``); the resources of each class, course or user, ``max_concurrency`` parents at once. With ``mode: incremental`` and the cursor of the last committed extract, every
collection is asked only for what changed since (``incremental``) and the extract is a delta:
records with ``status: tobedeleted`` in it are deletions. Every extract is of the sync's school
year: its sessions, the classes in their terms and those classes' enrollments (``school_year``).
The SQL models in ``dbt_like_transforms/oneroster_api/`` read either version's JSON.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import ClassVar

from passport_pipelines.config.integration import Integration
from passport_pipelines.sources.base import ConnectionCheck, ExtractRequest, ExtractResult, SourceConnector, run_checks
from passport_pipelines.sources.errors import ConnectorError
from passport_pipelines.sources.oneroster_api.client import OneRosterClient
from passport_pipelines.sources.oneroster_api.collections import (
    COLLECTIONS,
    FEEDS,
    RAW_TABLES,
    ROSTER_FEEDS,
    Collection,
    Nested,
    collections_for,
    nested_for,
    reads,
)
from passport_pipelines.sources.oneroster_api.incremental import changed_since_filter, next_cursor, since_from
from passport_pipelines.sources.oneroster_api.paging import ReadStats, RecordSink, read_collection
from passport_pipelines.sources.oneroster_api.school_year import YearScope
from passport_pipelines.sources.raw_tables import RawTables

DEFAULT_PAGE_SIZE = 1000  # servers cap larger requests at their own maximum; paging follows what they send


def _reads(source) -> list[tuple[Collection, bool]]:
    """The collections an extract reads, in order, each with whether it is written. Classes are
    told by the year's sessions; courses, enrollments, line items and the resources of classes by the
    classes (``school_year``): those are read first, and read (not written) for the school year when the
    source does not feed them. So are the parents whose resources are read (courses, users)."""
    wanted = collections_for(source)
    paths = {c.path for c in wanted}
    nested = {n.raw_table for n in nested_for(source)}
    by_classes = {"courses", "enrollments", "lineItems", "results", "classResources", "courseResources"}
    told = [("academicSessions", {"classes"} | by_classes), ("classes", by_classes)]
    first = [(COLLECTIONS[path], path in paths) for path, by in told if path in paths or (paths | nested) & by]
    parents = [(COLLECTIONS[n.parent], False) for n in nested_for(source)
               if n.parent not in paths and n.parent != "classes"]
    return first + [(c, True) for c in wanted if c.path not in ("academicSessions", "classes")] + parents


def _read_sessions(read, scope: YearScope) -> ReadStats:
    """The year's sessions, asked of the server; again without the filter if it refuses it."""
    try:
        return read(params={"filter": scope.session_filter()})
    except ConnectorError as exc:
        if exc.kind != "bad_response":
            raise
        scope.asked_server = False
        return read(params={})


def _read_nested(client: OneRosterClient, nested: Nested, parents: list[str], tables: RawTables, *, params: dict,
                 page_size: int, max_concurrency: int) -> None:
    """The resources of each parent, ``max_concurrency`` parents at once: a resource given to several
    classes is kept once per class, with the class's id."""
    sink = RecordSink(tables.table(nested.raw_table),
                      key=lambda record, context: f"{context[nested.context]}\x1f{record['sourcedId']}")

    def read_one(parent_id: str) -> None:
        read_collection(client, nested.collection(parent_id), sink, page_size=page_size, max_concurrency=1,
                        params=params, context={nested.context: parent_id})

    with ThreadPoolExecutor(max_workers=max(1, max_concurrency)) as pool:
        for _ in pool.map(read_one, parents):
            pass


class OneRosterApiConnector(SourceConnector):
    """Reads a OneRoster 1.1 or 1.2 REST provider (OAuth 1.0a signing or OAuth2 client credentials)."""

    kind: ClassVar[str] = "oneroster"
    models: ClassVar[str] = "oneroster_api"
    raw_tables: ClassVar[dict[str, tuple[str, ...]]] = RAW_TABLES
    feeds: ClassVar[tuple[str, ...]] = FEEDS

    def extract(self, request: ExtractRequest) -> ExtractResult:
        source = request.source
        local_start = dt.datetime.now(dt.timezone.utc)
        since = since_from(request.cursor) if source.mode == "incremental" else None
        params = {"filter": changed_since_filter(since)} if since else {}
        scope = YearScope(request.school_year, incremental=since is not None)
        keep = {"academicSessions": scope.keep_session, "classes": scope.keep_class, "courses": scope.keep_course,
                "enrollments": scope.keep_enrollment, "lineItems": scope.keep_line_item, "results": scope.keep_result}
        server_time = None
        with self.transport(source) as transport:
            client = OneRosterClient(source, transport)
            tables = RawTables(request.folder, self.raw_tables)
            try:
                sinks: dict[str, RecordSink] = {}
                for collection, written in _reads(source):
                    sink = sinks.setdefault(collection.raw_table, RecordSink(
                        tables.table(collection.raw_table) if written else None, keep.get(collection.path)))
                    context = {"endpoint": collection.path} if collection.raw_table == "users" else {}
                    read = partial(read_collection, client, collection, sink, context=context,
                                   page_size=source.page_size or DEFAULT_PAGE_SIZE,
                                   max_concurrency=source.max_concurrency)
                    if collection.path == "academicSessions":
                        stats = _read_sessions(read, scope)
                    else:
                        stats = read(params=params)
                    server_time = server_time or stats.server_time
                for nested in nested_for(source):
                    parents = {"classes": scope.classes, "courses": scope.courses,
                               "users": sinks["users"].seen if "users" in sinks else set()}[nested.parent]
                    _read_nested(client, nested, sorted(parents), tables, params=params,
                                 page_size=source.page_size or DEFAULT_PAGE_SIZE,
                                 max_concurrency=source.max_concurrency)
            finally:
                counts = tables.close()
            scope.left_out = {name: sink.left_out for name, sink in sinks.items()}
            return ExtractResult(
                tables=counts, entity_modes=self.entity_modes(source, "delta" if since else "bulk"),
                cursor=next_cursor(server_time, local_start), requests=client.requests, retries=transport.retries,
                school_year_scope=scope.summary(),
            )

    def entity_modes(self, source, mode: str) -> dict[str, str]:
        """As every connector's, except that gradebook and resources entities are read (and so bulk or
        delta) only when the source lists them: otherwise they are absent and nothing stored goes."""
        return {e: (m if e in ROSTER_FEEDS or reads(source, e) else "absent")
                for e, m in super().entity_modes(source, mode).items()}

    def test_connection(self, integration: Integration, source) -> ConnectionCheck:
        with self.transport(source) as transport:
            client: list[OneRosterClient] = []

            def token() -> str:
                client.append(OneRosterClient(source, transport))
                return client[0].fetch_token()

            def probe(path: str) -> str:
                page = client[0].page(COLLECTIONS[path], params={"limit": 1, "offset": 0})
                count = (f"{page.total} record(s)" if page.total is not None
                         else f"{len(page.records)} record(s) on page 1")
                return f"GET {client[0].root}/{path}?limit=1: {count}"

            steps = [("token", token), ("orgs", lambda: probe("orgs"))]
            if source.wants("demographics"):
                steps.append(("demographics", lambda: probe("demographics")))
            for collection in collections_for(source):
                if collection.service != "rostering":  # gradebook and resources: their own scopes
                    steps.append((collection.path, partial(probe, collection.path)))
            return run_checks(source, steps)
