"""The ASGI application of ``passport serve``: the token endpoint and the rostering service of each
district and school year.

    POST /oauth2/token                                         client credentials (Basic or form)
    GET  /{district}/{school_year}/ims/oneroster/rostering/v1p2/...   that school year
    GET  /{district}/ims/oneroster/rostering/v1p2/...                 the newest year the app may read

Every request: the bearer token must be ours and unexpired, its client still registered under the same
secret generation (a removed or rotated client is refused from the next request on), of this district,
allowed this school year and holding a scope of the endpoint. What it reads is its own snapshot of the
version in production, through its shield (``snapshots``).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlencode

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from passport_pipelines import settings
from passport_pipelines.config.destinations import OneRosterApiDestination
from passport_pipelines.config.integration import Integration
from passport_pipelines.config.loader import IntegrationError, load_district
from passport_pipelines.delivery.propagation import district_day, expired
from passport_pipelines.rest_provider.api_clients import ApiClients
from passport_pipelines.rest_provider.endpoints import Target, resolve, scopes_for
from passport_pipelines.rest_provider.errors import ApiError, error_response, forbidden, unauthorised, unknown_object
from passport_pipelines.rest_provider.pages import active_total, read_one, read_page
from passport_pipelines.rest_provider.query_params import parse_query
from passport_pipelines.rest_provider.record_shapes import shapes
from passport_pipelines.rest_provider.snapshots import API_ROOT, NotServable, Snapshots
from passport_pipelines.rest_provider.tokens import Grant, TokenSigner, scope_names
from passport_pipelines.rest_provider.usage import UsageMeter
from passport_pipelines.sql.quoting import ident
from passport_pipelines.store.golden_store import GoldenStore

log = logging.getLogger(__name__)
INTEGRATION_TTL_SECONDS = 5.0
SHAPES = {s.collection: s for s in shapes("", {"orgs", "academic_sessions", "courses", "classes", "users", "roles",
                                               "agents", "enrollments", "demographics"})}


class Provider:
    """The server's state: the golden store, the snapshots, the token signer and the usage meter."""

    def __init__(self, store: GoldenStore, *, snapshot_root: Path | None = None, prefix: str = "",
                 signer: TokenSigner | None = None, integrations_dir: Path | None = None):
        self.store = store
        self.clients = ApiClients(store)
        self.snapshots = Snapshots(store, snapshot_root or settings.passport_home() / "api" / "snapshots", prefix)
        self.signer = signer or TokenSigner()
        self.meter = UsageMeter(store)
        self.prefix = prefix.rstrip("/")
        self.integrations_dir = integrations_dir
        self._integrations: dict[str, tuple[float, Integration | None]] = {}
        self._totals: dict[tuple[Path, str], int] = {}
        self._collections: dict[Path, set[str]] = {}
        self._lock = threading.Lock()

    def integration(self, district: str) -> Integration | None:
        now = time.monotonic()
        with self._lock:
            cached = self._integrations.get(district)
        if cached is not None and now - cached[0] < INTEGRATION_TTL_SECONDS:
            return cached[1]
        try:
            found = load_district(district, self.integrations_dir)
        except IntegrationError:
            found = None
        with self._lock:
            self._integrations[district] = (now, found)
        return found

    def destination(self, district: str, client_id: str) -> tuple[Integration, OneRosterApiDestination] | None:
        integration = self.integration(district)
        if integration is None:
            return None
        for d in integration.api_destinations:
            if d.client_id == client_id:
                return integration, d
        return None

    def total(self, path: Path, con, table: str) -> int:
        key = (path, table)
        if key not in self._totals:
            self._totals[key] = active_total(con, table)
        return self._totals[key]

    # -------------------------------------------------------------------- token endpoint

    async def token(self, request: Request) -> Response:
        # A form post (application/x-www-form-urlencoded), as RFC 6749 asks of a token request.
        body = (await request.body()).decode("utf-8", "replace")
        form = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
        # The secret's hash check takes ~50 ms of CPU: off the event loop.
        return await run_in_threadpool(self._token, request, form)

    def _token(self, request: Request, form: dict) -> Response:
        client_id, secret = _basic(request.headers.get("authorization")) or (form.get("client_id"),
                                                                              form.get("client_secret"))
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        if not client_id or not secret:
            return _invalid_client()
        client = self.clients.authenticate(str(client_id), str(secret))
        found = self.destination(client.district, client.client_id) if client else None
        if client is None or found is None:
            return _invalid_client()
        dest = found[1]
        asked = scope_names(str(form.get("scope") or ""))
        if set(asked) - set(dest.scopes):
            return JSONResponse({"error": "invalid_scope", "error_description":
                                 f"this client may be granted: {' '.join(dest.scopes)}"}, status_code=400)
        granted = frozenset(asked or dest.scopes)
        body = self.signer.issue(Grant(client.client_id, client.district, client.generation, granted))
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    # -------------------------------------------------------------------- the rostering service

    def rostering(self, request: Request) -> Response:
        district = request.path_params["district"]
        school_year = request.path_params.get("school_year")
        grant = None
        try:
            grant, integration, dest = self._authorize(request, district)
            years = dest.school_years or integration.school_years
            school_year = school_year or max(years)
            if school_year not in years:
                raise forbidden(f"this client may not read school year {school_year} of {district}")
            if expired(dest, district_day(integration)):
                raise forbidden(f"nothing is served to this client after {dest.until}")
            target = resolve(request.path_params["path"])
            if target is None:
                raise unknown_object(f"no such endpoint: {API_ROOT}/{request.path_params['path']}")
            if not grant.scopes & scopes_for(target.collection):
                raise forbidden(f"the token's scopes do not cover {target.collection} (needs one of "
                                f"{', '.join(sorted(scopes_for(target.collection)))})")
            response, records = self._answer(request, integration, dest, school_year, target)
        except ApiError as error:
            if grant is not None and error.status == 403:
                self.meter.count(grant.client_id, district, school_year or "-", refused=True)
            return error_response(error)
        except NotServable as exc:
            return error_response(ApiError(503, "unavailable", str(exc), {"Retry-After": "30"}))
        self.meter.count(grant.client_id, district, school_year, records=records)
        return response

    def _authorize(self, request: Request, district: str):
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("bearer "):
            raise unauthorised("no bearer token: get one at /oauth2/token (client credentials)")
        grant = self.signer.verify(header[7:].strip())
        if grant is None:
            raise unauthorised("the access token is invalid or has expired")
        client = self.clients.get(grant.client_id)
        if client is None or client.generation != grant.generation or client.district != grant.district:
            raise unauthorised("the client of this token was removed or its secret rotated")
        if grant.district != district:
            raise forbidden(f"this client may not read district {district}")
        found = self.destination(district, grant.client_id)
        if found is None:
            raise unauthorised(f"the client is no longer an oneroster-1.2-api destination of {district}")
        return (grant, *found)

    def _answer(self, request: Request, integration: Integration, dest: OneRosterApiDestination,
                school_year: str, target: Target) -> tuple[Response, int]:
        number, path = self.snapshots.current(integration, dest, school_year)
        con = self.snapshots.connection(path)
        try:
            served = self._collections.get(path)
            if served is None:
                served = set(con.execute("SELECT value FROM snapshot_meta WHERE key = 'collections'").fetchone()[0]
                             .split(","))
                self._collections[path] = served
            for needed in (target.collection, *target.reads, *(p for p, _ in target.parents)):
                if needed not in served:
                    raise forbidden(f"{needed} is not shared with this client (its privacy shield)")
            shape = SHAPES[target.collection]
            self._check_parents(con, target)
            fields = None
            if target.sourced_id is not None:
                fields = parse_query(request.query_params, shape).fields
                record = read_one(con, shape, target.sourced_id, fields)
                if record is None:
                    raise unknown_object(f"no {shape.single} with sourcedId {target.sourced_id}")
                return _json(f'{{"{shape.single}":{record}}}', number), 1
            query = parse_query(request.query_params, shape)
            page = read_page(con, shape, query, total_of_all=self.total(path, con, shape.collection),
                             extra=(target.condition[0], [target.condition[1]]) if target.condition else None)
        finally:
            con.close()
        headers = {"X-Total-Count": str(page.total)}
        links = _links(request, query.limit, query.offset, page.total)
        if links:
            headers["Link"] = links
        return _json(f'{{"{shape.key}":[{page.body}]}}', number, headers), page.count

    def _check_parents(self, con, target: Target) -> None:
        for i, (collection, sid) in enumerate(target.parents):
            extra, params = "", [sid]
            if i == 1:  # a class of the school named before it
                extra, params = ' AND "v_school.sourcedId" = ?', [sid, target.parents[0][1]]
            found = con.execute(f"SELECT 1 FROM {ident(collection)} WHERE \"sourcedId\" = ? "
                                f"AND status = 'active'{extra}",
                                params).fetchone()
            if found is None:
                raise unknown_object(f"no {SHAPES[collection].single} with sourcedId {sid}"
                                     + (" in that school" if i == 1 else ""))


