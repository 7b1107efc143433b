"""PowerSchool's write endpoints as the fake serves them, over a ``PowerSchoolDistrict``, enforcing the
rules PowerSchool documents (docs/writeback.md#the-rules-enforced-before-sending) and applying what it accepts, so that
the next read shows it.

``POST /ws/v1/student`` — ``{"students": {"student": [...]}}`` (one record may be an object), each with
``client_uid`` and ``action`` (INSERT | UPDATE, ``id`` for an UPDATE). Per record, an ERROR result when:

- ``student_username`` is given (not writable), or any other key PowerSchool does not take;
- ``school_enrollment`` is given in an UPDATE (insert-only);
- a first or last name would be blank;
- ``demographics.gender`` is not M or F;
- an INSERT lacks first/last name, grade level, entry date, exit date or school number, names a school
  number no school has, or repeats a ``local_id`` another student has;
- an UPDATE names no student; or the test queued a refusal for the student (``refuse``).

Answer: ``{"results": {"insert_count", "update_count", "delete_count", "result": {...} | [...]}}``, each
result ``{"client_uid", "status": "SUCCESS"|"ERROR", "action", "success_message": {"id", "ref"}}`` or
``{..., "error_message": {"error": {...} | [...]}}``; error descriptions quote the refused value, as
PowerSchool's do (the client must not keep it).

Contacts (PowerSchool's Contacts API, the shape ``passport_pipelines/delivery/writeback/client.py`` documents):
``POST /ws/contacts/contact`` creates a contact (names, ``contactNumber``, ``emails``, ``phones`` and at
least one ``contactStudents`` item naming an existing student's ``dcid``); ``PUT
/ws/contacts/contact/{contactId}`` updates the keys it is given (a primary ``emails`` item replaces the
primary address, a ``phones`` item the first phone of its kind). Refused with 400 ``{"message",
"errors": [{"field", "message"}]}`` for a blank name, a key PowerSchool does not take (an account,
a password), or a student that does not exist; 404 for an unknown contact.
"""

from __future__ import annotations

import threading
from typing import Any

from tests.fakes.http_fake import FakeRequest, FakeResponse
from tests.fakes.powerschool_district import PowerSchoolDistrict

STUDENT_UPDATABLE = {"name", "contact_info", "demographics", "addresses", "phones", "contact"}
STUDENT_INSERTABLE = STUDENT_UPDATABLE | {"school_enrollment", "local_id", "state_province_id"}
ENVELOPE_KEYS = {"client_uid", "action", "id"}
INSERT_REQUIRED = ("name.first_name", "name.last_name", "school_enrollment.grade_level", "school_enrollment.entry_date",
                   "school_enrollment.exit_date", "school_enrollment.school_number")
CONTACT_WRITABLE = {"firstName", "middleName", "lastName", "contactNumber", "emails", "phones", "contactStudents"}


