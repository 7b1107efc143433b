"""The fake PowerSchool's database tables, as its ``/ws/schema/table`` resource serves them to a plugin.

PowerSchool's schema API (``GET /ws/schema/table/{table}?projection=...&page=&pagesize=`` and
``/count``) answers ``{"name": table, "record": [{"id", "name", "tables": {table: {field: "text"}}}]}``
and ``{"count": n}``. What it enforces here, as PowerSchool does:

- ``projection`` is required; a field the table does not have is a 400 naming it;
- a table the plugin's Data Configuration does not grant is a 403 ``NoAccess``; an unknown table a 404;
- values are text (numbers too), blank fields are left out of the record;
- the page size is capped at ``schema_table_query_max_page_size``.

Tables, from the synthetic district (``PowerSchoolDistrict``):

- ``sections`` (``id``, ``dcid``, ``schoolid``): the internal id of each section the ``/ws/v1`` API names
  by its DCID;
- ``schoolstaff`` (``id``, ``dcid``, ``users_dcid``, ``schoolid``): one row per staff member and school;
  ``users_dcid`` is the staff member's ``/ws/v1`` id;
- ``roledef`` (``id``, ``name``): the five co-teaching roles PowerSchool ships;
- ``sectionteacher`` (``id``, ``sectionid``, ``teacherid``, ``roleid``, ``start_date``, ``end_date``,
  ``allocation``, ``priorityorder``): every teacher of every section, by internal ids; the lead teacher
  of each, and whoever a test adds (``add_section_teacher``);
- ``students`` (``dcid``, ``mother``, ``father``, ``guardian_fn``, ``guardian_mn``, ``guardian_ln``,
  ``guardianemail``, ``motherdayphone``, ``fatherdayphone``): the parent fields of the student record
  (the "Last, First" names the Demographics page keeps), from the student's contacts;
- ``studentcorefields`` (``studentsdcid``, ``immunization_dpt``, ``pscore_legal_first_name``).
"""

from __future__ import annotations

from tests.fakes.http_fake import FakeRequest, FakeResponse

CO_TEACHING_ROLES = ("Lead Teacher", "Co-teacher", "Job Share Teacher", "Teacher's Aide", "Class Observer")
SECTION_BASE, SCHOOLSTAFF_BASE = 50000, 80000
FIELDS = {
    "sections": ("id", "dcid", "schoolid"),
    "schoolstaff": ("id", "dcid", "users_dcid", "schoolid"),
    "roledef": ("id", "name"),
    "sectionteacher": ("id", "sectionid", "teacherid", "roleid", "start_date", "end_date", "allocation",
                       "priorityorder"),
    "students": ("id", "dcid", "mother", "father", "guardian_fn", "guardian_mn", "guardian_ln", "guardianemail",
                 "motherdayphone", "fatherdayphone"),
    "studentcorefields": ("id", "studentsdcid", "immunization_dpt", "pscore_legal_first_name"),
}


def _error(status: int, message: str, **errors) -> FakeResponse:
    body: dict = {"message": message}
    if errors:
        body["errors"] = [errors]
    return FakeResponse(status, body)


