"""The xPress Roster (A4L) connector: every LEA's xPress objects into raw tables, one per object.

Objects are read per LEA (``xLeas/{refId}/xSchools`` and so on, the service paths RIC One serves and
accepts ``changesSinceMarker`` on), only those the source's entities need. A full pull keeps, per
path, the ``changesSinceMarker`` the provider answered with (SIF 3.2: each object type has its own
marker; the provider returns the next one in the answer header). Providers that send no marker
(RIC One reads the marker as an ISO-8601 time) get the time the pull started. The next pull of an
``incremental`` source asks for the changes since those markers; a deleted record then comes as
``{"refId": ...}`` alone (RIC One's event log) and is mapped to ``tobedeleted``.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from passport_pipelines.config.integration import Integration
from passport_pipelines.sources.base import (
    ConnectionCheck,
    ExtractRequest,
    ExtractResult,
    SourceConnector,
    plain_or_secret,
    run_checks,
    secret,
)
from passport_pipelines.sources.errors import ConnectorError
from passport_pipelines.sources.raw_tables import RawTables
from passport_pipelines.sources.xpress.api_key_hint import with_api_key_hint
from passport_pipelines.sources.xpress.auth import XpressAuth
from passport_pipelines.sources.xpress.client import XpressClient
from passport_pipelines.sources.xpress.envelopes import OBJECTS

# canonical entity -> the xPress objects its SQL model reads (xLeas is always read: it lists the LEAs)
NEEDS: dict[str, tuple[str, ...]] = {
    "orgs": ("xSchools",), "academic_sessions": ("xCalendars",), "courses": ("xCourses", "xCalendars"),
    "classes": ("xRosters", "xCourses"), "users": ("xStudents", "xStaffs", "xContacts"),
    "enrollments": ("xRosters",), "demographics": ("xStudents",), "agents": ("xStudents", "xContacts"),
}
PER_LEA = ("xSchools", "xCalendars", "xCourses", "xRosters", "xStaffs", "xStudents", "xContacts")


def ending_year(school_year: str) -> str:
    """The ``SchoolYear`` header: the year the school year ends in (2026 for 2025-2026)."""
    return school_year.rsplit("-", 1)[-1]


class XpressConnector(SourceConnector):
    """Reads an xPress Roster provider (see the module docstring)."""

    kind = "xpress"
    models = "xpress"
    raw_tables = {name: ("lea_ref_id",) for name in OBJECTS}
    feeds = ("orgs", "academic_sessions", "courses", "classes", "users", "roles", "enrollments", "demographics",
             "agents")

    def _credentials(self, source) -> dict[str, str | None]:
        return {"client_id": plain_or_secret(source, "client_id"), "client_secret": secret(source, "client_secret"),
                "username": plain_or_secret(source, "username"), "password": secret(source, "password"),
                "api_key": secret(source, "api_key")}

    def _open(self, source, school_year: str):
        credentials = self._credentials(source)  # a missing env var fails before a connection opens
        transport = self.transport(source)
        auth = XpressAuth(transport, source, credentials)
        client = XpressClient(transport, auth, school_year=school_year, page_size=source.page_size,
                              max_concurrency=source.max_concurrency)
        return transport, client

    @staticmethod
    def objects(source) -> list[str]:
        wanted = {o for entity, objs in NEEDS.items() if source.wants(entity) for o in objs}
        return [o for o in PER_LEA if o in wanted]

    def extract(self, request: ExtractRequest) -> ExtractResult:
        try:
            return self._extract(request)
        except ConnectorError as exc:
            raise with_api_key_hint(exc, request.source) from None

    def _extract(self, request: ExtractRequest) -> ExtractResult:
        source, year = request.source, ending_year(request.school_year)
        objects = self.objects(source)
        started = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        transport, client = self._open(source, year)
        tables = RawTables(request.folder, self.raw_tables)
        try:
            listed = client.collection("xLeas")
            leas = [r for r in listed.records if source.lea_ref_ids is None or r["refId"] in source.lea_ref_ids]
            paths = ["xLeas"] + [f"xLeas/{lea['refId']}/{o}" for lea in leas for o in objects]
            old = (request.cursor or {}).get("markers") or {}
            incremental = bool(request.cursor) and request.cursor.get("school_year") == year \
                and all(p in old for p in paths)
            markers: dict[str, str] = {}
            for path in paths:
                if path == "xLeas" and not incremental:
                    tables.table("xLeas").add(leas)
                    markers[path] = listed.marker or started
                    continue
                got = client.collection(path, old[path] if incremental else None)
                lea = path.split("/")[1] if "/" in path else None
                kept = got.records if lea or source.lea_ref_ids is None else \
                    [r for r in got.records if r["refId"] in source.lea_ref_ids]
                tables.table(path.rsplit("/", 1)[-1]).add(kept, lea_ref_id=lea)
                markers[path] = got.marker or started
            counts = tables.close()
        except BaseException:
            tables.close()
            raise
        finally:
            client.close()
            transport.close()
        return ExtractResult(tables=counts, entity_modes=self.entity_modes(source, "delta" if incremental else "bulk"),
                             cursor={"school_year": year, "markers": markers}, requests=client.requests,
                             retries=transport.retries,
                             school_year_scope=f"restricted to {request.school_year} by the provider: every request "
                                               f"sent SchoolYear: {year}" + (
                                                   "; changes since the markers of that year's last sync"
                                                   if incremental else ""))

    def test_connection(self, integration: Integration, source) -> ConnectionCheck:
        state: dict = {}

        def token() -> str:
            try:
                state["transport"], state["client"] = self._open(source, "")
                base = state["client"].auth.base_url()
            except ConnectorError as exc:
                raise with_api_key_hint(exc, source) from None
            return f"token from {urlsplit(source.token_url).netloc}; data at {base}"

        def leas() -> str:
            client: XpressClient = state["client"]
            try:
                page = client.page("xLeas", 1, 1)
            except ConnectorError as exc:
                raise with_api_key_hint(exc, source) from None
            return f"GET xLeas answered; {page.last or len(page.records)} LEA(s) served"

        try:
            return run_checks(source, [("token", token), ("xLeas", leas)])
        finally:
            if "client" in state:
                state["client"].close()
                state["transport"].close()
