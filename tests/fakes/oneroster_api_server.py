"""A fake OneRoster REST provider (1.1 or 1.2) serving the synthetic district, built from the
1EdTech REST/JSON bindings:

- paths ``/ims/oneroster/v1p1/<collection>`` (1.1) and ``/ims/oneroster/rostering/v1p2/<collection>``
  (1.2), optionally under a server prefix; ``/users``, ``/students``, ``/teachers``, ``/schools``,
  ``/orgs``, ``/academicSessions``, ``/courses``, ``/classes``, ``/enrollments``, ``/demographics``
  and ``/<collection>/{id}``;
- the gradebook (``/categories``, ``/lineItems``, ``/results``, 1.2 also ``/scoreScales``) and the
  resources (``/resources``, ``/classes/{id}/resources``, ``/courses/{id}/resources``, 1.2 also
  ``/users/{id}/resources``): under the 1.1 root, or the 1.2 services' own roots
  ``/ims/oneroster/gradebook/v1p2`` and ``/ims/oneroster/resources/v1p2`` (a collection asked under
  another service's root is a 404). A 1.1 line item names its ``gradingPeriod``, a 1.2 one its
  ``academicSession`` and ``school``; a 1.2 result its ``class``. Served from the district's
  gradebook files when it has them;
- JSON per version: references ``{"href","sourcedId","type"}``; a 1.1 user has ``role`` and
  ``orgs``, a 1.2 user ``roles:[{roleType, role, org}]``, ``primaryOrg`` and
  ``userMasterIdentifier``; every record has ``status`` and ``dateLastModified``;
- ``limit`` (default 100, capped at ``max_limit``) / ``offset`` paging with ``X-Total-Count`` and
  ``Link`` rel=next (each can be switched off), and a mode that answers empty pages too early;
- ``filter`` parsed per the OneRoster grammar (``field<op>'value'``, ops ``= != > >= < <= ~``,
  joined by `` AND `` or `` OR ``; ``''`` escapes a quote) and applied; an unknown field is a 400,
  and so is a field the provider does not filter on (``unfilterable``);
- auth: OAuth 1.0a HMAC-SHA1 signatures recomputed from the request as received, with a
  timestamp window and no nonce used twice; or OAuth2 client credentials (Basic or form) whose
  tokens carry the granted scopes, ``invalid_scope`` for a scope the client may not have, and a
  403 ``forbidden`` for a collection the token's scopes do not cover (1.2: gradebook.readonly for the
  gradebook, resource.readonly for the resources);
- errors in the imsx envelope: 401 ``unauthorisedrequest``, 403 ``forbidden``, 404 ``unknownobject``,
  400 ``invalid_filter_field`` / ``invaliddata``.

1.2 has no plain ``administrator`` role: a 1.1 administrator is served as ``districtAdministrator``
at a district and ``siteAdministrator`` at a school (``role_12``); ``as_served_by_12`` applies the
same translation to canonical tables expected from the CSV drop.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import re
import threading
import time
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

import duckdb
import pyarrow as pa

from passport_pipelines.model import entities
from tests.fakes.district_data import DistrictData
from tests.fakes.http_fake import FakeApiServer, FakeRequest, FakeResponse

VERSION_PATHS = {"1.1": "/ims/oneroster/v1p1", "1.2": "/ims/oneroster/rostering/v1p2"}
SERVICE_ROOTS = {"1.1": {"rostering": "/ims/oneroster/v1p1", "gradebook": "/ims/oneroster/v1p1",
                         "resources": "/ims/oneroster/v1p1"},
                 "1.2": {"rostering": "/ims/oneroster/rostering/v1p2", "gradebook": "/ims/oneroster/gradebook/v1p2",
                         "resources": "/ims/oneroster/resources/v1p2"}}
SCOPE = "https://purl.imsglobal.org/spec/or/v1p2/scope/"
CORE, ROSTER, DEMOGRAPHICS = (SCOPE + s for s in ("roster-core.readonly", "roster.readonly",
                                                  "roster-demographics.readonly"))
GRADEBOOK, RESOURCE = SCOPE + "gradebook.readonly", SCOPE + "resource.readonly"
BASE_MODIFIED = "2025-08-01T12:00:00.000Z"
NONCE_WINDOW_SECONDS = 300
SINGULAR = {"orgs": "org", "schools": "org", "academicSessions": "academicSession", "courses": "course",
            "classes": "class", "users": "user", "students": "user", "teachers": "user", "enrollments": "enrollment",
            "demographics": "demographics", "categories": "category", "lineItems": "lineItem", "results": "result",
            "scoreScales": "scoreScale", "resources": "resource"}
# The service each collection belongs to (the rest: rostering), and what a version serves of them.
SERVICE = {"categories": "gradebook", "lineItems": "gradebook", "results": "gradebook", "scoreScales": "gradebook",
           "resources": "resources"}
ONLY_12 = {"scoreScales"}
# /<parent>/{id}/resources: the parents each version serves it for.
RESOURCE_PARENTS = {"1.1": ("classes", "courses"), "1.2": ("classes", "courses", "users")}
STORED = {"schools": "orgs", "students": "users", "teachers": "users"}
OPS = r">=|<=|!=|=|>|<|~"
PREDICATE = re.compile(rf"^\s*([A-Za-z][\w.]*)\s*({OPS})\s*'((?:[^']|'')*)'\s*$")


def now_text() -> str:
    moment = dt.datetime.now(dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def role_12(role: str, org_type: str) -> str:
    """A 1.1 role in 1.2's vocabulary."""
    if role == "administrator":
        return "districtAdministrator" if org_type == "district" else "siteAdministrator"
    return role


