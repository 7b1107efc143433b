"""A fake PowerSchool SIS serving the synthetic district through PowerSchool's plugin API.

What it enforces, as PowerSchool documents it:

- ``POST /oauth/access_token`` only with HTTP Basic client credentials, a form content type and
  ``grant_type=client_credentials`` (401 ``invalid_client`` for a wrong secret); tokens expire;
  every ``/ws/`` call but ``/ws/v1/time`` needs a live bearer token (401 otherwise);
- JSON only when the client sends ``Accept: application/json`` (XML otherwise, as PowerSchool does);
- ``/count`` and ``page``/``pagesize`` paging, the page size capped at the resource's maximum
  from ``/ws/v1/metadata``; unknown paths and ids are 404; a plugin without access gets 403;
- envelopes as PowerSchool serializes them: one record on a page is an OBJECT, not a list; an
  empty page has no inner key; an empty section roster is ``{"section_enrollments": ""}``; a
  staff member's single school affiliation and a student's single race are objects too;
- expansions and extensions only when asked for (students, staff, and contacts of the contacts API);
- database tables through ``/ws/schema/table`` (``powerschool_tables.py``): co-teachers, the student
  record's parent fields, core-field tables;
- writes (``POST /ws/v1/student``, ``POST /ws/contacts/contact``, ``PUT /ws/contacts/contact/{id}``)
  with PowerSchool's write rules, per-record results and error shapes, applied to the district so
  that the next read shows them (``powerschool_writes.py``); JSON bodies only (415 otherwise).

Ids are integers in separate spaces, as in PowerSchool: students, staff, contacts, sections and
courses each count from 1, so the same number names different people and things. ``id_map``
ties each CSV sourcedId to its (PowerSchool resource, integer id); ``translate_csv_tables``
rewrites the CSV drop's canonical tables into the ids the PowerSchool connector produces.
"""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from typing import Any, Iterator

import pyarrow as pa

from tests.fakes.district_data import DistrictData
from tests.fakes.http_fake import FakeApiServer, FakeRequest, FakeResponse
from tests.fakes.powerschool_district import PowerSchoolDistrict, canonical_id
from tests.fakes.powerschool_tables import PowerSchoolTables
from tests.fakes.powerschool_writes import PowerSchoolWrites

CLIENT_ID = "ps-plugin-7f3a"
CLIENT_SECRET = "ps-secret-9d1c"
SECRET_ENV = "POWERSCHOOL_CLIENT_SECRET"
MAX_PAGE_SIZES = {"school": 100, "term": 100, "course": 100, "staff": 100, "section": 100, "student": 100,
                  "section_enrollment": 100}
ENVELOPES = {"school": ("schools", "school"), "term": ("terms", "term"), "course": ("courses", "course"),
             "staff": ("staffs", "staff"), "section": ("sections", "section"), "student": ("students", "student"),
             "section_enrollment": ("section_enrollments", "section_enrollment")}
EXPANSIONS = ("demographics", "addresses", "alerts", "phones", "school_enrollment", "ethnicity_race", "contact",
              "contact_info", "initial_enrollment", "schedule_setup", "fees", "lunch")
SCHOOL_PATH = re.compile(r"^/ws/v1/school/(\d+)/(term|course|staff|section|student)(/count)?$")
SECTION_PATH = re.compile(r"^/ws/v1/section/(\d+)/section_enrollment$")
CONTACTS_PATH = re.compile(r"^/ws/contacts/student/(\d+)$")
CONTACT_PATH = re.compile(r"^/ws/contacts/contact/(\d+)$")
TABLE_PATH = re.compile(r"^/ws/schema/table/([A-Za-z0-9_]+)(/count)?$")


def _error(status: int, message: str) -> FakeResponse:
    return FakeResponse(status, {"message": message})


