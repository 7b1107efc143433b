"""The synthetic district reshaped into PowerSchool's records, with the map back to the CSV ids.

Each CSV record becomes the PowerSchool record that would hold it: orgs -> the district and
schools; academic sessions -> terms (numbered yearid*100 + n at every school, as PowerSchool
numbers them, for every year the district holds; a class in both semesters is a section of the
year-long term); courses; classes -> sections (with the class's primary teacher as ``staff_id``,
and the term of its year); students with the expansions;
teachers and school administrators -> staff; guardians -> contacts; student enrollments ->
section enrollments. District-office administrators are not served: ``/ws/v1/school/{id}/staff``
lists the staff of schools only.
"""

from __future__ import annotations

import datetime as dt

from tests.fakes.district_data import DistrictData

# How the PowerSchool connector names canonical records (see dbt_like_transforms/powerschool/*.sql).
PREFIX = {"school": "school", "term": "term", "course": "course", "section": "section", "student": "student",
          "staff": "staff", "contact": "contact", "section_enrollment": "section_enrollment"}
RACE_CODES = (("americanIndianOrAlaskaNative", "I"), ("asian", "A"), ("blackOrAfricanAmerican", "B"),
              ("nativeHawaiianOrOtherPacificIslander", "P"), ("white", "W"))
RELATIONSHIP = {"guardian": "Legal Guardian", "relative": "Grandparent"}
EXTENSION_TABLE = "u_students_extension"
STAFF_EXTENSION_TABLE = "u_staff_extension"
CONTACT_EXTENSION_TABLE = "u_contact_extension"


def _extension_data(table: str, fields: dict[str, str]) -> dict:
    """PowerSchool's ``_extension_data`` of one extension table (one field is an object, not a list)."""
    items = [{"name": k, "type": "String", "value": v} for k, v in fields.items()]
    return {"_table_extension": {"recordFound": True, "name": table,
                                 "_field": items[0] if len(items) == 1 else items}}


def canonical_id(kind: str, number: int) -> str:
    return f"{PREFIX[kind]}-{number}"


def _grade_level(code: str) -> int:
    return {"KG": 0, "PK": -1, "PR": -2}.get(code, None) if not code.isdigit() else int(code)


