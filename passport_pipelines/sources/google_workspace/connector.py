"""Google Workspace (Admin SDK Directory) as a second source of staff and student accounts.

The connector reads every user of the account with ``users.list`` as the district's admin
(domain-wide delegation of ``admin.directory.user.readonly`` to a service account) and stores
the records as received in the raw table ``users``; next to them, ``org_unit_roles`` holds the
source's ``role_by_org_unit`` setting the extract ran with, so that the SQL models in
``dbt_like_transforms/google_workspace/`` (and anyone re-reading the archive) map org units to
roles exactly as this extract did. Google has no change feed for ``users.list``: every extract
is the complete set (bulk).
"""

from __future__ import annotations

from typing import Any, ClassVar

from passport_pipelines.config.integration import Integration
from passport_pipelines.sources.base import (
    ConnectionCheck,
    ExtractRequest,
    ExtractResult,
    SourceConnector,
    run_checks,
    secret,
)
from passport_pipelines.sources.google_workspace.directory import MAX_PAGE_SIZE, DirectoryUsers
from passport_pipelines.sources.google_workspace.service_account import ServiceAccountKey, ServiceAccountToken
from passport_pipelines.sources.http.transport import HttpTransport
from passport_pipelines.sources.raw_tables import RawTables

DIRECTORY_SCOPE = "https://www.googleapis.com/auth/admin.directory.user.readonly"

# The Directory API has accounts, not rosters: nothing in it belongs to a school year.
NO_SCHOOL_YEAR = ("not restricted by the API: Google Workspace accounts have no school year; every sync reads the "
                  "domain's current accounts")


class GoogleWorkspaceConnector(SourceConnector):
    """Reads Google Workspace accounts (users only) through the Admin SDK Directory API."""

    kind: ClassVar[str] = "google"
    models: ClassVar[str] = "google_workspace"
    raw_tables: ClassVar[dict[str, tuple[str, ...]]] = {"users": (), "org_unit_roles": ()}
    feeds: ClassVar[tuple[str, ...]] = ("users",)

    def _session(self, source: Any, transport: HttpTransport) -> tuple[ServiceAccountToken, DirectoryUsers]:
        key = ServiceAccountKey.parse(secret(source, "service_account_key"), f"source {source.name}")
        token = ServiceAccountToken(transport, key, subject=source.delegated_admin, scopes=[DIRECTORY_SCOPE],
                                    token_url=source.token_url)
        directory = DirectoryUsers(transport, token, base_url=source.base_url, customer=source.customer,
                                   domain=source.domain)
        return token, directory

    def extract(self, request: ExtractRequest) -> ExtractResult:
        source = request.source
        modes = self.entity_modes(source, "bulk")
        if modes["users"] == "absent":
            return ExtractResult(tables={}, entity_modes=modes, school_year_scope=NO_SCHOOL_YEAR)
        raw = RawTables(request.folder, self.raw_tables)
        with self.transport(source) as transport:
            token, directory = self._session(source, transport)
            try:
                raw.table("org_unit_roles").add(
                    [{"orgUnitPath": path, "role": role} for path, role in sorted(source.role_by_org_unit.items())])
                users = raw.table("users")
                seen: set[str] = set()
                for page in directory.pages(source.page_size or MAX_PAGE_SIZE):
                    # Page tokens are positions, not snapshots: an account renamed mid-extract could
                    # come round again on a later page. Its first copy is kept.
                    fresh = []
                    for user in page:
                        uid = user.get("id") if isinstance(user, dict) else None
                        if uid is None or uid not in seen:
                            fresh.append(user)
                            if uid is not None:
                                seen.add(uid)
                    users.add(fresh)
            finally:
                tables = raw.close()
            return ExtractResult(tables=tables, entity_modes=modes, cursor={},
                                 requests=directory.requests + token.fetched,
                                 retries=transport.retries + directory.retries, school_year_scope=NO_SCHOOL_YEAR)

    def test_connection(self, integration: Integration, source: Any) -> ConnectionCheck:
        with self.transport(source) as transport:
            session: dict[str, Any] = {}

            def key() -> str:
                session["token"], session["directory"] = self._session(source, transport)
                return f"service account key read (token endpoint {session['token'].token_url})"

            def token() -> str:
                session["token"].token()
                return f"access token issued for {source.delegated_admin} with {DIRECTORY_SCOPE}"

            def users() -> str:
                body = session["directory"].page(1)
                return f"users.list answered ({len(body.get('users') or [])} user on the first page)"

            return run_checks(source, [("service account key", key), ("token", token), ("list users", users)])