class PowerSchoolFake:
    """The request handler: routes, auth, paging and faults over a ``PowerSchoolDistrict``."""

    def __init__(self, district: PowerSchoolDistrict, *, max_page_sizes: dict[str, int] | None = None,
                 forbidden: tuple[str, ...] = (), expire_tokens_after: int | None = None,
                 delete_during_paging: str | None = None, client_id: str = CLIENT_ID,
                 client_secret: str = CLIENT_SECRET, forbidden_tables: tuple[str, ...] = ()):
        self.district = district
        self.tables = PowerSchoolTables(district, forbidden=forbidden_tables)
        self.max_page_sizes = {**MAX_PAGE_SIZES, **(max_page_sizes or {})}
        self.forbidden = forbidden
        self.expire_tokens_after = expire_tokens_after
        self.delete_during_paging = delete_during_paging  # resource whose first school loses a record mid-read
        self.client_id, self.client_secret = client_id, client_secret
        self.server: FakeApiServer | None = None
        self.api_calls = 0
        self.single_object_pages = 0
        self.deleted: list[int] = []
        self._lock = threading.Lock()
        self.writes = PowerSchoolWrites(district, lambda: self.server.url if self.server else "")

    # ------------------------------------------------------------------ auth
    def _token(self, req: FakeRequest) -> FakeResponse:
        if req.method != "POST":
            return _error(405, "Method Not Allowed")
        if req.basic_auth() != (self.client_id, self.client_secret):
            return FakeResponse(401, {"error": "invalid_client", "error_description": "Bad client credentials"})
        if not (req.header("content-type") or "").startswith("application/x-www-form-urlencoded"):
            return FakeResponse(400, {"error": "invalid_request"})
        if req.form().get("grant_type") != "client_credentials":
            return FakeResponse(400, {"error": "unsupported_grant_type"})
        issued = self.server.tokens.issue(self.client_id)
        return FakeResponse(200, {**issued, "expires_in": str(issued["expires_in"])})  # PowerSchool sends a string

    def handle(self, req: FakeRequest) -> FakeResponse:
        if req.path in ("/oauth/access_token", "/oauth/access_token/"):
            return self._token(req)
        if req.path == "/ws/v1/time":
            return FakeResponse(200, {"time": {"iso_8601": "2025-09-02T10:00:00.000Z"}})
        if not req.path.startswith("/ws/"):
            return _error(404, "Not Found")
        if self.server.tokens.check(req.bearer()) is None:
            return FakeResponse(401, {"message": "Authorization failed: invalid or expired access token"},
                                {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if any(req.path.startswith(p) for p in self.forbidden):
            return _error(403, "The plugin does not have access to this resource")
        with self._lock:
            self.api_calls += 1
            if self.expire_tokens_after is not None and self.api_calls == self.expire_tokens_after:
                self.server.tokens.expire_all()  # the token dies mid-extract; this request still succeeds
        if "application/json" not in (req.header("accept") or ""):
            return FakeResponse(200, "<?xml version=\"1.0\"?><resource/>", {"Content-Type": "application/xml"})
        if req.method in ("POST", "PUT"):
            return self._write(req)
        if req.method != "GET":
            return _error(405, "Method Not Allowed")
        return self._route(req)

    def _write(self, req: FakeRequest) -> FakeResponse:
        if not (req.header("content-type") or "").startswith("application/json"):
            return _error(415, "Unsupported Media Type: send application/json")
        if req.path == "/ws/v1/student":
            return self.writes.students(req) if req.method == "POST" else _error(405, "Method Not Allowed")
        if req.path == "/ws/contacts/contact":
            return self.writes.create_contact(req) if req.method == "POST" else _error(405, "Method Not Allowed")
        m = CONTACT_PATH.match(req.path)
        if m:
            return self.writes.update_contact(req, int(m.group(1))) if req.method == "PUT" else \
                _error(405, "Method Not Allowed")
        return _error(404, "Not Found")

    # ------------------------------------------------------------------ resources
    def _route(self, req: FakeRequest) -> FakeResponse:
        d = self.district
        if req.path == "/ws/v1/metadata":
            meta = {f"{k}_max_page_size": v for k, v in self.max_page_sizes.items()}
            return FakeResponse(200, {"metadata": {**meta, "powerschool_version": "24.11.0.0", "plugin_id": 412,
                                                   "schema_table_query_max_page_size": 1000, "state": "CA"}})
        if req.path == "/ws/v1/district":
            return FakeResponse(200, {"district": d.district})
        if req.path == "/ws/v1/district/school":
            return self._page(req, "school", d.schools)
        if req.path == "/ws/v1/district/school/count":
            return FakeResponse(200, {"resource": {"count": len(d.schools)}})
        m = SCHOOL_PATH.match(req.path)
        if m:
            school, resource, is_count = int(m.group(1)), m.group(2), m.group(3)
            if school not in d.school_ids:
                return _error(404, f"School {school} not found")
            rows = d.by_school[resource].get(school, [])
            if is_count:
                return FakeResponse(200, {"resource": {"count": len(rows)}})
            return self._page(req, resource, rows, school=school)
        m = SECTION_PATH.match(req.path)
        if m:
            section = int(m.group(1))
            if section not in d.section_ids:
                return _error(404, f"Section {section} not found")
            return self._page(req, "section_enrollment", d.section_enrollments.get(section, []))
        m = CONTACTS_PATH.match(req.path)
        if m:
            student = int(m.group(1))
            if student not in d.student_ids:
                return _error(404, f"Student {student} not found")
            tables = {e.strip().lower() for e in (req.arg("extensions") or "").split(",") if e.strip()}
            return FakeResponse(200, [d.contact_view(d.contacts[c], tables)
                                      for c in d.contacts_of_student.get(student, [])])
        m = TABLE_PATH.match(req.path)
        if m:
            return self.tables.handle(req, m.group(1), bool(m.group(2)))
        return _error(404, "Not Found")

    def _page(self, req: FakeRequest, resource: str, rows: list[dict], school: int | None = None) -> FakeResponse:
        try:
            page = int(req.arg("page", "1"))
            size = int(req.arg("pagesize", "100"))
        except ValueError:
            return _error(400, "page and pagesize must be integers")
        if page < 1 or size < 1:
            return _error(400, "page and pagesize must be positive")
        size = min(size, self.max_page_sizes[resource])  # PowerSchool never serves more than the maximum
        chunk = rows[(page - 1) * size: page * size]
        tables = {e.strip().lower() for e in (req.arg("extensions") or "").split(",") if e.strip()}
        if resource == "student":
            asked = {e.strip() for e in (req.arg("expansions") or "").split(",") if e.strip()}
            chunk = [self.district.student_view(s, asked, tables) for s in chunk]
        elif resource == "staff":
            chunk = [self.district.staff_view(s, tables) for s in chunk]
        self._maybe_delete(resource, school, page, rows)
        plural, singular = ENVELOPES[resource]
        if resource == "section_enrollment" and not chunk:
            return FakeResponse(200, {plural: ""})
        inner: dict[str, Any] = {"@expansions": ", ".join(EXPANSIONS)} if resource == "student" else {}
        if resource == "student":
            inner["@extensions"] = ",".join(self.district.extension_tables)
        if len(chunk) == 1:
            self.single_object_pages += 1
            inner[singular] = chunk[0]  # PowerSchool's XML heritage: one record is an object
        elif chunk:
            inner[singular] = chunk
        return FakeResponse(200, {plural: inner})

    def _maybe_delete(self, resource: str, school: int | None, page: int, rows: list[dict]) -> None:
        """After page 1 of the first school's ``resource``, delete a record that page held: the
        rest shift up one place, so page 2 starts one record later than a client expects."""
        if resource != self.delete_during_paging or page != 1 or self.deleted or len(rows) < 3:
            return
        if school != self.district.schools[0]["id"]:
            return
        victim = rows.pop(1)
        self.deleted.append(victim["id"])
        self.district.forget(resource, victim["id"])


@contextmanager
def start_powerschool_fake(data: DistrictData, *, tls: bool = False, tmp=None, **options) -> Iterator[FakeApiServer]:
    """A running fake PowerSchool serving ``data``; options as ``PowerSchoolFake`` takes them."""
    fake = PowerSchoolFake(PowerSchoolDistrict(data), **options)
    server = FakeApiServer(fake.handle, tls=tls, tmp=tmp)
    fake.server = server
    server.fake = fake  # type: ignore[attr-defined]
    server.id_map = fake.district.id_map  # type: ignore[attr-defined]
    with server:
        yield server


def powerschool_source_config(server: FakeApiServer, name: str = "powerschool", **overrides) -> tuple[dict, dict]:
    """The integration-file source mapping for the fake, and the environment it needs."""
    fake: PowerSchoolFake = server.fake  # type: ignore[attr-defined]
    config = {"name": name, "type": "powerschool", "base_url": server.url, "client_id": fake.client_id,
              "client_secret": f"env:{SECRET_ENV}", **overrides}
    if server.ca_file is not None:
        config.setdefault("ca_bundle", str(server.ca_file))
    return config, {SECRET_ENV: fake.client_secret}


def translate_csv_tables(tables: dict[str, pa.Table], server: FakeApiServer) -> dict[str, pa.Table]:
    """The CSV drop's canonical tables with every id rewritten as the PowerSchool connector names
    it. Rows of people the fake does not serve (district-office staff) are dropped; values
    PowerSchool cannot hold are rewritten as it holds them (see ``PowerSchoolDistrict.translate_row``)."""
    district: PowerSchoolDistrict = server.fake.district  # type: ignore[attr-defined]
    out = {}
    for entity, table in tables.items():
        rows = [r for r in (district.translate_row(entity, row) for row in table.to_pylist()) if r is not None]
        out[entity] = pa.Table.from_pylist(rows, schema=table.schema)
    return out


__all__ = ["start_powerschool_fake", "powerschool_source_config", "translate_csv_tables", "canonical_id",
           "PowerSchoolFake", "CLIENT_ID", "CLIENT_SECRET", "SECRET_ENV"]