def _json(body: str, version: int, headers: dict | None = None) -> Response:
    return Response(body, media_type="application/json",
                    headers={"X-Passport-Version": str(version), **(headers or {})})


def _basic(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return unquote(user), unquote(password)


def _invalid_client() -> Response:
    return JSONResponse({"error": "invalid_client"}, status_code=401,
                        headers={"WWW-Authenticate": 'Basic realm="passport"'})


def _links(request: Request, limit: int, offset: int, total: int) -> str:
    base = str(request.url.replace(query=""))
    params = dict(request.query_params)

    def url(at: int) -> str:
        return f"{base}?{urlencode({**params, 'limit': limit, 'offset': at})}"

    last = max(0, ((total - 1) // limit) * limit) if total else 0
    out = [f'<{url(0)}>; rel="first"', f'<{url(last)}>; rel="last"']
    if offset + limit < total:
        out.insert(0, f'<{url(offset + limit)}>; rel="next"')
    if offset > 0:
        out.append(f'<{url(max(0, offset - limit))}>; rel="prev"')
    return ", ".join(out)


def _refuse(request: Request, exc: Exception) -> Response:
    if isinstance(exc, ApiError):
        return error_response(exc)
    # Never a stack trace to the client, nor values in the log: the driver's message may quote data.
    log.error("REST provider: %s on %s %s", type(exc).__name__, request.method, request.url.path)
    return error_response(ApiError(500, "internal_server_error", "the server could not answer this request"))


def create_app(provider: Provider) -> Starlette:
    root = API_ROOT.lstrip("/")

    async def not_found(request: Request, exc: Exception) -> Response:
        return error_response(unknown_object(f"no such endpoint: {request.url.path}"))

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return error_response(ApiError(405, "unsupported", "the rostering service is read-only (GET)"))

    async def failed(request: Request, exc: Exception) -> Response:
        return _refuse(request, exc)

    routes = [
        Route("/oauth2/token", provider.token, methods=["POST"]),
        Route(f"/{{district}}/{{school_year}}/{root}/{{path:path}}", provider.rostering, methods=["GET"]),
        Route(f"/{{district}}/{root}/{{path:path}}", provider.rostering, methods=["GET"]),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(app):
        provider.meter.start()
        try:
            yield
        finally:
            provider.meter.stop()

    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_allowed, Exception: failed,
                                                        ApiError: failed}, lifespan=lifespan)
    app.state.provider = provider
    return app