def _one_or_many(value: Any) -> list:
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def _get(record: dict, path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _blank(value: Any) -> bool:
    return value is None or not str(value).strip()


class PowerSchoolWrites:
    def __init__(self, district: PowerSchoolDistrict, base_url):
        self.district = district
        self._base_url = base_url  # () -> the server's URL, for success refs
        self.refusals: dict[int, int] = {}  # student DCID -> UPDATEs still to refuse ("record locked")
        self.applied: list[tuple[str, str, int]] = []  # (student|contact, INSERT|UPDATE, id), in order
        self._lock = threading.Lock()

    def refuse(self, dcid: int, times: int = 1) -> None:
        """The next ``times`` UPDATEs of this student are refused, as when another user has it locked."""
        self.refusals[dcid] = times

    # ------------------------------------------------------------------ students
    def students(self, req: FakeRequest) -> FakeResponse:
        try:
            records = _one_or_many(req.json()["students"]["student"])
        except (ValueError, KeyError, TypeError):
            return FakeResponse(400, {"message": "expected {\"students\": {\"student\": [...]}}"})
        results, counts = [], {"INSERT": 0, "UPDATE": 0}
        with self._lock:
            for record in records:
                if not isinstance(record, dict):
                    return FakeResponse(400, {"message": "a student record is not an object"})
                action = str(record.get("action", "")).upper()
                errors = self._student_errors(record, action)
                uid = record.get("client_uid")
                if errors:
                    results.append({"client_uid": uid, "status": "ERROR", "action": action,
                                    "error_message": {"error": errors[0] if len(errors) == 1 else errors}})
                    continue
                dcid = self._insert(record) if action == "INSERT" else self._update(record)
                counts[action] += 1
                self.applied.append(("student", action, dcid))
                results.append({"client_uid": uid, "status": "SUCCESS", "action": action,
                                "success_message": {"id": dcid, "ref": f"{self._base_url()}/ws/v1/student/{dcid}"}})
        return FakeResponse(200, {"results": {"insert_count": counts["INSERT"], "update_count": counts["UPDATE"],
                                              "delete_count": 0,
                                              "result": results[0] if len(results) == 1 else results}})

    def _student_errors(self, record: dict, action: str) -> list[dict]:
        d = self.district
        errors = []

        def error(field: str, code: str, description: str) -> None:
            errors.append({"field": field, "error_code": code, "error_description": description})

        if "client_uid" not in record:
            error("client_uid", "REQUIRED", "client_uid is required")
        if action not in ("INSERT", "UPDATE"):
            error("action", "INVALID", f"action '{record.get('action')}' is not supported")
            return errors
        allowed = STUDENT_INSERTABLE if action == "INSERT" else STUDENT_UPDATABLE
        for key in sorted(set(record) - ENVELOPE_KEYS - allowed):
            if key == "student_username":
                error(key, "READ_ONLY", f"student_username is not writable (got '{record[key]}')")
            elif key == "school_enrollment":
                error(key, "INSERT_ONLY", "school_enrollment can only be set when the student is inserted")
            else:
                error(key, "NOT_WRITABLE", f"{key} cannot be written")
        for field in ("name.first_name", "name.last_name"):
            present = isinstance(record.get("name"), dict) and field.split(".")[1] in record["name"]
            if (action == "INSERT" or present) and _blank(_get(record, field)):
                error(field, "REQUIRED", f"{field} cannot be blank")
        gender = _get(record, "demographics.gender")
        if isinstance(record.get("demographics"), dict) and "gender" in record["demographics"] \
                and gender not in ("M", "F"):
            error("demographics.gender", "INVALID", f"Invalid gender '{gender}': expected M or F")
        if action == "INSERT":
            for field in INSERT_REQUIRED[2:]:
                if _blank(_get(record, field)):
                    error(field, "REQUIRED", f"{field} is required to insert a student")
            number = _get(record, "school_enrollment.school_number")
            if not _blank(number) and self._school_of_number(number) is None:
                error("school_enrollment.school_number", "INVALID", f"no school with number {number}")
            local = record.get("local_id")
            if local is not None and any(str(s.get("local_id")) == str(local) for s in d.students.values()):
                error("local_id", "DUPLICATE", f"a student with local_id {local} already exists")
        else:
            try:
                dcid = int(record.get("id"))
            except (TypeError, ValueError):
                dcid = None
            if dcid is None or dcid not in d.student_ids:
                error("id", "NOT_FOUND", f"student {record.get('id')} not found")
            elif self.refusals.get(dcid, 0) > 0:
                self.refusals[dcid] -= 1
                error("id", "LOCKED", f"student {dcid} is locked by another user; try again later")
        return errors

    def _school_of_number(self, number: Any) -> int | None:
        for school in self.district.schools:
            if str(school["school_number"]) == str(number):
                return school["id"]
        return None

    def _insert(self, record: dict) -> int:
        d = self.district
        dcid = max(d.students, default=0) + 1
        enrollment = record["school_enrollment"]
        school = self._school_of_number(enrollment["school_number"])
        student = {"id": dcid, **({"local_id": record["local_id"]} if "local_id" in record else {}),
                   **({"state_province_id": record["state_province_id"]} if "state_province_id" in record else {}),
                   "name": dict(record["name"]),
                   "school_enrollment": {"enroll_status": "A", "enroll_status_code": 0,
                                         "enroll_status_description": "Active",
                                         "grade_level": int(enrollment["grade_level"]),
                                         "entry_date": enrollment["entry_date"], "exit_date": enrollment["exit_date"],
                                         "school_number": int(enrollment["school_number"]), "school_id": school},
                   "demographics": dict(record.get("demographics") or {}),
                   "contact_info": dict(record.get("contact_info") or {})}
        d.students[dcid] = student
        d.student_ids.add(dcid)
        d.extensions[dcid] = {}
        d.by_school["student"].setdefault(school, []).append(student)
        return dcid

    def _update(self, record: dict) -> int:
        student = self.district.students[int(record["id"])]
        for key in STUDENT_UPDATABLE & set(record):
            value = record[key]
            if isinstance(value, dict):
                student.setdefault(key, {}).update(value)
            else:
                student[key] = value
        return student["id"]

    # ------------------------------------------------------------------ contacts
    def create_contact(self, req: FakeRequest) -> FakeResponse:
        body, refused = self._contact_body(req, creating=True)
        if refused:
            return refused
        d = self.district
        with self._lock:
            cid = max(d.contacts, default=0) + 1
            contact = {"contactId": cid, "firstName": body["firstName"], "lastName": body["lastName"],
                       **({"middleName": body["middleName"]} if body.get("middleName") else {}),
                       **({"contactNumber": body["contactNumber"]} if body.get("contactNumber") else {}),
                       "active": True, "emails": [], "phones": [], "contactStudents": []}
            self._apply_channels(contact, body)
            for n, link in enumerate(body["contactStudents"], 1):
                dcid = int(link["dcid"])
                details = [{"studentContactDetailId": cid * 10 + n, "relationship": x.get("relationship"),
                            "active": bool(x.get("active", True)), "deleted": False}
                           for x in _one_or_many(link.get("studentDetails"))]
                contact["contactStudents"].append({"studentContactId": cid * 10 + n, "sequence": n, "dcid": dcid,
                                                   "deleted": False, "studentDetails": details})
                d.contacts_of_student.setdefault(dcid, []).append(cid)
            d.contacts[cid] = contact
            self.applied.append(("contact", "INSERT", cid))
        return FakeResponse(200, contact)

    def update_contact(self, req: FakeRequest, cid: int) -> FakeResponse:
        d = self.district
        if cid not in d.contacts:
            return FakeResponse(404, {"message": f"Contact {cid} not found", "errors": []})
        body, refused = self._contact_body(req, creating=False)
        if refused:
            return refused
        with self._lock:
            contact = d.contacts[cid]
            for key in ("firstName", "middleName", "lastName", "contactNumber"):
                if key in body:
                    contact[key] = body[key]
            self._apply_channels(contact, body)
            self.applied.append(("contact", "UPDATE", cid))
        return FakeResponse(200, contact)

    def _contact_body(self, req: FakeRequest, *, creating: bool) -> tuple[dict, FakeResponse | None]:
        try:
            body = req.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return {}, FakeResponse(400, {"message": "the body is not a contact object", "errors": []})
        errors = [{"field": k, "message": f"{k} cannot be written"} for k in sorted(set(body) - CONTACT_WRITABLE)]
        if not creating and "contactStudents" in body:
            errors.append({"field": "contactStudents", "message": "students are linked when the contact is created"})
        for key in ("firstName", "lastName"):
            if (creating or key in body) and _blank(body.get(key)):
                errors.append({"field": key, "message": f"{key} cannot be blank (got '{body.get(key)}')"})
        if creating:
            links = _one_or_many(body.get("contactStudents"))
            if not links:
                errors.append({"field": "contactStudents", "message": "a contact needs at least one student"})
            for link in links:
                try:
                    dcid = int(link.get("dcid"))
                except (AttributeError, TypeError, ValueError):
                    dcid = None
                if dcid not in self.district.student_ids:
                    errors.append({"field": "contactStudents.dcid", "message": f"student {dcid} not found"})
        if errors:
            return body, FakeResponse(400, {"message": "Validation failed", "errors": errors})
        return body, None

    @staticmethod
    def _apply_channels(contact: dict, body: dict) -> None:
        cid = contact["contactId"]
        for email in _one_or_many(body.get("emails")):
            primary = next((e for e in contact["emails"] if e.get("primary") and not e.get("deleted")), None)
            if email.get("primary") and primary is not None:
                primary["address"] = email.get("address")
            else:
                contact["emails"].append({"contactEmailId": cid * 100 + len(contact["emails"]) + 1,
                                          "primary": bool(email.get("primary")), "type": email.get("type", "Home"),
                                          "address": email.get("address"), "deleted": False})
        for phone in _one_or_many(body.get("phones")):
            sms = bool(phone.get("sms"))
            same = next((p for p in contact["phones"] if bool(p.get("sms")) == sms and not p.get("deleted")), None)
            if same is not None:
                same["phoneNumber"] = phone.get("phoneNumber")
            else:
                contact["phones"].append({"contactsPhoneId": cid * 100 + len(contact["phones"]) + 1,
                                          "sequence": len(contact["phones"]) + 1, "preferred": False,
                                          "phoneType": phone.get("phoneType", "Mobile" if sms else "Home"),
                                          "phoneNumber": phone.get("phoneNumber"), "sms": sms, "deleted": False})
