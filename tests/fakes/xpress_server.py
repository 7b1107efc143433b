"""A fake xPress Roster provider serving the synthetic district, built from the public documentation:
A4L's xPress Roster developer guide (OAuth 2.0 password grant at the token URL), RIC One's auth server
(a form login answering ``{"token", "endpoint": [{"name","href","provider_id","token"}]}``) and its
xPress API (github.com/dan-whitehouse/api2, the RIC One implementation): per-LEA service paths,
``navigationPage``/``navigationPageSize`` request headers, ``navigationLastPage`` answer header,
``SchoolYear`` header (the ending year), 204 for an empty page, SIF 3.2 Changes Since
(``?changesSinceMarker=``, next marker in the ``changesSinceMarker`` answer header; a deleted record
comes back as ``{"refId"}`` alone), and ``{"error": {"id","code","message","description"}}`` errors.

The district's OneRoster CSV rows are reshaped into xPress objects with the CSV sourcedIds as refIds
(``xpress_objects``). Tests change the data through ``XpressData.update/delete`` (each change goes to
a change log that the markers index) and hook a page with ``after_page``.
"""

from __future__ import annotations

import copy
import re
import threading
import uuid
from contextlib import contextmanager
from typing import Callable, Iterator

from tests.fakes.district_data import DistrictData
from tests.fakes.http_fake import FakeApiServer, FakeRequest, FakeResponse
from tests.fakes.xpress_objects import xpress_objects

CURRENT_YEAR = "2026"
COLLECTIONS = ("xLeas", "xSchools", "xCalendars", "xCourses", "xRosters", "xStaffs", "xStudents", "xContacts")
SINGLE = {c: c[:-1] for c in COLLECTIONS}
CLIENT_ID, CLIENT_SECRET, USERNAME, PASSWORD, API_KEY = "passport-app", "s3cret-xp", "district-sync", "pw-xp", "key-xp"


def _error(status: int, message: str, description: str = "") -> FakeResponse:
    return FakeResponse(status, {"error": {"id": str(uuid.uuid4()), "code": status, "message": message,
                                           "description": description}})


def _one_or_list(records: list):
    """JSON from SIF's XML: a list of one comes as the object itself."""
    return records[0] if len(records) == 1 else records


class XpressData:
    """The provider's records, with a change log that Changes Since markers point into.

    ``past_years`` are earlier school years' objects, served for their ``SchoolYear`` as they
    were: the same people (same refIds) as this year, with that year's calendars, courses and
    rosters. A past year no longer changes, so its records are in no change log."""

    def __init__(self, objects: dict[str, list[dict]], past_years: tuple[dict[str, list[dict]], ...] = ()):
        self.records = {c: {r["refId"]: r for r in objects.get(c, [])} for c in COLLECTIONS}
        self.year_of: dict[tuple[str, str], str] = {(c, k): r["metadata"]["schoolYear"]
                                                    for c in COLLECTIONS for k, r in self.records[c].items()}
        # (collection, year) -> refId -> record
        self.past: dict[tuple[str, str], dict[str, dict]] = {}
        for year_objects in past_years:
            for c in COLLECTIONS:
                for r in year_objects.get(c, []):
                    self.past.setdefault((c, r["metadata"]["schoolYear"]), {})[r["refId"]] = r
        self.log: list[tuple[int, str, str]] = []  # (sequence, collection, refId)
        self.seq = 0
        self.lock = threading.Lock()
        # (collection, year) -> (seq it was built at, records): every page of a read scans once.
        self._current: dict[tuple[str, str], tuple[int, list[dict]]] = {}

    def marker(self) -> str:
        return f"csm.{self.seq:08d}"

    def _changed(self, collection: str, ref_id: str) -> None:
        self.seq += 1
        self.log.append((self.seq, collection, ref_id))

    def update(self, collection: str, ref_id: str, change: Callable[[dict], None]) -> None:
        with self.lock:
            change(self.records[collection][ref_id])
            self._changed(collection, ref_id)

    def add(self, collection: str, record: dict) -> None:
        with self.lock:
            self.records[collection][record["refId"]] = record
            self.year_of[(collection, record["refId"])] = record["metadata"]["schoolYear"]
            self._changed(collection, record["refId"])

    def delete(self, collection: str, ref_id: str) -> None:
        with self.lock:
            del self.records[collection][ref_id]
            self._changed(collection, ref_id)

    def current(self, collection: str, year: str) -> list[dict]:
        with self.lock:
            cached = self._current.get((collection, year))
            if cached is None or cached[0] != self.seq:
                records = [r for k, r in self.records[collection].items() if self.year_of[(collection, k)] == year]
                records += list(self.past.get((collection, year), {}).values())
                cached = self._current[(collection, year)] = (self.seq, records)
            return cached[1]

    def one(self, collection: str, ref_id: str, year: str) -> dict | None:
        with self.lock:
            record = self.records[collection].get(ref_id)
            if record is not None and self.year_of[(collection, ref_id)] == year:
                return record
            return self.past.get((collection, year), {}).get(ref_id)

    def changes(self, collection: str, year: str, since: int) -> list[dict]:
        with self.lock:
            latest = {k: s for s, c, k in self.log if c == collection and s > since}
            out = []
            for ref_id in sorted(latest, key=latest.get):
                if self.year_of[(collection, ref_id)] != year:
                    continue
                record = self.records[collection].get(ref_id)
                out.append(record if record is not None else {"refId": ref_id})
            return out


