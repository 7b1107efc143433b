"""The PowerSchool SIS connector: a plugin's OAuth client reads the district through
PowerSchool's REST API; the SQL models in ``dbt_like_transforms/powerschool`` map it.

Endpoints used (all JSON, ``Authorization: Bearer``):

- ``POST /oauth/access_token`` — client credentials, HTTP Basic, form body
  ``grant_type=client_credentials``; the token is cached until it expires and fetched again on a 401
- ``GET /ws/v1/metadata`` — maximum page size per resource (``student_max_page_size``, ...)
- ``GET /ws/v1/district``
- ``GET /ws/v1/district/school`` and ``/count``
- ``GET /ws/v1/school/{id}/term|course|staff|section|student`` and each ``/count``, with
  ``page``/``pagesize``; students with ``expansions=demographics,school_enrollment,contact_info,
  ethnicity_race`` and ``extensions=`` the configured extension tables
- ``GET /ws/v1/section/{id}/section_enrollment``
- ``GET /ws/contacts/student/{dcid}`` — a student's contacts (guardians) with relationships, with
  ``extensions=`` the configured contact extension tables
- ``GET /ws/schema/table/{table}`` and ``/count`` — with ``projection`` and ``page``/``pagesize``:
  ``sectionteacher``, ``roledef``, ``sections``, ``schoolstaff`` (co-teachers), ``students`` (the parent
  fields, without the Contact Module) and the configured ``core_fields`` tables

Each extract is of the sync's school year: the terms of that year, the sections in them and their
enrollments (``extraction``). Full pulls only: PowerSchool's ``/ws/v1`` resources have no
documented change filter (``q=`` searches fields such as ``school_enrollment.entry_date``, not
modification times), so every extract is complete and marked ``bulk``.
"""

from __future__ import annotations

from typing import Any, ClassVar

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
from passport_pipelines.sources.http.transport import where
from passport_pipelines.sources.powerschool import envelopes
from passport_pipelines.sources.powerschool.client import PowerSchoolClient
from passport_pipelines.sources.powerschool.extraction import RAW_TABLES, extract_all, schema_tables
from passport_pipelines.sources.raw_tables import RawTables


class PowerSchoolConnector(SourceConnector):
    """Reads a PowerSchool SIS district through a plugin's OAuth client."""

    kind: ClassVar[str] = "powerschool"
    models: ClassVar[str] = "powerschool"
    raw_tables: ClassVar[dict[str, tuple[str, ...]]] = RAW_TABLES
    feeds: ClassVar[tuple[str, ...]] = ("orgs", "academic_sessions", "courses", "classes", "users", "roles",
                                        "enrollments", "demographics", "agents")

    def _client(self, source: Any) -> PowerSchoolClient:
        client_id = plain_or_secret(source, "client_id")
        client_secret = secret(source, "client_secret")
        return PowerSchoolClient(self.transport(source), source.base_url, client_id or "", client_secret or "",
                                 source.max_concurrency)

    def extract(self, request: ExtractRequest) -> ExtractResult:
        source = request.source
        client = self._client(source)
        tables = RawTables(request.folder, self.raw_tables)
        try:
            scope = extract_all(client, source, tables, request.school_year,
                                enrollments=source.wants("enrollments"),
                                contacts=source.wants("users") or source.wants("agents"))
        finally:
            rows = tables.close()
            client.transport.close()
        return ExtractResult(tables=rows, entity_modes=self.entity_modes(source, "bulk"), cursor={},
                             requests=client.requests + client.token.fetched, retries=client.transport.retries,
                             school_year_scope=scope)

    def test_connection(self, integration: Integration, source: Any) -> ConnectionCheck:
        clients: list[PowerSchoolClient] = []

        def token() -> str:
            clients.append(self._client(source))  # a missing env:VAR secret fails this step
            clients[0].token.token()
            return "the plugin's client id and secret were accepted at /oauth/access_token"

        def metadata() -> str:
            client = clients[0]
            meta = envelopes.single(client.get("/ws/v1/metadata"), "metadata",
                                    where(client.base_url + "/ws/v1/metadata"))
            version = meta.get("powerschool_version") or "unknown version"
            return f"PowerSchool {version}; student_max_page_size {meta.get('student_max_page_size', '?')}"

        def schools() -> str:
            return f"{clients[0].count('/ws/v1/district/school')} school(s) readable by the plugin"

        def tables() -> str:
            # The /ws/schema/table queries a sync makes, each counted: a table the plugin's Data
            # Configuration does not grant fails here, named, rather than in the middle of a sync.
            counts = [f"{t} {clients[0].count('/ws/schema/table/' + t, schema_table=True)}" for t in schema_tables(source)]
            return "rows readable: " + ", ".join(counts)

        steps = [("token", token), ("metadata", metadata), ("schools", schools)]
        if schema_tables(source):
            steps.append(("tables", tables))
        try:
            return run_checks(source, steps)
        finally:
            for client in clients:
                client.transport.close()