def imsx_error(status: int, minor: str, description: str) -> FakeResponse:
    return FakeResponse(status, {
        "imsx_codeMajor": "failure", "imsx_severity": "error", "imsx_description": description,
        "imsx_codeMinor": {"imsx_codeMinorField": [
            {"imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": minor}]},
    })


def _enc(value: str) -> str:
    return quote(value, safe="~")


def oauth1_signature(method: str, url: str, oauth: dict[str, str], consumer_secret: str) -> str:
    """RFC 5849 §3.4.1-3.4.2, written from the RFC for the fake (not the client's code)."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    default = {"http": 80, "https": 443}[scheme]
    authority = host if parts.port in (None, default) else f"{host}:{parts.port}"
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    pairs += [(k, v) for k, v in oauth.items() if k not in ("oauth_signature", "realm")]
    normalized = "&".join(f"{k}={v}" for k, v in sorted((_enc(k), _enc(v)) for k, v in pairs))
    base = "&".join([method.upper(), _enc(f"{scheme}://{authority}{parts.path}"), _enc(normalized)])
    digest = hmac.new(f"{_enc(consumer_secret)}&".encode(), base.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _list(cell: str) -> list[str]:
    return [v.strip() for v in cell.split(",") if v.strip()] if cell else []


def _number(cell: str | None) -> float | None:
    """A CSV number as the JSON bindings send it: a number."""
    return float(cell) if cell not in ("", None) else None


def _put(record: dict, **fields) -> dict:
    record.update({k: v for k, v in fields.items() if v not in ("", None)})
    return record


class OneRosterFake:
    """The district's records in one OneRoster version's JSON, and the server's behaviour."""

    def __init__(self, data: DistrictData, *, version: str = "1.2", auth: str = "oauth2",
                 client_id: str = "passport-client", client_secret: str = "fake-secret-0000",
                 allowed_scopes: tuple[str, ...] | None = None, prefix: str = "", token_path: str = "/oauth2/token",
                 link: bool = True, total: bool = True, max_limit: int = 1000, empty_after: int | None = None,
                 expire_tokens_after: int | None = None, remove_during: dict[str, str] | None = None,
                 unfilterable: tuple[str, ...] = ()):
        if version not in VERSION_PATHS or auth not in ("oauth1", "oauth2"):
            raise ValueError("version is 1.1 or 1.2; auth is oauth1 or oauth2")
        self.data, self.version, self.auth = data, version, auth
        self.client_id, self.client_secret = client_id, client_secret
        self.allowed_scopes = tuple((CORE, ROSTER, DEMOGRAPHICS, GRADEBOOK, RESOURCE) if allowed_scopes is None
                                    else allowed_scopes)
        self.prefix, self.token_path = prefix.rstrip("/"), token_path
        self.link, self.total, self.max_limit, self.empty_after = link, total, max_limit, empty_after
        self.expire_tokens_after = expire_tokens_after
        self.remove_during = dict(remove_during or {})
        self.unfilterable = unfilterable  # fields this provider refuses to filter on (400 invalid_filter_field)
        self.server: FakeApiServer | None = None
        self.records: dict[str, dict[str, dict]] = {}
        self.resources_of: dict[str, dict[str, list[str]]] = {}  # parent collection -> id -> resource ids
        self.api_requests = 0
        self._nonces: set[tuple[str, str]] = set()
        self._lock = threading.RLock()

    # -- setup -------------------------------------------------------------------------
    @property
    def root(self) -> str:
        return f"{self.server.url}{self.prefix}{VERSION_PATHS[self.version]}"

    def attach(self, server: FakeApiServer) -> None:
        self.server = server
        tables = self.data.tables
        self._org_type = {o["sourcedId"]: o["type"] for o in tables["orgs"]}
        build = {"orgs": self._org, "academicSessions": self._session, "courses": self._course,
                 "classes": self._class, "users": self._user, "enrollments": self._enrollment,
                 "demographics": self._demographics}
        for name, shape in build.items():
            self.records[name] = {row["sourcedId"]: shape(row) for row in tables[name]}
        self._school_of_class = {c["sourcedId"]: c["schoolSourcedId"] for c in tables["classes"]}
        self._class_of_line_item = {li["sourcedId"]: li["classSourcedId"] for li in tables.get("lineItems", [])}
        gradebook = {"categories": self._category, "lineItems": self._line_item, "results": self._result,
                     "resources": self._resource}
        for name, shape in gradebook.items():
            self.records[name] = {row["sourcedId"]: shape(row) for row in tables.get(name, [])}
        self.records["scoreScales"] = {}
        self.resources_of = {"classes": {}, "courses": {}, "users": {}}
        for name, parent, column in (("classResources", "classes", "classSourcedId"),
                                     ("courseResources", "courses", "courseSourcedId")):
            for row in tables.get(name, []):
                self.resources_of[parent].setdefault(row[column], []).append(row["resourceSourcedId"])

    def ref(self, collection: str, sid: str, kind: str) -> dict:
        return {"href": f"{self.root}/{collection}/{sid}", "sourcedId": sid, "type": kind}

    def _base(self, row: dict) -> dict:
        return {"sourcedId": row["sourcedId"], "status": "active", "dateLastModified": BASE_MODIFIED}

    def _org(self, row):
        children = [o["sourcedId"] for o in self.data.tables["orgs"] if o["parentSourcedId"] == row["sourcedId"]]
        return _put(self._base(row), name=row["name"], type=row["type"], identifier=row["identifier"],
                    parent=self.ref("orgs", row["parentSourcedId"], "org") if row["parentSourcedId"] else None,
                    children=[self.ref("orgs", c, "org") for c in children] or None)

    def _session(self, row):
        return _put(self._base(row), title=row["title"], type=row["type"], startDate=row["startDate"],
                    endDate=row["endDate"], schoolYear=row["schoolYear"],
                    parent=self.ref("academicSessions", row["parentSourcedId"], "academicSession")
                    if row["parentSourcedId"] else None)

    def _course(self, row):
        return _put(self._base(row), title=row["title"], courseCode=row["courseCode"], grades=_list(row["grades"]),
                    subjects=_list(row["subjects"]), subjectCodes=_list(row["subjectCodes"]),
                    org=self.ref("orgs", row["orgSourcedId"], "org"),
                    schoolYear=self.ref("academicSessions", row["schoolYearSourcedId"], "academicSession")
                    if row["schoolYearSourcedId"] else None)

    def _class(self, row):
        return _put(self._base(row), title=row["title"], classCode=row["classCode"], classType=row["classType"],
                    location=row["location"], grades=_list(row["grades"]), subjects=_list(row["subjects"]),
                    subjectCodes=_list(row["subjectCodes"]), periods=_list(row["periods"]),
                    course=self.ref("courses", row["courseSourcedId"], "course"),
                    school=self.ref("orgs", row["schoolSourcedId"], "org"),
                    terms=[self.ref("academicSessions", t, "academicSession") for t in _list(row["termSourcedIds"])])

    def _user(self, row):
        user_ids = [{"type": t, "identifier": i} for t, i in re.findall(r"\{\s*([^:}]+?)\s*:\s*([^}]*?)\s*\}",
                                                                          row["userIds"])]
        orgs = _list(row["orgSourcedIds"])
        record = _put(self._base(row), username=row["username"], userIds=user_ids, enabledUser=row["enabledUser"],
                      givenName=row["givenName"], familyName=row["familyName"], middleName=row["middleName"],
                      identifier=row["identifier"], email=row["email"], sms=row["sms"], phone=row["phone"],
                      agents=[self.ref("users", a, "user") for a in _list(row["agentSourcedIds"])],
                      grades=_list(row["grades"]))
        if self.version == "1.1":
            return _put(record, role=row["role"], orgs=[self.ref("orgs", o, "org") for o in orgs])
        state = next((u["identifier"] for u in user_ids if u["type"].lower() == "state"), None)
        return _put(record, userMasterIdentifier=state,
                    primaryOrg=self.ref("orgs", orgs[0], "org") if orgs else None,
                    roles=[{"roleType": "primary" if i == 0 else "secondary",
                            "role": role_12(row["role"], self._org_type.get(o, "school")),
                            "org": self.ref("orgs", o, "org")} for i, o in enumerate(orgs)])

    def _enrollment(self, row):
        return _put(self._base(row), role=row["role"], primary=row["primary"], beginDate=row["beginDate"],
                    endDate=row["endDate"], user=self.ref("users", row["userSourcedId"], "user"),
                    **{"class": self.ref("classes", row["classSourcedId"], "class")},
                    school=self.ref("orgs", row["schoolSourcedId"], "org"))

    def _demographics(self, row):
        fields = {k: v for k, v in row.items() if k not in ("sourcedId", "status", "dateLastModified")}
        return _put(self._base(row), **fields)

    def _category(self, row):
        return _put(self._base(row), title=row["title"], weight=_number(row.get("weight")))

    def _line_item(self, row):
        session = self.ref("academicSessions", row["gradingPeriodSourcedId"], "academicSession")
        record = _put(self._base(row), title=row["title"], description=row["description"],
                      assignDate=f"{row['assignDate']}T00:00:00.000Z", dueDate=f"{row['dueDate']}T00:00:00.000Z",
                      category=self.ref("categories", row["categorySourcedId"], "category"),
                      resultValueMin=_number(row["resultValueMin"]), resultValueMax=_number(row["resultValueMax"]),
                      **{"class": self.ref("classes", row["classSourcedId"], "class")})
        if self.version == "1.1":
            return _put(record, gradingPeriod=session)
        school = self._school_of_class.get(row["classSourcedId"])
        return _put(record, academicSession=session, school=self.ref("orgs", school, "org") if school else None)

    def _result(self, row):
        record = _put(self._base(row), scoreStatus=row["scoreStatus"], score=_number(row["score"]),
                      scoreDate=row["scoreDate"], comment=row["comment"],
                      lineItem=self.ref("lineItems", row["lineItemSourcedId"], "lineItem"),
                      student=self.ref("users", row["studentSourcedId"], "user"))
        cls = self._class_of_line_item.get(row["lineItemSourcedId"])
        if self.version == "1.2" and cls:
            record["class"] = self.ref("classes", cls, "class")
        return record

    def _resource(self, row):
        return _put(self._base(row), title=row["title"], roles=_list(row["roles"]), importance=row["importance"],
                    vendorResourceId=row["vendorResourceId"], vendorId=row["vendorId"],
                    applicationId=row["applicationId"])

    # -- changes a test makes between pulls --------------------------------------------
    def modify(self, collection: str, sourced_id: str, **fields) -> dict:
        with self._lock:
            record = self.records[collection][sourced_id]
            record.update(fields, dateLastModified=now_text())
            return record

    def mark_deleted(self, collection: str, sourced_id: str) -> dict:
        return self.modify(collection, sourced_id, status="tobedeleted")

    def remove(self, collection: str, sourced_id: str) -> None:
        with self._lock:
            del self.records[collection][sourced_id]

    def add(self, collection: str, record: dict) -> dict:
        """A record a test adds (e.g. a 1.2 score scale), with status and dateLastModified."""
        with self._lock:
            record = {"status": "active", "dateLastModified": now_text(), **record}
            self.records[collection][record["sourcedId"]] = record
            return record

    def give_resource(self, parent: str, parent_id: str, resource_id: str) -> None:
        """Give a resource to a class, course or (1.2) user: served by /<parent>/{id}/resources."""
        with self._lock:
            self.resources_of[parent].setdefault(parent_id, []).append(resource_id)

    # -- the server --------------------------------------------------------------------
    def handle(self, request: FakeRequest) -> FakeResponse:
        if request.method == "POST" and request.path == self.prefix + self.token_path:
            return self._token(request)
        roots = {service: self.prefix + path for service, path in SERVICE_ROOTS[self.version].items()}
        # 1.1 serves every collection under one root; 1.2 each under its service's own.
        services = [s for s, root in roots.items() if request.path.startswith(root + "/")]
        if not services or request.method != "GET":
            return imsx_error(404, "unknownobject", "no such service endpoint")
        denied = self._authenticate(request)
        if denied is not None:
            return denied
        parts = request.path[len(roots[services[0]]) + 1:].split("/")
        name = parts[0]
        nested = len(parts) == 3 and parts[2] == "resources" and name in RESOURCE_PARENTS[self.version]
        service = "resources" if nested else SERVICE.get(name, "rostering")
        if (name not in SINGULAR and not nested) or len(parts) > 3 or (len(parts) == 3 and not nested) or \
                service not in services or (self.version == "1.1" and name in ONLY_12):
            return imsx_error(404, "unknownobject", f"unknown collection {'/'.join(parts)}")
        forbidden = self._check_scope(request, name, service)
        if forbidden is not None:
            return forbidden
        if nested:
            with self._lock:
                ids = self.resources_of[name].get(unquote(parts[1]), [])
                rows = [self.records["resources"][i] for i in ids if i in self.records["resources"]]
            return self._collection(request, "resources", rows)
        if len(parts) == 2:
            record = self.records[STORED.get(name, name)].get(unquote(parts[1]))
            if record is None:
                return imsx_error(404, "unknownobject", "no record with that sourcedId")
            return FakeResponse(200, {SINGULAR[name]: record})
        return self._collection(request, name)

    def _token(self, request: FakeRequest) -> FakeResponse:
        if self.auth != "oauth2":
            return FakeResponse(404, {"error": "not_found"})
        form = request.form()
        credentials = request.basic_auth() or (form.get("client_id"), form.get("client_secret"))
        if credentials != (self.client_id, self.client_secret):
            return FakeResponse(401, {"error": "invalid_client"}, {"WWW-Authenticate": 'Basic realm="oneroster"'})
        if form.get("grant_type") != "client_credentials":
            return FakeResponse(400, {"error": "unsupported_grant_type"})
        asked = tuple(form.get("scope", "").split())
        if self.version == "1.2" and set(asked) - set(self.allowed_scopes):
            return FakeResponse(400, {"error": "invalid_scope"})
        granted = (asked or self.allowed_scopes) if self.version == "1.2" else ()
        body = self.server.tokens.issue(self.client_id, granted)
        return FakeResponse(200, {**body, "scope": " ".join(granted)})

    def _authenticate(self, request: FakeRequest) -> FakeResponse | None:
        with self._lock:
            self.api_requests += 1
            if self.expire_tokens_after is not None and self.api_requests == self.expire_tokens_after:
                self.server.tokens.expire_all()
        if self.auth == "oauth2":
            grant = self.server.tokens.check(request.bearer())
            if grant is None:
                return imsx_error(401, "unauthorisedrequest", "missing, invalid or expired access token")
            request.scopes = grant[1]  # type: ignore[attr-defined]
            return None
        header = request.header("authorization", "")
        if not header.startswith("OAuth "):
            return imsx_error(401, "unauthorisedrequest", "the request is not signed")
        oauth = {k: unquote(v) for k, v in re.findall(r'(\w+)="([^"]*)"', header[6:])}
        if oauth.get("oauth_consumer_key") != self.client_id or oauth.get("oauth_signature_method") != "HMAC-SHA1":
            return imsx_error(401, "unauthorisedrequest", "unknown consumer key or signature method")
        try:
            stamp = int(oauth.get("oauth_timestamp", ""))
        except ValueError:
            return imsx_error(401, "unauthorisedrequest", "bad timestamp")
        if abs(time.time() - stamp) > NONCE_WINDOW_SECONDS:
            return imsx_error(401, "unauthorisedrequest", "timestamp outside the allowed window")
        expected = oauth1_signature(request.method, request.url, oauth, self.client_secret)
        if not hmac.compare_digest(expected, oauth.get("oauth_signature", "")):
            return imsx_error(401, "unauthorisedrequest", "signature mismatch")
        with self._lock:
            key = (oauth["oauth_timestamp"], oauth.get("oauth_nonce", ""))
            if not key[1] or key in self._nonces:
                return imsx_error(401, "unauthorisedrequest", "nonce already used")
            self._nonces.add(key)
        return None

    def _check_scope(self, request: FakeRequest, name: str, service: str = "rostering") -> FakeResponse | None:
        if self.version != "1.2" or self.auth != "oauth2":
            return None
        scopes = set(getattr(request, "scopes", ()))
        needed = ({GRADEBOOK} if service == "gradebook" else {RESOURCE} if service == "resources"
                  else {DEMOGRAPHICS, ROSTER} if name == "demographics" else {CORE, ROSTER})
        if not scopes & needed:
            return imsx_error(403, "forbidden", f"the token's scopes do not cover {name}")
        return None

    def _collection(self, request: FakeRequest, name: str, rows: list[dict] | None = None) -> FakeResponse:
        try:
            limit = int(request.arg("limit", "100"))
            offset = int(request.arg("offset", "0"))
            if limit < 1 or offset < 0:
                raise ValueError
        except ValueError:
            return imsx_error(400, "invaliddata", "limit and offset are non-negative integers, limit at least 1")
        limit = min(limit, self.max_limit)
        if rows is None:
            with self._lock:
                rows = list(self.records[STORED.get(name, name)].values())
        if name == "schools":
            rows = [r for r in rows if r.get("type") == "school"]
        elif name in ("students", "teachers"):
            rows = [r for r in rows if name[:-1] in self._roles(r)]
        text = request.arg("filter")
        if text:
            try:
                refused = [f for f in self.unfilterable if re.search(rf"(^|\s){re.escape(f)}\s*({OPS})", text)]
                if refused:
                    raise ValueError(f"filtering on {refused[0]} is not supported")
                rows = apply_filter(rows, text)
            except ValueError as exc:
                return imsx_error(400, "invalid_filter_field", str(exc))
        page = [] if self.empty_after is not None and offset >= self.empty_after else rows[offset:offset + limit]
        headers = {}
        if self.total:
            headers["X-Total-Count"] = str(len(rows))
        if self.link and offset + limit < len(rows):
            query = {k: v[0] for k, v in request.query.items()} | {"limit": str(limit), "offset": str(offset + limit)}
            path = f"{self.server.url}{request.path}?{urlencode(query, quote_via=quote)}"
            headers["Link"] = f'<{path}>; rel="next"'
        with self._lock:
            gone = self.remove_during.pop(STORED.get(name, name), None) if offset == 0 else None
            if gone is not None:
                self.records[STORED.get(name, name)].pop(gone, None)  # deleted while the client pages
        return FakeResponse(200, {"users" if name in ("students", "teachers") else
                                  ("orgs" if name == "schools" else name): page}, headers)

    @staticmethod
    def _roles(record: dict) -> set[str]:
        return {record["role"]} if "role" in record else {r["role"] for r in record.get("roles", [])}