class PowerSchoolDistrict:
    def __init__(self, data: DistrictData):
        t = data.tables
        self.id_map: dict[str, tuple[str, int]] = {}
        district_row = next(o for o in t["orgs"] if o["type"] == "district")
        self.district = {"name": district_row["name"], "district_number": district_row["identifier"],
                         "state_province_id": district_row["identifier"], "high_grade": 12, "low_grade": 0}
        self.district_id = district_row["sourcedId"]
        self.schools = []
        for i, o in enumerate(o for o in t["orgs"] if o["type"] == "school"):
            sid = i + 1
            self.id_map[o["sourcedId"]] = ("school", sid)
            self.schools.append({"id": sid, "name": o["name"], "school_number": 100 * sid,
                                 "state_province_id": o["identifier"], "low_grade": 0, "high_grade": 12})
        self.school_ids = {s["id"] for s in self.schools}
        self.by_school: dict[str, dict[int, list[dict]]] = {r: {} for r in
                                                            ("term", "course", "staff", "section", "student")}
        self._terms(t["academicSessions"])
        self._courses(t["courses"])
        users = {u["sourcedId"]: u for u in t["users"]}
        self._staff([u for u in t["users"] if u["role"] in ("teacher", "administrator")])
        self._students([u for u in t["users"] if u["role"] == "student"],
                       {d["sourcedId"]: d for d in t["demographics"]})
        self._sections(t["classes"], t["enrollments"])
        self._section_enrollments(t["enrollments"])
        self._contacts(users)
        self.extension_tables = (EXTENSION_TABLE, "studentcorefields")

    # ------------------------------------------------------------------ building
    def _school(self, org: str) -> int:
        return self.id_map[org][1]

    def _terms(self, sessions: list[dict]) -> None:
        """Every school year's terms (a district that holds earlier years serves their terms too);
        ``year_term`` is the latest year's, what students' enrollment dates come from."""
        self.term_dates: dict[int, tuple[str, str]] = {}
        self.semesters_of: dict[int, set[int]] = {}
        records = []
        for year in sorted((s for s in sessions if s["type"] == "schoolYear"), key=lambda s: s["startDate"]):
            start_year = int(year["startDate"][:4])
            year_term = (start_year - 1990) * 100
            parts = sorted((s for s in sessions if s["parentSourcedId"] == year["sourcedId"]),
                           key=lambda s: s["startDate"])
            self.id_map[year["sourcedId"]] = ("term", year_term)
            self.term_dates[year_term] = (year["startDate"], year["endDate"])
            records.append({"id": year_term, "name": year["title"],
                            "abbreviation": f"{start_year % 100}-{start_year % 100 + 1}",
                            "start_date": year["startDate"], "end_date": year["endDate"], "start_year": start_year,
                            "portion": 1})
            for n, s in enumerate(parts, 1):
                tid = year_term + n
                self.id_map[s["sourcedId"]] = ("term", tid)
                self.term_dates[tid] = (s["startDate"], s["endDate"])
                records.append({"id": tid, "name": s["title"], "abbreviation": f"S{n}", "start_date": s["startDate"],
                                "end_date": s["endDate"], "start_year": start_year,
                                "portion": 2 if s["type"] == "semester" else 4})
            self.semesters_of[year_term] = {self.id_map[s["sourcedId"]][1] for s in parts}
            self.year_term = year_term
        for school in self.school_ids:  # every school has its own copy of the year's terms
            self.by_school["term"][school] = [{**r, "school_id": school} for r in records]

    def section_term(self, csv_terms: list[str]) -> int:
        """A class in every part of the year is a section of the year-long term."""
        ids = {self.id_map[t][1] for t in csv_terms}
        year_term = min(ids) // 100 * 100
        return year_term if len(ids) > 1 and ids == self.semesters_of.get(year_term) else min(ids)

    def _courses(self, courses: list[dict]) -> None:
        for i, c in enumerate(courses):
            self.id_map[c["sourcedId"]] = ("course", i + 1)
            self.by_school["course"].setdefault(self._school(c["orgSourcedId"]), []).append(
                {"id": i + 1, "course_number": c["courseCode"], "course_name": c["title"]})

    def _staff(self, staff: list[dict]) -> None:
        n = 0
        for u in staff:
            schools = [self._school(o) for o in u["orgSourcedIds"].split(",") if o in self.id_map]
            if not schools:
                continue  # district office: not reachable through /ws/v1/school/{id}/staff
            n += 1
            self.id_map[u["sourcedId"]] = ("staff", n)
            kind = 1 if u["role"] == "teacher" else 2  # school affiliation type: 1 teacher, 2 staff
            affiliations = [{"school_id": s, "type": kind, "status": 1} for s in schools]
            record = {"id": n, "local_id": u["identifier"],
                      "name": {"first_name": u["givenName"], "last_name": u["familyName"],
                               **({"middle_name": u["middleName"]} if u["middleName"] else {})},
                      ("teacher_username" if kind == 1 else "admin_username"): u["username"],
                      "emails": {"work_email": u["email"]} if u["email"] else {},
                      "phones": {"home_phone": u["phone"]} if u["phone"] else {},
                      "school_affiliations": {"school_affiliation": affiliations[0] if len(affiliations) == 1
                                              else affiliations}}
            for s in schools:
                self.by_school["staff"].setdefault(s, []).append(record)

    def _students(self, students: list[dict], demographics: dict[str, dict]) -> None:
        self.students: dict[int, dict] = {}
        self.extensions: dict[int, dict[str, str]] = {}
        start, end = self.term_dates[self.year_term]
        exit_date = (dt.date.fromisoformat(end) + dt.timedelta(days=1)).isoformat()
        for i, u in enumerate(students):
            sid = i + 1
            self.id_map[u["sourcedId"]] = ("student", sid)
            school = self._school(u["orgSourcedIds"].split(",")[0])
            d = demographics.get(u["sourcedId"], {})
            races = [{"district_race_code": code} for col, code in RACE_CODES if d.get(col) == "true"]
            state = u["userIds"].partition("{state:")[2].rstrip("}") if "{state:" in u["userIds"] else None
            self.students[sid] = {
                "id": sid, "local_id": int(u["identifier"]), "student_username": u["username"],
                **({"state_province_id": state} if state else {}),
                "name": {"first_name": u["givenName"], "last_name": u["familyName"],
                         **({"middle_name": u["middleName"]} if u["middleName"] else {})},
                "school_enrollment": {"enroll_status": "A", "enroll_status_code": 0, "enroll_status_description":
                                      "Active", "grade_level": _grade_level(u["grades"]), "entry_date": start,
                                      "exit_date": exit_date, "school_number": 100 * school, "school_id": school},
                "demographics": {**({"gender": {"male": "M", "female": "F"}[d["sex"]]}
                                    if d.get("sex") in ("male", "female") else {}),
                                 **({"birth_date": d["birthDate"]} if d.get("birthDate") else {}),
                                 "projected_graduation_year": 2026 + 12 - (_grade_level(u["grades"]) or 0)},
                "contact_info": {"email": u["email"]} if u["email"] else {},
                "ethnicity_race": {"federal_ethnicity": d.get("hispanicOrLatinoEthnicity") == "true",
                                   **({"races": races[0] if len(races) == 1 else races} if races else {})},
            }
            self.extensions[sid] = {"bus_route": f"R{sid % 7 + 1}", "locker_number": str(2000 + sid)}
            self.by_school["student"].setdefault(school, []).append(self.students[sid])
        self.student_ids = set(self.students)

    def student_view(self, record: dict, expansions: set[str], extensions: set[str]) -> dict:
        """A student as served: the core fields, the expansions asked for, the extensions asked for."""
        core = {k: v for k, v in record.items() if k not in EXPANSION_FIELDS or k in expansions}
        if EXTENSION_TABLE in extensions:
            fields = [{"name": k, "type": "String", "value": v} for k, v in self.extensions[record["id"]].items()]
            core["_extension_data"] = {"_table_extension": {"recordFound": True, "name": EXTENSION_TABLE,
                                                            "_field": fields}}
        return core

    def staff_view(self, record: dict, extensions: set[str]) -> dict:
        """A staff member as served, with the staff extension table when asked for."""
        if STAFF_EXTENSION_TABLE not in extensions:
            return record
        return {**record, "_extension_data": _extension_data(STAFF_EXTENSION_TABLE, {
            "badge_number": f"B{record['id']:04d}", "room": f"R{100 + record['id']}"})}

    def contact_view(self, contact: dict, extensions: set[str]) -> dict:
        """A contact as the contacts API serves it, with the contact extension table when asked for."""
        if CONTACT_EXTENSION_TABLE not in extensions:
            return contact
        return {**contact, "_extension_data": _extension_data(CONTACT_EXTENSION_TABLE, {
            "preferred_language": "es" if contact["contactId"] % 2 else "en"})}

    def _sections(self, classes: list[dict], enrollments: list[dict]) -> None:
        teacher = {e["classSourcedId"]: e["userSourcedId"] for e in enrollments if e["role"] == "teacher"}
        self.section_school: dict[int, int] = {}
        for i, c in enumerate(classes):
            sid = i + 1
            self.id_map[c["sourcedId"]] = ("section", sid)
            school = self._school(c["schoolSourcedId"])
            self.section_school[sid] = school
            staff = self.id_map.get(teacher.get(c["sourcedId"], ""), (None, None))[1]
            record = {"id": sid, "school_id": school, "course_id": self.id_map[c["courseSourcedId"]][1],
                      "term_id": self.section_term(c["termSourcedIds"].split(",")),
                      "section_number": c["title"].rsplit(" - Section ", 1)[-1],
                      "expression": " ".join(f"{p}(A)" for p in c["periods"].split(",")) if c["periods"] else "",
                      "external_expression": ",".join(f"P{p}" for p in c["periods"].split(",")) if c["periods"] else "",
                      "gradebooktype": "2", **({"room": c["location"]} if c["location"] else {}),
                      **({"staff_id": staff} if staff else {})}
            self.by_school["section"].setdefault(school, []).append(record)
        self.section_ids = set(self.section_school)

    def _section_enrollments(self, enrollments: list[dict]) -> None:
        self.section_enrollments: dict[int, list[dict]] = {}
        n = 0
        for e in enrollments:
            if e["role"] != "student":
                continue
            n += 1
            self.id_map[e["sourcedId"]] = ("section_enrollment", n)
            section = self.id_map[e["classSourcedId"]][1]
            term = next(r for r in self.by_school["section"][self.section_school[section]] if r["id"] == section)["term_id"]
            start, end = self.term_dates[term]
            self.section_enrollments.setdefault(section, []).append(
                {"id": n, "section_id": section, "student_id": self.id_map[e["userSourcedId"]][1],
                 "entry_date": start, "exit_date": end, "dropped": False})
        for rows in self.section_enrollments.values():
            rows.sort(key=lambda r: (r["student_id"], r["entry_date"]))  # PowerSchool's documented order

    def _contacts(self, users: dict[str, dict]) -> None:
        self.contacts: dict[int, dict] = {}
        self.contacts_of_student: dict[int, list[int]] = {}
        guardians = [u for u in users.values() if u["role"] in ("parent", "guardian", "relative")]
        for i, g in enumerate(guardians):
            cid = i + 1
            self.id_map[g["sourcedId"]] = ("contact", cid)
            relationship = RELATIONSHIP.get(g["role"]) or ("Mother" if cid % 2 else "Father")
            phones = [{"contactsPhoneId": 2 * cid, "sequence": 1, "preferred": True, "phoneType": "Home",
                       "phoneNumber": g["phone"], "sms": False, "deleted": False}] if g["phone"] else []
            if g["sms"]:
                phones.append({"contactsPhoneId": 2 * cid + 1, "sequence": 2, "preferred": False,
                               "phoneType": "Mobile", "phoneNumber": g["sms"], "sms": True, "deleted": False})
            children = [c for c in g["agentSourcedIds"].split(",") if c]
            self.contacts[cid] = {
                "contactId": cid, "firstName": g["givenName"], "lastName": g["familyName"],
                **({"middleName": g["middleName"]} if g["middleName"] else {}),
                "contactNumber": g["identifier"], "active": True,
                "emails": [{"contactEmailId": cid, "primary": True, "type": "Home", "address": g["email"],
                            "deleted": False}] if g["email"] else [],
                "phones": phones, "contactAccount": {"enabled": True, "userName": g["username"], "password": None},
                "contactStudents": [self._contact_student(cid, n, users[c], relationship)
                                    for n, c in enumerate(children, 1)],
            }
            for c in children:
                self.contacts_of_student.setdefault(self.id_map[c][1], []).append(cid)

    def _contact_student(self, cid: int, n: int, student: dict, relationship: str) -> dict:
        sid = self.id_map[student["sourcedId"]][1]
        return {"studentContactId": cid * 10 + n, "sequence": n, "dcid": sid, "studentNumber": student["identifier"],
                "firstName": student["givenName"], "lastName": student["familyName"],
                "schoolNumber": self.students[sid]["school_enrollment"]["school_number"], "guardianId": cid,
                "canAccessData": True, "deleted": False,
                "studentDetails": [{"studentContactDetailId": cid * 10 + n, "relationship": relationship,
                                    "custodial": True, "emergency": True, "livesWith": True, "active": True,
                                    "startDate": self.term_dates[self.year_term][0], "deleted": False}]}

    def forget(self, resource: str, rid: int) -> None:
        """A record deleted in PowerSchool disappears from everything that pointed at it."""
        if resource == "student":
            self.student_ids.discard(rid)
            for rows in self.section_enrollments.values():
                rows[:] = [r for r in rows if r["student_id"] != rid]

    # ------------------------------------------------------------------ translation of CSV canonical rows
    def _id(self, csv_id: str | None) -> str | None:
        if csv_id is None:
            return None
        kind, number = self.id_map.get(csv_id, (None, None))
        if kind is None:
            return csv_id if csv_id == self.district_id else None
        return canonical_id(kind, number)

    def _district(self) -> str:
        return f"district-{self.district['district_number']}"

    def _ref(self, csv_id: str | None) -> str | None:
        return self._district() if csv_id == self.district_id else self._id(csv_id)

    def _refs(self, value: str | None) -> str | None:
        if value is None:
            return None
        return ",".join(self._ref(v) or f"<unmapped {v}>" for v in value.split(","))

    def translate_row(self, entity: str, row: dict) -> dict | None:
        r = dict(row)
        if entity == "orgs":
            r["sourced_id"] = self._ref(r["sourced_id"])
            r["parent_sourced_id"] = self._ref(r["parent_sourced_id"])
        elif entity == "academic_sessions":
            r["sourced_id"], r["parent_sourced_id"] = self._id(r["sourced_id"]), self._id(r["parent_sourced_id"])
        elif entity == "courses":
            r["sourced_id"], r["org_sourced_id"] = self._id(r["sourced_id"]), self._ref(r["org_sourced_id"])
            r["school_year_sourced_id"] = self._id(r["school_year_sourced_id"])
        elif entity == "classes":
            r["sourced_id"], r["course_sourced_id"] = self._id(r["sourced_id"]), self._id(r["course_sourced_id"])
            r["school_sourced_id"] = self._ref(r["school_sourced_id"])
            r["term_sourced_ids"] = canonical_id("term", self.section_term(r["term_sourced_ids"].split(",")))
        elif entity in ("users", "demographics"):
            if self._id(r["sourced_id"]) is None:
                return None  # district-office staff: not served
            r["sourced_id"] = self._id(r["sourced_id"])
            if entity == "users":
                r["org_sourced_ids"] = self._refs(r["org_sourced_ids"])
            else:
                r["sex"] = r["sex"] if r["sex"] in ("male", "female") else None  # PowerSchool gender is M or F
        elif entity == "roles":
            user = self._id(r["user_sourced_id"])
            if user is None:
                return None
            r["user_sourced_id"], r["org_sourced_id"] = user, self._ref(r["org_sourced_id"])
            r["sourced_id"] = f"{user}:{r['org_sourced_id']}:{r['role']}"
        elif entity == "enrollments":
            r["class_sourced_id"], r["user_sourced_id"] = self._id(r["class_sourced_id"]), self._id(r["user_sourced_id"])
            r["school_sourced_id"] = self._ref(r["school_sourced_id"])
            r["sourced_id"] = (self._id(r["sourced_id"]) if r["role"] == "student"
                               else f"{r['class_sourced_id']}-{r['user_sourced_id']}")
        elif entity == "agents":
            r["user_sourced_id"], r["agent_sourced_id"] = self._id(r["user_sourced_id"]), self._id(r["agent_sourced_id"])
            r["sourced_id"] = f"{r['user_sourced_id']}:{r['agent_sourced_id']}"
        return r


EXPANSION_FIELDS = ("demographics", "addresses", "alerts", "phones", "school_enrollment", "ethnicity_race", "contact",
                    "contact_info", "initial_enrollment", "schedule_setup", "fees", "lunch")
