"""Writing to PowerSchool: the plugin's OAuth client (the reader's ``PowerSchoolClient`` and transport)
and the write endpoints.

Students — ``POST /ws/v1/student``, up to ``BATCH_SIZE`` records a request::

    {"students": {"student": [{"client_uid": "1", "action": "UPDATE", "id": 442, "contact_info": {...}},
                              {"client_uid": "2", "action": "INSERT", "name": {...}, "school_enrollment": {...}}]}}

answered with one result per record, matched back by ``client_uid`` (a single result may come as
an object, as PowerSchool's XML heritage has it)::

    {"results": {"insert_count": 1, "update_count": 1, "delete_count": 0,
                 "result": [{"client_uid": "1", "status": "SUCCESS", "action": "UPDATE",
                             "success_message": {"id": 442, "ref": "https://.../ws/v1/student/442"}},
                            {"client_uid": "2", "status": "ERROR", "action": "INSERT",
                             "error_message": {"error": [{"field": "school_enrollment.grade_level",
                                                          "error_code": "REQUIRED", "error_description": "..."}]}}]}}

Contacts — PowerSchool's Contacts API, one contact a request:

- ``POST /ws/contacts/contact`` creates a contact: ``firstName``, ``middleName``, ``lastName``,
  ``contactNumber``, ``emails: [{"address", "primary": true, "type"}]``, ``phones: [{"phoneNumber",
  "sms", "phoneType"}]`` and ``contactStudents: [{"dcid", "studentDetails": [{"relationship",
  "active"}]}]`` (its students); answered with the contact, ``contactId`` included;
- ``PUT /ws/contacts/contact/{contactId}`` updates the keys it is given: names and contact number;
  an ``emails`` item with ``primary: true`` replaces the primary address; a ``phones`` item replaces
  the first phone of its kind (SMS or not). Answered with the contact;
- a refused contact is ``400`` (or ``404`` for an unknown id) with ``{"message", "errors": [{"field",
  "message"}]}``: recorded as that record's failure.

Anything else — no answer, 5xx after the retries, a refused token, a response that is not the
documented one — is PowerSchool failing as a whole: a ``ConnectorError`` for the write-back to stop on.
"""

from __future__ import annotations

from typing import Any

from passport_pipelines.delivery.writeback.messages import error_text
from passport_pipelines.delivery.writeback.records import RecordResult
from passport_pipelines.delivery.writeback.rules import check_contact_request, check_student_request
from passport_pipelines.sources.base import plain_or_secret, secret
from passport_pipelines.sources.errors import ConnectorError
from passport_pipelines.sources.http.transport import where
from passport_pipelines.sources.powerschool import envelopes
from passport_pipelines.sources.powerschool.client import Collection, PowerSchoolClient
from passport_pipelines.sources.powerschool.extraction import page_size
from passport_pipelines.sources.xml_envelopes import as_list

STUDENT_PATH = "/ws/v1/student"
CONTACT_PATH = "/ws/contacts/contact"
BATCH_SIZE = 100
_JSON = {"Accept": "application/json", "Content-Type": "application/json"}
_REFUSED = frozenset({400, 404, 409, 422})


class WritebackClient:
    """Writes through one PowerSchool source's plugin client; close it when done."""

    def __init__(self, client: PowerSchoolClient, school_ids: list[int] | None = None):
        self.client = client
        self.school_ids = set(school_ids or [])
        self.requests = 0

    @classmethod
    def open(cls, connector: Any, source: Any) -> "WritebackClient":
        """From the PowerSchool connector resource (its transport and retry policy) and the source's
        connection settings (``env:VAR`` secrets resolved here, never logged)."""
        client_id = plain_or_secret(source, "client_id") or ""
        client = PowerSchoolClient(connector.transport(source), source.base_url, client_id,
                                   secret(source, "client_secret") or "", source.max_concurrency)
        return cls(client, source.school_ids)

    def close(self) -> None:
        self.client.transport.close()

    @property
    def base_url(self) -> str:
        return self.client.base_url

    def schools(self) -> dict[str, int]:
        """School identifier (PowerSchool's ``state_province_id``) -> school number, of the schools the
        source reads (``school_ids`` when configured)."""
        metadata = envelopes.single(self.client.get("/ws/v1/metadata"), "metadata",
                                    where(self.base_url + "/ws/v1/metadata"))
        listing = Collection("/ws/v1/district/school", "schools", "school",
                             page_size(metadata, "school_max_page_size", None))
        self.client.read_collections([listing])
        out = {}
        for school in listing.records:
            if self.school_ids and int(school.get("id", -1)) not in self.school_ids:
                continue
            identifier, number = school.get("state_province_id"), school.get("school_number")
            if identifier not in (None, "") and number not in (None, ""):
                out[str(identifier)] = int(number)
        return out

    def _send(self, method: str, path: str, body: dict, refused: frozenset[int] = frozenset()):
        self.requests += 1
        return self.client.transport.send(method, self.base_url + path, auth=self.client.token, json=body,
                                          headers=_JSON, ok_statuses=refused)

    def post_students(self, records: list[dict]) -> dict[str, RecordResult]:
        """One ``POST /ws/v1/student`` of ``records`` (each with its ``client_uid``); the result of each,
        by client_uid. A record PowerSchool does not answer for is a failure of that record."""
        for record in records:
            check_student_request(record)
        url = where(self.base_url + STUDENT_PATH)
        response = self._send("POST", STUDENT_PATH, {"students": {"student": records}})
        try:
            body = response.json()
            results = as_list(body["results"].get("result"))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ConnectorError("bad_response", url, "no results in the write response") from None
        out: dict[str, RecordResult] = {}
        for result in results:
            if not isinstance(result, dict) or "client_uid" not in result:
                raise ConnectorError("bad_response", url, "a write result without client_uid")
            uid = str(result["client_uid"])
            if str(result.get("status", "")).upper() == "SUCCESS":
                created = (result.get("success_message") or {}).get("id")
                out[uid] = RecordResult(True, None if created is None else str(created))
            else:
                errors = as_list((result.get("error_message") or {}).get("error"))
                out[uid] = RecordResult(False, message=error_text(errors))
        for record in records:
            out.setdefault(str(record["client_uid"]),
                           RecordResult(False, message="PowerSchool returned no result for the record"))
        return out

    def create_contact(self, body: dict) -> RecordResult:
        check_contact_request(body)
        response = self._send("POST", CONTACT_PATH, body, _REFUSED)
        return self._contact_result(response, CONTACT_PATH)

    def update_contact(self, contact_id: str, body: dict) -> RecordResult:
        check_contact_request(body)
        path = f"{CONTACT_PATH}/{int(contact_id)}"
        response = self._send("PUT", path, body, _REFUSED)
        if response.status_code == 404:
            return RecordResult(False, contact_id, "the contact is not in PowerSchool (404)")
        result = self._contact_result(response, path)
        return RecordResult(result.ok, result.powerschool_id or contact_id, result.message)

    def _contact_result(self, response, path: str) -> RecordResult:
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code in _REFUSED:
            errors = as_list(body.get("errors")) if isinstance(body, dict) else []
            if not errors and isinstance(body, dict) and body.get("message"):
                errors = [{"message": body["message"]}]
            return RecordResult(False, message=f"HTTP {response.status_code}: {error_text(errors)}")
        if not isinstance(body, dict) or not str(body.get("contactId", "")).isdigit():
            raise ConnectorError("bad_response", where(self.base_url + path), "no contactId in the contact response")
        return RecordResult(True, str(body["contactId"]))