def apply_filter(rows: list[dict], text: str) -> list[dict]:
    """The OneRoster filter grammar: predicates joined by one kind of logical operator."""
    joiner = " OR " if " OR " in text else " AND "
    predicates = []
    for part in text.split(joiner):
        m = PREDICATE.match(part)
        if not m:
            raise ValueError(f"cannot read the filter predicate {part.strip()!r}")
        field, op, value = m.group(1), m.group(2), m.group(3).replace("''", "'")
        known = {"sourcedId", "status", "dateLastModified"} | {k for r in rows[:50] for k in r}
        if field.split(".")[0] not in known:
            raise ValueError(f"unknown filter field {field}")
        predicates.append((field, op, value))
    test = any if joiner == " OR " else all
    return [r for r in rows if test(_matches(r, f, op, v) for f, op, v in predicates)]


def _matches(record: dict, field: str, op: str, value: str) -> bool:
    current = record
    for key in field.split("."):
        current = current.get(key) if isinstance(current, dict) else None
    if current is None:
        return op == "!="
    have, want = str(current), value
    if field == "dateLastModified":
        have, want = _instant(have), _instant(value)  # compared as moments, whatever the spelling
    if op == "~":
        return str(want).lower() in str(have).lower()
    return {"=": have == want, "!=": have != want, ">": have > want, ">=": have >= want, "<": have < want,
            "<=": have <= want}[op]