class XpressFake:
    """``handle(request)`` for FakeApiServer. Options: ``auth`` ("oauth2" or "login"), ``endpoints``
    (how many endpoints the token answer lists; 0 = none), ``max_page_size``, ``forbidden``
    (collections this client may not read: 403), ``api_key`` (required header value),
    ``ignore_school_year`` (serve the current year whatever ``SchoolYear`` asks)."""

    def __init__(self, data: XpressData, *, auth: str = "oauth2", endpoints: int = 0, max_page_size: int = 100,
                 forbidden: tuple[str, ...] = (), api_key: str | None = None, base_path: str = "/api/requests",
                 ignore_school_year: bool = False):
        self.data, self.auth, self.endpoints = data, auth, endpoints
        self.max_page_size, self.forbidden, self.api_key = max_page_size, set(forbidden), api_key
        self.base_path = base_path
        self.ignore_school_year = ignore_school_year  # a provider that serves its current year whatever is asked
        self.server: FakeApiServer | None = None
        self._hooks: list[list] = []  # [path regex, page number, action, times]

    def after_page(self, pattern: str, page: int, action: Callable[[], None], times: int = 1) -> None:
        self._hooks.append([re.compile(pattern), page, action, times])

    def handle(self, req: FakeRequest) -> FakeResponse:
        if self.api_key is not None and req.header("X-API-Key") != self.api_key:
            return _error(401, "Unauthorized", "missing or wrong API key")
        if req.method == "POST" and req.path == "/oauth/token":
            return self._oauth2(req) if self.auth == "oauth2" else _error(404, "Not Found")
        if req.method == "POST" and req.path == "/login":
            return self._login(req) if self.auth == "login" else _error(404, "Not Found")
        if req.method not in ("GET", "HEAD") or not req.path.startswith(self.base_path + "/"):
            return _error(404, "Not Found", "no such service path")
        if self.server.tokens.check(req.bearer()) is None:
            return _error(401, "Unauthorized", "invalid or expired token")
        return self._serve(req, req.path[len(self.base_path) + 1:].split("/"))

    # -- auth ---------------------------------------------------------------------------------------

    def _answer(self, token: dict, user: str) -> dict:
        base = self.server.url + self.base_path
        endpoints = [{"name": f"Regional provider {i + 1}", "provider_id": f"ric{i + 1}",
                      "href": base if i == 0 else f"{self.server.url}/other{i}/api/requests",
                      "token": self.server.tokens.issue(user)["access_token"]} for i in range(self.endpoints)]
        if self.auth == "login":
            return {"id": str(uuid.uuid4()), "user_name": user, "token": token["access_token"], "endpoint": endpoints}
        return {**token, **({"endpoint": _one_or_list(endpoints)} if endpoints else {})}

    def _oauth2(self, req: FakeRequest) -> FakeResponse:
        form = req.form()
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return FakeResponse(400, {"error": "invalid_client"})
        grant = form.get("grant_type")
        if grant == "password":
            if (form.get("username"), form.get("password")) != (USERNAME, PASSWORD):
                return FakeResponse(400, {"error": "invalid_grant"})
        elif grant != "client_credentials":
            return FakeResponse(400, {"error": "unsupported_grant_type"})
        return FakeResponse(200, self._answer(self.server.tokens.issue(form.get("username") or CLIENT_ID), CLIENT_ID))

    def _login(self, req: FakeRequest) -> FakeResponse:
        form = req.form()
        if (form.get("username"), form.get("password")) != (CLIENT_ID, CLIENT_SECRET):
            return _error(401, "Unauthorized", "login failed")
        return FakeResponse(200, self._answer(self.server.tokens.issue(CLIENT_ID), CLIENT_ID))

    # -- data ---------------------------------------------------------------------------------------

    def _serve(self, req: FakeRequest, parts: list[str]) -> FakeResponse:
        if len(parts) == 3 and parts[0] == "xLeas" and parts[2] in COLLECTIONS:
            if parts[1] not in self.data.records["xLeas"]:
                return _error(404, "Not Found", "no such xLea")
            collection = parts[2]  # one LEA: every object of the district belongs to it
        elif len(parts) in (1, 2) and parts[0] in COLLECTIONS:
            collection = parts[0]
        else:
            return _error(404, "Not Found", "no such service path")
        if collection in self.forbidden:
            return _error(403, "Forbidden", f"this application may not read {collection}")
        year = req.header("SchoolYear") or CURRENT_YEAR
        if not re.fullmatch(r"\d{4}", year) or self.ignore_school_year:
            year = CURRENT_YEAR  # RIC One ignores a SchoolYear that is not a year
        if len(parts) == 2:
            record = self.data.one(collection, parts[1], year)
            if record is None:
                return _error(404, "Not Found", f"no such {SINGLE[collection]}")
            return FakeResponse(200, {SINGLE[collection]: record})
        marker = req.arg("changesSinceMarker")
        if marker is not None:
            if not re.fullmatch(r"csm\.\d{8}", marker):
                return _error(400, "Bad Request", "changesSinceMarker is not a marker this provider issued")
            found = self.data.changes(collection, year, int(marker[4:]))
        else:
            found = self.data.current(collection, year)
        return self._page(req, collection, found)

    def _page(self, req: FakeRequest, collection: str, found: list[dict]) -> FakeResponse:
        headers = {"changesSinceMarker": self.data.marker()}
        page, size = req.header("navigationPage"), req.header("navigationPageSize")
        if page is None or size is None:
            chunk = found
        else:
            if not (page.isdigit() and size.isdigit()) or int(page) < 1 or int(size) < 1:
                return _error(400, "Bad Request", "NavigationPage and NavigationPageSize must be at least one")
            number, size_used = int(page), min(int(size), self.max_page_size)
            chunk = found[(number - 1) * size_used: number * size_used]
            headers.update(navigationPage=str(number), navigationPageSize=str(size_used),
                           navigationLastPage=str(max(1, -(-len(found) // size_used))),
                           navigationCount=str(len(found)))
            for hook in self._hooks:
                if hook[3] > 0 and hook[0].search(req.path) and hook[1] == number:
                    hook[3] -= 1
                    hook[2]()
        if not chunk:
            return FakeResponse(204, None, headers)
        return FakeResponse(200, {collection: {SINGLE[collection]: _one_or_list(copy.deepcopy(chunk))}}, headers)


@contextmanager
def start_xpress_fake(data: DistrictData, *, past_years: tuple[DistrictData, ...] = (),
                      **options) -> Iterator[FakeApiServer]:
    """The fake on a local port; ``server.xpress`` is the XpressFake, ``server.xpress.data`` its records.
    ``past_years``: the district's drops of earlier years, served for their ``SchoolYear``."""
    past = tuple(xpress_objects(d, last_year=False) for d in past_years)
    # Without past years, the provider still holds a few of last year's records (xpress_objects).
    fake = XpressFake(XpressData(xpress_objects(data, last_year=not past), past), **options)
    with FakeApiServer(fake.handle) as server:
        fake.server = server
        server.xpress = fake  # type: ignore[attr-defined]
        yield server


def xpress_source_config(server: FakeApiServer, name: str = "xpress") -> tuple[dict, dict]:
    """The integration file's source mapping for the fake, and the env vars its secrets name."""
    fake: XpressFake = server.xpress  # type: ignore[attr-defined]
    env = {"XPRESS_CLIENT_SECRET": CLIENT_SECRET}
    config = {"name": name, "type": "xpress", "client_id": CLIENT_ID, "client_secret": "env:XPRESS_CLIENT_SECRET",
              "auth": fake.auth, "page_size": 25, "max_concurrency": 4}
    if fake.auth == "oauth2":
        config.update(token_url=f"{server.url}/oauth/token", username=USERNAME, password="env:XPRESS_PASSWORD")
        env["XPRESS_PASSWORD"] = PASSWORD
    else:
        config["token_url"] = f"{server.url}/login"
    if not fake.endpoints:
        config["base_url"] = server.url + fake.base_path
    if fake.api_key is not None:
        config["api_key"] = "env:XPRESS_API_KEY"
        env["XPRESS_API_KEY"] = fake.api_key
    return config, env
