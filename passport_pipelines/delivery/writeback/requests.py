"""The JSON of one record, as PowerSchool's write endpoints take it (see ``client``), built from the
record's allowed changes (``field -> value``, ``fields``' names).

Two things are only known when sending, and can keep a record from being sent (``NotSendable``):
the PowerSchool school number of a new student's school (from the district's school list, by the
school's identifier), and the PowerSchool ids of a new contact's students (some may have been
created moments before, in the same write-back).
"""

from __future__ import annotations

from passport_pipelines.delivery.writeback.fields import INTEGER_FIELDS, UPDATE


class NotSendable(Exception):
    """The record cannot be sent as it is, and is not: ``rule`` names why; ``status`` is how it is
    recorded (``skipped``, or ``failed`` for what a later write-back can send once it is resolved)."""

    def __init__(self, rule: str, message: str, status: str = "skipped"):
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.status = status


def _number_or_text(value: str):
    return int(value) if value.isdigit() else value


def student_record(client_uid: str, action: str, powerschool_id: str | None, changes: dict[str, str],
                   schools: dict[str, int]) -> dict:
    """One ``students.student`` item. ``schools``: school identifier -> PowerSchool school number."""
    record: dict = {"client_uid": client_uid, "action": action}
    if action == UPDATE:
        record["id"] = int(powerschool_id)  # type: ignore[arg-type]
    for field, value in sorted(changes.items()):
        if field == "school_enrollment.school_number":
            number = schools.get(value)
            if number is None:
                raise NotSendable("school_not_in_powerschool",
                                  "the student's school is not one of the PowerSchool source's schools "
                                  "(matched by the school's identifier, PowerSchool's state_province_id)")
            value = number
        elif field in INTEGER_FIELDS:
            value = int(value)
        elif field == "local_id":
            value = _number_or_text(value)
        target = record
        *parents, leaf = field.split(".")
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = value
    return record


def contact_body(action: str, changes: dict[str, str], students: list[tuple[str, str]] | None = None) -> dict:
    """A contact for ``POST /ws/contacts/contact`` (``students``: its students' DCIDs and relationship
    codes) or ``PUT /ws/contacts/contact/{id}`` (only the keys that change)."""
    body: dict = {}
    for key in ("firstName", "middleName", "lastName", "contactNumber"):
        if key in changes:
            body[key] = changes[key]
    if "email" in changes:
        body["emails"] = [{"address": changes["email"], "primary": True, "type": "Home"}]
    phones = []
    if "sms" in changes:
        phones.append({"phoneNumber": changes["sms"], "sms": True, "phoneType": "Mobile"})
    if "phone" in changes:
        phones.append({"phoneNumber": changes["phone"], "sms": False, "phoneType": "Home"})
    if phones:
        body["phones"] = phones
    if action != UPDATE:
        if not students:
            raise NotSendable("contact_needs_student",
                              "none of the contact's students is in PowerSchool yet (a new student's insert "
                              "failed or is pending): retried with them", status="failed")
        body["contactStudents"] = [{"dcid": int(dcid), "studentDetails": [{"relationship": code, "active": True}]}
                                   for dcid, code in students]
    return body
