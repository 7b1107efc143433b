"""The OneRoster REST source (1.1 and 1.2): every rostering collection into raw tables, as received.

One collection after another; within a collection, pages at once up to ``max_concurrency`` (see
``paging``). With ``mode: incremental`` and the cursor of the last committed extract, every
collection is asked only for what changed since (``incremental``) and the extract is a delta:
records with ``status: tobedeleted`` in it are deletions. Every extract is of the sync's school
year: its sessions, the classes in their terms and those classes' enrollments (``school_year``).
The SQL models in ``dbt_like_transforms/oneroster_api/`` read either version's JSON.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import ClassVar

from passport_pipelines.config.integration import Integration
from passport_pipelines.connectors.base import (
    ConnectionCheck, ExtractRequest, ExtractResult, SourceConnector, run_checks)
from passport_pipelines.connectors.errors import ConnectorError
from passport_pipelines.connectors.oneroster_api.client import OneRosterClient
from passport_pipelines.connectors.oneroster_api.collections import (
    COLLECTIONS, FEEDS, RAW_TABLES, Collection, collections_for)
from passport_pipelines.connectors.oneroster_api.incremental import changed_since_filter, next_cursor, since_from
from passport_pipelines.connectors.oneroster_api.paging import ReadStats, RecordSink, read_collection
from passport_pipelines.connectors.oneroster_api.school_year import YearScope
from passport_pipelines.connectors.raw_tables import RawTables

DEFAULT_PAGE_SIZE = 1000  # servers cap larger requests at their own maximum; paging follows what they send


def _reads(source) -> list[tuple[Collection, bool]]:
    """The collections an extract reads, in order, each with whether it is written. Classes are
    told by the year's sessions, courses and enrollments by the classes (``school_year``): those
    are read first, and read (not written) for the school year when the source does not feed them."""
    wanted = collections_for(source)
    paths = {c.path for c in wanted}
    told = [("academicSessions", {"classes", "courses", "enrollments"}), ("classes", {"courses", "enrollments"})]
    first = [(COLLECTIONS[path], path in paths) for path, by in told if path in paths or paths & by]
    return first + [(c, True) for c in wanted if c.path not in ("academicSessions", "classes")]


def _read_sessions(read, scope: YearScope) -> ReadStats:
    """The year's sessions, asked of the server; again without the filter if it refuses it."""
    try:
        return read(params={"filter": scope.session_filter()})
    except ConnectorError as exc:
        if exc.kind != "bad_response":
            raise
        scope.asked_server = False
        return read(params={})


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
                "enrollments": scope.keep_enrollment}
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
            finally:
                counts = tables.close()
            scope.left_out = {name: sink.left_out for name, sink in sinks.items()}
            return ExtractResult(
                tables=counts, entity_modes=self.entity_modes(source, "delta" if since else "bulk"),
                cursor=next_cursor(server_time, local_start), requests=client.requests, retries=transport.retries,
                school_year_scope=scope.summary(),
            )

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
            return run_checks(source, steps)