def _instant(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not a date-time: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


@contextlib.contextmanager
def start_oneroster_fake(data: DistrictData, version: str = "1.2", auth: str = "oauth2", **options):
    """A running fake OneRoster provider for ``data``; ``server.oneroster`` is its ``OneRosterFake``."""
    fake = OneRosterFake(data, version=version, auth=auth, **options)
    server = FakeApiServer(fake.handle)
    fake.attach(server)
    server.oneroster = fake  # type: ignore[attr-defined]
    with server:
        yield server


def oneroster_source_config(server: FakeApiServer, name: str = "oneroster", version: str | None = None,
                            auth: str | None = None, **settings) -> tuple[dict, dict]:
    """The integration-file source for the fake (base_url = the server root) and the env it needs."""
    fake: OneRosterFake = server.oneroster  # type: ignore[attr-defined]
    env_var = f"{name.upper()}_CLIENT_SECRET"
    config = {"name": name, "type": "oneroster", "version": version or fake.version, "auth": auth or fake.auth,
              "base_url": server.url + fake.prefix, "client_id": fake.client_id, "client_secret": f"env:{env_var}"}
    if config["auth"] == "oauth2":
        config["token_url"] = server.url + fake.prefix + fake.token_path
    return {**config, **settings}, {env_var: fake.client_secret}


@contextlib.contextmanager
def start_synergy_fake(data: DistrictData, **options):
    """Synergy's OneRoster API as districts get it: 1.1 with OAuth2 client credentials by default."""
    options = {"version": "1.1", "auth": "oauth2", **options}
    with start_oneroster_fake(data, **options) as server:
        yield server


def synergy_source_config(server: FakeApiServer, name: str = "synergy", **settings) -> tuple[dict, dict]:
    """A ``type: synergy`` source the way Synergy hands out its settings: a Server URL that ends
    with the version path, a token URL, a client id and secret; version and auth left to defaults."""
    fake: OneRosterFake = server.oneroster  # type: ignore[attr-defined]
    env_var = f"{name.upper()}_CLIENT_SECRET"
    config = {"name": name, "type": "synergy", "base_url": fake.root, "client_id": fake.client_id,
              "client_secret": f"env:{env_var}", "token_url": server.url + fake.prefix + fake.token_path}
    if fake.auth != "oauth2":
        config["auth"] = fake.auth
    return {**config, **settings}, {env_var: fake.client_secret}


def as_served_by_12(tables: dict[str, pa.Table], data: DistrictData) -> dict[str, pa.Table]:
    """Canonical tables expected from the CSV drop, with administrators in 1.2's vocabulary
    (``role_12``) and orgs as 1.2 states them: what the same district gives through a 1.2 provider."""
    org_type = {o["sourcedId"]: o["type"] for o in data.tables["orgs"]}
    users = tables["users"].to_pylist()
    for u in users:
        first_org = (u["org_sourced_ids"] or "").split(",")[0]
        u["role"] = role_12(u["role"], org_type.get(first_org, "school"))
        if u["org_sourced_ids"]:
            # 1.2 states a person's orgs as roles, which have no order: both 1.2 mappings (CSV and
            # REST) list them sorted, where 1.1's orgSourcedIds keeps the exporter's order.
            u["org_sourced_ids"] = ",".join(sorted(u["org_sourced_ids"].split(",")))
    roles = tables["roles"].to_pylist()
    for r in roles:
        r["role"] = role_12(r["role"], org_type.get(r["org_sourced_id"], "school"))
        r["sourced_id"] = f"{r['user_sourced_id']}:{r['org_sourced_id']}:{r['role'].lower()}"
    agents = tables["agents"].to_pylist()
    role_of = {u["sourced_id"]: u["role"] for u in users}
    for a in agents:
        a["relationship"] = role_of.get(a["agent_sourced_id"], a["relationship"])
    changed = {"users": users, "roles": roles, "agents": agents}
    return {**tables, **{name: _rehash(name, pa.Table.from_pylist(rows, schema=tables[name].schema))
                         for name, rows in changed.items()}}


def _rehash(name: str, table: pa.Table) -> pa.Table:
    """The content hash again after a value changed, computed as the transform runner does."""
    joined = ", ".join(f'coalesce(CAST("{c}" AS VARCHAR), chr(0))' for c in entities.content_columns(name))
    cols = [f"md5(concat_ws(chr(31), {joined})) AS content_hash" if c == "content_hash" else f'"{c}"'
            for c in table.column_names]
    con = duckdb.connect()
    try:
        con.register("expected", table)
        return con.execute(f"SELECT {', '.join(cols)} FROM expected").to_arrow_table()
    finally:
        con.close()