class PowerSchoolTables:
    def __init__(self, district, *, max_page_size: int = 1000, forbidden: tuple[str, ...] = ()):
        self.district = district
        self.max_page_size = max_page_size
        self.forbidden = set(forbidden)
        self.rows: dict[str, list[dict]] = {name: [] for name in FIELDS}
        self._build()

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        d = self.district
        numbers = {s["id"]: s["school_number"] for s in d.schools}
        for school, sections in d.by_school["section"].items():
            for s in sections:
                self.rows["sections"].append({"id": SECTION_BASE + s["id"], "dcid": s["id"],
                                              "schoolid": numbers[school]})
        self.schoolstaff: dict[tuple[int, int], int] = {}  # (staff /ws/v1 id, school id) -> SchoolStaff.ID
        for school, staff in sorted(d.by_school["staff"].items()):
            for person in staff:
                internal = SCHOOLSTAFF_BASE + len(self.rows["schoolstaff"]) + 1
                self.schoolstaff[(person["id"], school)] = internal
                self.rows["schoolstaff"].append({"id": internal, "dcid": internal + 1000, "users_dcid": person["id"],
                                                 "schoolid": numbers[school]})
        self.rows["roledef"] = [{"id": i, "name": name} for i, name in enumerate(CO_TEACHING_ROLES, 1)]
        for school, sections in d.by_school["section"].items():
            for s in sections:
                if s.get("staff_id"):
                    self.add_section_teacher(s["id"], s["staff_id"], "Lead Teacher")
        for sid, student in d.students.items():
            self.rows["students"].append({"id": sid, "dcid": sid, **self._parent_fields(sid)})
            self.rows["studentcorefields"].append({"id": 70000 + sid, "studentsdcid": sid,
                                                   "immunization_dpt": "complete" if sid % 3 else "pending",
                                                   "pscore_legal_first_name": student["name"]["first_name"]})

    def _parent_fields(self, sid: int) -> dict:
        """Mother, father and guardian as the student record keeps them, from the student's contacts."""
        out: dict = {}
        emails = []
        for cid in self.district.contacts_of_student.get(sid, []):
            c = self.district.contacts[cid]
            relationship = c["contactStudents"][0]["studentDetails"][0]["relationship"]
            name = f"{c['lastName']}, {c['firstName']}" + (f" {c['middleName']}" if c.get("middleName") else "")
            phone = next((p["phoneNumber"] for p in c["phones"] if not p["sms"]), None)
            if relationship == "Mother" and "mother" not in out:
                out.update(mother=name, **({"motherdayphone": phone} if phone else {}))
            elif relationship == "Father" and "father" not in out:
                out.update(father=name, **({"fatherdayphone": phone} if phone else {}))
            elif relationship == "Legal Guardian" and "guardian_ln" not in out:
                out.update(guardian_fn=c["firstName"], guardian_ln=c["lastName"],
                           **({"guardian_mn": c["middleName"]} if c.get("middleName") else {}))
            else:
                continue
            emails += [e["address"] for e in c["emails"] if e["primary"]]
        if emails:
            out["guardianemail"] = ",".join(emails)
        return out

    def add_section_teacher(self, section: int, staff: int, role: str, start: str | None = None,
                            end: str | None = None) -> None:
        """Another teacher of a section (``section`` and ``staff`` as ``/ws/v1`` names them)."""
        school = next(sch for sch, rows in self.district.by_school["section"].items()
                      if any(r["id"] == section for r in rows))
        row = {"id": len(self.rows["sectionteacher"]) + 1, "sectionid": SECTION_BASE + section,
               "teacherid": self.schoolstaff[(staff, school)], "roleid": CO_TEACHING_ROLES.index(role) + 1,
               "allocation": 100 if role == "Lead Teacher" else 0, "priorityorder": 1}
        if start:
            row["start_date"] = start
        if end:
            row["end_date"] = end
        self.rows["sectionteacher"].append(row)

    def set_student_fields(self, dcid: int, **fields) -> None:
        """Replace the parent fields of one student record (None clears a field)."""
        row = next(r for r in self.rows["students"] if r["dcid"] == dcid)
        for key, value in fields.items():
            if key not in FIELDS["students"]:
                raise KeyError(key)
            if value is None:
                row.pop(key, None)
            else:
                row[key] = value

    # ------------------------------------------------------------------ serving
    def handle(self, req: FakeRequest, table: str, is_count: bool) -> FakeResponse:
        table = table.lower()
        if table not in FIELDS:
            return _error(404, f"Database table {table} not found")
        if table in self.forbidden:
            return _error(403, "Forbidden", code="NoAccess", resource=table)
        rows = self.rows[table]
        if is_count:
            return FakeResponse(200, {"count": len(rows)})
        projection = [p.strip().lower() for p in (req.arg("projection") or "").split(",") if p.strip()]
        if not projection:
            return _error(400, "projection is required")
        if projection != ["*"]:
            unknown = [p for p in projection if p not in FIELDS[table]]
            if unknown:
                return _error(400, f"Invalid projection field {unknown[0]}", field=unknown[0])
        try:
            page = int(req.arg("page", "1"))
            size = min(int(req.arg("pagesize", "100")), self.max_page_size)
        except ValueError:
            return _error(400, "page and pagesize must be integers")
        if page < 1 or size < 1:
            return _error(400, "page and pagesize must be positive")
        fields = FIELDS[table] if projection == ["*"] else projection
        chunk = rows[(page - 1) * size: page * size]
        records = [{"id": r.get("id", r.get("dcid")), "name": table,
                    "tables": {table: {f: str(r[f]) for f in fields if r.get(f) not in (None, "")}}}
                   for r in chunk]
        return FakeResponse(200, {"name": table, "record": records})
