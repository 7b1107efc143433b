"""Two-way sync with PowerSchool: the write-back plan, PowerSchool's rules enforced before sending (and
by the fake PowerSchool, which refuses what the real one refuses), per-record results, retries, and a
PowerSchool outage that fails the write-back without losing anything."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import httpx
import pyarrow as pa
import pytest

from passport_pipelines.config.loader import load_district
from passport_pipelines.delivery.writeback import report
from passport_pipelines.delivery.writeback.attempts import CHANGED_SCHEMA, INSERTED_SCHEMA, PRIOR_SCHEMA, decide
from passport_pipelines.delivery.writeback.client import WritebackClient
from passport_pipelines.delivery.writeback.messages import scrub
from passport_pipelines.delivery.writeback.plan import CHANGE_SCHEMA, LINK_SCHEMA
from passport_pipelines.delivery.writeback.requests import NotSendable, contact_body, student_record
from passport_pipelines.delivery.writeback.results import WritebackResults
from passport_pipelines.delivery.writeback.rules import (
    ForbiddenChange,
    check_contact_request,
    check_student_request,
    guard,
)
from passport_pipelines.delivery.writeback.run import write_back
from passport_pipelines.sources.base import SourceConnector
from passport_pipelines.sources.http.transport import RetryPolicy
from passport_pipelines.sources.powerschool.connector import PowerSchoolConnector
from passport_pipelines.store.golden_store import GoldenStore
from tests.conftest import write_integration
from tests.district_files import read_rows, write_rows
from tests.fakes.district_data import make_district_data
from tests.fakes.powerschool_server import powerschool_source_config, start_powerschool_fake
from tests.sync_harness import run_sync as run_partition

YEAR = "2025-2026"
DISTRICT = "lakeside"
NEW_STUDENT = {"sourcedId": "stu-new-1", "identifier": "1999999", "givenName": "Noor", "familyName": "Haddad",
               "email": "noor.haddad@students.example.org", "username": "nhaddad", "grades": "05",
               "userIds": "{state:CA7000000001}"}
NEW_GUARDIAN = {"sourcedId": "gdn-new-1", "identifier": "P99999999", "givenName": "Rania", "familyName": "Haddad",
                "username": "rania.haddad@example.com",
                "email": "rania.haddad@example.com", "sms": "+14085550101", "role": "parent"}


# ---------------------------------------------------------------------------------------------- the guard

def _changes(rows: list[tuple]) -> pa.Table:
    """(entity, golden_id, powerschool_id, action, field, value) rows as a plan's change table."""
    keyed = [{"record_key": f"{e}:{g}:{a}:{p or 'new'}", "entity": e, "golden_id": g, "powerschool_id": p,
              "action": a, "field": f, "value": v} for e, g, p, a, f, v in rows]
    return pa.Table.from_pylist(keyed, schema=CHANGE_SCHEMA)


def _complete_insert(golden_id: str, **values) -> list[tuple]:
    fields = {"name.first_name": "Ada", "name.last_name": "Okafor", "school_enrollment.grade_level": "3",
              "school_enrollment.entry_date": "2025-08-18", "school_enrollment.exit_date": "2026-06-13",
              "school_enrollment.school_number": "0612345001", **values}
    return [("student", golden_id, None, "INSERT", f, v) for f, v in fields.items() if v is not None]


def test_the_guard_keeps_every_forbidden_change_out_and_names_its_rule():
    changes = _changes([
        ("student", "G1", "11", "UPDATE", "contact_info.email", "ada@example.org"),
        ("student", "G1", "11", "UPDATE", "student_username", "ada.o"),
        ("student", "G1", "11", "UPDATE", "school_enrollment.grade_level", "4"),
        ("student", "G1", "11", "UPDATE", "school_enrollment.school_number", "0612345002"),
        ("student", "G2", "12", "UPDATE", "name.first_name", "  "),
        ("student", "G2", "12", "UPDATE", "name.last_name", None),
        ("student", "G3", "13", "UPDATE", "demographics.gender", "other"),
        ("student", "G3", "13", "UPDATE", "demographics.birth_date", "2016-01-02"),
        ("student", "G3", "13", "UPDATE", "web_password", "hunter2"),
        *_complete_insert("G4", student_username="noor"),
        *_complete_insert("G5", **{"name.last_name": None, "school_enrollment.school_number": None}),
        ("contact", "C1", None, "INSERT", "firstName", "Rania"),
        ("contact", "C1", None, "INSERT", "lastName", "Haddad"),
        ("contact", "C2", None, "INSERT", "firstName", "Sam"),
        ("contact", "C2", None, "INSERT", "lastName", "Lee"),
        ("contact", "C3", "7", "UPDATE", "lastName", ""),
        ("contact", "C3", "7", "UPDATE", "email", "c3@example.org"),
    ])
    links = pa.Table.from_pylist([{"golden_id": "C2", "student_golden_id": "G1", "student_powerschool_id": "11",
                                   "relationship": "Parent"}], schema=LINK_SCHEMA)
    out = guard(changes, links)
    allowed = {(r["golden_id"], r["field"]) for r in out.allowed.to_pylist()}
    skipped = {(r["record_key"].split(":")[1], r["field"]): r["rule"] for r in out.skipped.to_pylist()}
    blocked = {r["record_key"].split(":")[1]: (r["rule"], r["fields"]) for r in out.blocked.to_pylist()}

    assert skipped == {
        ("G1", "student_username"): "student_username_not_writable",
        ("G1", "school_enrollment.grade_level"): "school_enrollment_insert_only",
        ("G1", "school_enrollment.school_number"): "school_enrollment_insert_only",
        ("G2", "name.first_name"): "names_never_blank",
        ("G2", "name.last_name"): "names_never_blank",
        ("G3", "demographics.gender"): "gender_m_or_f",
        ("G3", "web_password"): "password_never_written",
        ("G4", "student_username"): "student_username_not_writable",
        ("C3", "lastName"): "names_never_blank",
    }
    assert blocked == {"G5": ("insert_required_fields", "name.last_name,school_enrollment.school_number"),
                       "C1": ("contact_needs_student", None)}
    # What is left may be sent: the allowed UPDATE fields, and the whole of a complete INSERT.
    assert ("G1", "contact_info.email") in allowed and ("G3", "demographics.birth_date") in allowed
    assert ("C3", "email") in allowed and ("C2", "firstName") in allowed
    assert {f for g, f in allowed if g == "G4"} == {
        "name.first_name", "name.last_name", "school_enrollment.grade_level", "school_enrollment.entry_date",
        "school_enrollment.exit_date", "school_enrollment.school_number"}
    assert not {g for g, _ in allowed} & {"G2", "G5", "C1"}
    forbidden = {("G1", "student_username"), ("G1", "school_enrollment.grade_level"), ("G4", "student_username"),
                 ("G3", "web_password"), ("G3", "demographics.gender")}
    assert not allowed & forbidden


def test_a_request_holding_a_forbidden_field_is_never_sent():
    ok = {"client_uid": "1", "action": "UPDATE", "id": 4, "name": {"first_name": "Ada"},
          "demographics": {"gender": "F"}}
    check_student_request(ok)
    check_student_request({"client_uid": "2", "action": "INSERT", "name": {"first_name": "A", "last_name": "B"},
                           "school_enrollment": {"grade_level": 3}})
    for bad in ({**ok, "student_username": "ada"}, {**ok, "school_enrollment": {"grade_level": 4}},
                {**ok, "name": {"last_name": " "}}, {**ok, "demographics": {"gender": "X"}},
                {**ok, "contact": {"web_password": "x"}}):
        with pytest.raises(ForbiddenChange):
            check_student_request(bad)
    check_contact_request({"lastName": "Lee", "emails": [{"address": "x@example.org", "primary": True}]})
    for bad in ({"lastName": ""}, {"firstName": "A", "contactAccount": {"userName": "a"}}):
        with pytest.raises(ForbiddenChange):
            check_contact_request(bad)


def test_requests_are_built_as_powerschool_takes_them():
    record = student_record("7", "INSERT", None, {
        "name.first_name": "Noor", "name.last_name": "Haddad", "local_id": "1999999",
        "school_enrollment.grade_level": "5", "school_enrollment.school_number": "0612345001",
        "school_enrollment.entry_date": "2025-08-18", "demographics.gender": "F"}, {"0612345001": 100})
    assert record == {"client_uid": "7", "action": "INSERT", "local_id": 1999999, "demographics": {"gender": "F"},
                      "name": {"first_name": "Noor", "last_name": "Haddad"},
                      "school_enrollment": {"grade_level": 5, "school_number": 100, "entry_date": "2025-08-18"}}
    with pytest.raises(NotSendable) as refused:
        student_record("8", "INSERT", None, {"school_enrollment.school_number": "elsewhere"}, {"0612345001": 100})
    assert refused.value.rule == "school_not_in_powerschool" and refused.value.status == "skipped"
    update = student_record("9", "UPDATE", "42", {"contact_info.email": "x@example.org"}, {})
    assert update == {"client_uid": "9", "action": "UPDATE", "id": 42, "contact_info": {"email": "x@example.org"}}
    body = contact_body("INSERT", {"firstName": "Rania", "lastName": "Haddad", "email": "r@example.com",
                                   "sms": "+1408"}, [("12", "Parent")])
    assert body["emails"] == [{"address": "r@example.com", "primary": True, "type": "Home"}]
    assert body["phones"] == [{"phoneNumber": "+1408", "sms": True, "phoneType": "Mobile"}]
    assert body["contactStudents"] == [{"dcid": 12, "studentDetails": [{"relationship": "Parent", "active": True}]}]
    with pytest.raises(NotSendable) as orphan:
        contact_body("INSERT", {"firstName": "A", "lastName": "B"}, [])
    assert orphan.value.status == "failed"  # its student may still come: retried, not given up
    assert "contactStudents" not in contact_body("UPDATE", {"lastName": "Lee"})


def test_powerschool_messages_are_kept_without_values():
    text = scrub("Invalid gender 'X' for ada@example.org born 2016-01-02, phone +1 (408) 555-0101, student 42")
    assert "X'" not in text and "ada@" not in text and "2016" not in text and "555" not in text and "42" not in text
    assert text.startswith("Invalid gender")


def _decide(plan_rows, prior_rows=(), inserted_rows=(), changed_rows=(), *, version_id=5, max_attempts=3):
    changes = _changes(plan_rows)
    return {r["record_key"]: r for r in decide(
        changes, guard(changes), pa.Table.from_pylist(list(prior_rows), schema=PRIOR_SCHEMA),
        pa.Table.from_pylist(list(inserted_rows), schema=INSERTED_SCHEMA),
        pa.Table.from_pylist(list(changed_rows), schema=CHANGED_SCHEMA),
        version_id=version_id, max_attempts=max_attempts).to_pylist()}


def _prior(key, golden, version, status, attempts, powerschool_id=None):
    return {"record_key": key, "golden_id": golden, "version_id": version, "status": status, "attempts": attempts,
            "message": "student … is locked", "powerschool_id": powerschool_id}


def test_failed_records_are_retried_up_to_the_limit_and_again_once_their_golden_record_changes():
    plan = [("student", g, p, "UPDATE", "contact_info.email", "x@example.org")
            for g, p in (("G1", "1"), ("G2", "2"), ("G3", "3"), ("G4", "4"), ("G5", "5"))]
    plan += _complete_insert("G6")
    plan += [("student", "G7", "7", "UPDATE", "student_username", "u")]
    decided = _decide(plan, prior_rows=[
        _prior("student:G1:UPDATE:1", "G1", 4, "failed", 1),   # failed once: retried, third attempt next
        _prior("student:G2:UPDATE:2", "G2", 4, "failed", 3),   # failed three times, unchanged: given up
        _prior("student:G3:UPDATE:3", "G3", 2, "failed", 3),   # failed three times, then changed: retried afresh
        _prior("student:G4:UPDATE:4", "G4", 5, "sent", 1),     # sent by this version's earlier run: kept
        _prior("student:G5:UPDATE:5", "G5", 4, "sent", 1),     # sent by an earlier version, planned again: sent
    ], inserted_rows=[{"record_key": "student:G6:INSERT:new", "version_id": 3, "powerschool_id": "77"}],
        changed_rows=[{"golden_id": "G3", "changed_in": 4}, {"golden_id": "G2", "changed_in": 2}])
    assert {k.split(":")[1]: (d["decision"], d["attempts"]) for k, d in decided.items()} == {
        "G1": ("send", 1), "G2": ("give_up", 3), "G3": ("send", 0), "G4": ("keep", 0), "G5": ("send", 0),
        "G6": ("inserted", 0), "G7": ("skip", 0)}
    assert decided["student:G6:INSERT:new"]["prior_powerschool_id"] == "77"
    assert decided["student:G7:UPDATE:7"]["skipped"] == [("student_username", "student_username_not_writable")]


def test_nothing_is_written_back_after_a_destinations_until_date(tmp_path):
    from datetime import datetime, timezone

    from passport_pipelines.assets.sis_writeback import writeback_destinations
    from passport_pipelines.config.loader import load_integration

    source = {"name": "ps", "type": "powerschool", "base_url": "https://ps.example.org", "client_id": "id",
              "client_secret": "env:PS_SECRET"}
    (tmp_path / "integrations").mkdir()
    integration = load_integration(write_integration(
        tmp_path / "integrations", DISTRICT, [source], sync_mode="two_way", schedule={"timezone": "America/Chicago"},
        destinations=[{"name": "old", "type": "powerschool-writeback", "source": "ps", "until": "2026-06-30"},
                      {"name": "open", "type": "powerschool-writeback", "source": "ps"}]))
    # 2026-07-01 03:00 UTC is still June 30 in Chicago: both are due.
    due, not_run = writeback_destinations(integration, datetime(2026, 7, 1, 3, tzinfo=timezone.utc))
    assert [d.name for d in due] == ["old", "open"] and not_run == {}
    due, not_run = writeback_destinations(integration, datetime(2026, 7, 1, 12, tzinfo=timezone.utc))
    assert [d.name for d in due] == ["open"] and list(not_run) == ["old"]


# ----------------------------------------------------------------------------------------- the results store

def _user_changes(ids: list[str], change: str, given: str) -> pa.Table:
    from passport_pipelines.model import entities

    values = {"source": "sis", "district": DISTRICT, "school_year": YEAR, "status": "active", "enabled_user": True,
              "role": "student", "given_name": given, "family_name": "Lovelace", "content_hash": given.ljust(32, "0")}
    bools = set(entities.boolean_columns("users"))
    cols = {c: pa.array(ids) if c == "sourced_id" else
            pa.array([values.get(c)] * len(ids), pa.bool_() if c in bools else pa.string())
            for c in entities.columns("users")}
    return pa.table({**cols, "golden_id": pa.array([f"g-{i}" for i in ids]), "change": pa.array([change] * len(ids)),
                     "changed_fields": pa.array(["given_name" if change == "updated" else None] * len(ids),
                                                pa.string())})


def test_results_are_kept_per_version_and_record_on_both_databases(store_url):
    from datetime import datetime, timezone

    from passport_pipelines.model.change_set import ChangeSet, EntityChanges
    from passport_pipelines.store.golden_store import CommitInfo

    def commit(base, ids, change, given):
        deletes = pa.table({c: pa.array([], pa.string()) for c in ("source", "sourced_id", "golden_id", "reason")})
        return store.commit(ChangeSet({"users": EntityChanges(_user_changes(ids, change, given), deletes)}),
                            CommitInfo(DISTRICT, YEAR, "r", "full", "test", datetime.now(timezone.utc), base, {}, {},
                                       None))

    store = GoldenStore(store_url)
    results = WritebackResults(store)
    v1 = commit(None, ["u1", "u2"], "added", "Ada")
    row = {"record_key": "student:g-u1:UPDATE:11", "entity": "student", "golden_id": "g-u1", "powerschool_id": "11",
           "action": "UPDATE", "status": "failed", "fields": ["contact_info.email"], "skipped": {}, "rule": None,
           "message": "not sent yet", "attempts": 0}
    new = {**row, "record_key": "student:g-u2:INSERT:new", "golden_id": "g-u2", "powerschool_id": None,
           "action": "INSERT"}
    results.replace(v1.id, DISTRICT, YEAR, "sis", [row, new])
    results.update(v1.id, "sis", [{**row, "message": "student … is locked", "attempts": 1},
                                  {**new, "status": "sent", "powerschool_id": "77", "message": None, "attempts": 1}])
    prior = {r["record_key"]: r for r in results.prior(DISTRICT, YEAR, "sis", v1.id).to_pylist()}
    assert (prior[row["record_key"]]["status"], prior[row["record_key"]]["attempts"]) == ("failed", 1)
    assert results.inserted(DISTRICT, YEAR, "sis").to_pylist() == [
        {"record_key": new["record_key"], "version_id": v1.id, "powerschool_id": "77"}]
    # A retry of the same version replaces its rows; a later version adds its own, and is the latest.
    results.replace(v1.id, DISTRICT, YEAR, "sis", [{**row, "status": "sent", "attempts": 2, "message": None}])
    assert [(r["record_key"], r["status"]) for r in results.for_version(v1.id)] == [(row["record_key"], "sent")]
    v2 = commit(v1.id, ["u1"], "updated", "Adah")
    results.replace(v2.id, DISTRICT, YEAR, "sis", [{**row, "attempts": 3}])
    assert results.prior(DISTRICT, YEAR, "sis", v2.id).column("version_id").to_pylist() == [v2.id]
    assert results.prior(DISTRICT, YEAR, "sis", v1.id).column("status").to_pylist() == ["sent"]
    changed = results.last_changes(DISTRICT, YEAR, ["g-u1", "g-u2"], v1.id).to_pylist()
    assert changed == [{"golden_id": "g-u1", "changed_in": v2.id}]  # u1 was renamed in v2; u2 never changed
    assert report.history_lines(store, v2.id) == [
        "write-back sis: nothing sent; 1 failed",
        "  failed student UPDATE g-u1 (PowerSchool 11), attempt 3: not sent yet"]
    store.dispose()


# ------------------------------------------------------------------------------------- the fake's own rules

@pytest.fixture
def small_district(tmp_path):
    return make_district_data(tmp_path / "small", students=6, seed=3)


def _token(server) -> str:
    fake = server.fake
    response = httpx.post(f"{server.url}/oauth/access_token", auth=(fake.client_id, fake.client_secret),
                          data={"grant_type": "client_credentials"})
    return response.json()["access_token"]


def test_the_fake_powerschool_refuses_what_powerschool_refuses(small_district):
    with start_powerschool_fake(small_district) as server:
        headers = {"Authorization": f"Bearer {_token(server)}", "Accept": "application/json"}
        student = server.fake.district.students[1]
        before = json.dumps(student, sort_keys=True)
        forbidden = [
            {"client_uid": "a", "action": "UPDATE", "id": 1, "student_username": "someone.else"},
            {"client_uid": "b", "action": "UPDATE", "id": 1, "school_enrollment": {"grade_level": 7}},
            {"client_uid": "c", "action": "UPDATE", "id": 1, "name": {"first_name": " "}},
            {"client_uid": "d", "action": "UPDATE", "id": 1, "demographics": {"gender": "X"}},
            {"client_uid": "e", "action": "INSERT", "name": {"first_name": "New", "last_name": "Kid"}},
            {"client_uid": "f", "action": "UPDATE", "id": 999, "contact_info": {"email": "x@example.org"}},
        ]
        body = httpx.post(f"{server.url}/ws/v1/student", headers=headers,
                          json={"students": {"student": forbidden}}).json()["results"]
        assert body["update_count"] == 0 and body["insert_count"] == 0
        assert [r["status"] for r in body["result"]] == ["ERROR"] * len(forbidden)
        codes = {r["client_uid"]: r["error_message"]["error"] for r in body["result"]}
        assert codes["a"]["error_code"] == "READ_ONLY" and codes["b"]["error_code"] == "INSERT_ONLY"
        assert codes["c"]["field"] == "name.first_name" and codes["d"]["field"] == "demographics.gender"
        assert {e["field"] for e in codes["e"]} == {"school_enrollment.grade_level", "school_enrollment.entry_date",
                                                   "school_enrollment.exit_date", "school_enrollment.school_number"}
        assert codes["f"]["error_code"] == "NOT_FOUND"
        assert json.dumps(student, sort_keys=True) == before and server.fake.writes.applied == []

        one = httpx.post(f"{server.url}/ws/v1/student", headers=headers, json={"students": {"student": {
            "client_uid": "g", "action": "UPDATE", "id": 1, "contact_info": {"email": "changed@example.org"}}}})
        assert one.json()["results"]["result"]["status"] == "SUCCESS"  # one result: an object
        page = httpx.get(f"{server.url}/ws/v1/school/{student['school_enrollment']['school_id']}/student",
                         headers=headers, params={"expansions": "contact_info", "pagesize": "100"}).json()
        read = next(s for s in page["students"]["student"] if s["id"] == 1)
        assert read["contact_info"]["email"] == "changed@example.org"  # a re-read shows the write

        refused = httpx.post(f"{server.url}/ws/contacts/contact", headers=headers,
                             json={"firstName": "A", "lastName": "", "contactAccount": {"password": "x"},
                                   "contactStudents": [{"dcid": 999}]})
        assert refused.status_code == 400
        assert {e["field"] for e in refused.json()["errors"]} == {"contactAccount", "lastName", "contactStudents.dcid"}
        assert httpx.put(f"{server.url}/ws/contacts/contact/999", headers=headers, json={"lastName": "B"}).status_code \
            == 404


# -------------------------------------------------------------------------------------------- whole syncs

def run_sync(instance: dg.DagsterInstance, district: str) -> dict:
    return run_partition(instance, district, YEAR)


def _impatient(self) -> RetryPolicy:
    return RetryPolicy(max_attempts=2, base_delay=0.01)




def district_export(data, folder: Path, edit) -> Path:
    """The district's own identity export (OneRoster 1.1: orgs, sessions, users, demographics) from the
    same district PowerSchool serves, changed by ``edit(users, demographics)``."""
    folder.mkdir(parents=True)
    for name in ("orgs", "academicSessions"):
        shutil.copy(data.folder / f"{name}.csv", folder / f"{name}.csv")
    users_header, users = read_rows(data.folder / "users.csv")
    demo_header, demographics = read_rows(data.folder / "demographics.csv")
    edit(users, demographics)
    write_rows(folder / "users.csv", users_header, users)
    write_rows(folder / "demographics.csv", demo_header, demographics)
    header, rows = read_rows(data.folder / "manifest.csv")
    for row in rows:
        if row["propertyName"] in ("file.courses", "file.classes", "file.enrollments"):
            row["value"] = "absent"
    write_rows(folder / "manifest.csv", header, rows)
    return folder


def _integration(tmp_path, monkeypatch, server, export: Path, **extra) -> None:
    config, env = powerschool_source_config(server, max_concurrency=2)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    write_integration(
        tmp_path / "integrations", DISTRICT,
        [config, {"name": "district_csv", "type": "csv", "path": str(export), "schema": "oneroster-1.1"}],
        sync_mode="two_way",
        destinations=[{"name": "oneroster_export", "type": "oneroster-1.1-csv"},
                      {"name": "sis", "type": "powerschool-writeback", "source": "powerschool"}],
        master_fields={"users": {f: ["district_csv", "powerschool"] for f in ("email", "username", "grades",
                                                                               "middle_name")},
                       "demographics": {"birth_date": ["district_csv", "powerschool"]}},
        # Records of one person in both sources are one golden person by their local id.
        reconciliation={"domains": {"users": [{"name": "local_id", "attributes": ["identifier", "role"]}]},
                        "distinguishing": ["state_id"]},
        **extra)



def _student_writes(server, since: int = 0) -> list[dict]:
    records = []
    for request in server.requests_to(r"^/ws/v1/student$")[since:]:
        body = request.json()["students"]["student"]
        records.extend(body if isinstance(body, list) else [body])
    return records


def _fields(record: dict) -> set[str]:
    out = set()
    for key, value in record.items():
        if key in ("client_uid", "action", "id"):
            continue
        out |= {f"{key}.{k}" for k in value} if isinstance(value, dict) else {key}
    return out


def _materialization(instance, run_id: str):
    records = instance.fetch_materializations(dg.AssetKey("sis_writeback"), limit=10).records
    return next(r.asset_materialization for r in records if r.run_id == run_id)


@pytest.mark.slow
def test_two_way_sync_writes_back_what_powerschool_accepts_and_retries_what_it_refused(
        tmp_path, passport_home, sqlite_store, monkeypatch):
    data = make_district_data(tmp_path / "drop", students=24, seed=11)
    students = data.by_role("student")
    guardians = data.by_role("parent", "guardian", "relative")
    a, b, c, d, e = students[:5]
    g_a = guardians[-1]
    new_email = "a.new.address@students.example.org"

    def edit(users, demographics):
        by_id = {u["sourcedId"]: u for u in users}
        by_id[a["sourcedId"]]["email"] = new_email
        by_id[c["sourcedId"]]["middleName"] = "Quinn"
        by_id[d["sourcedId"]]["username"] = "someone.else"
        by_id[e["sourcedId"]]["grades"] = "11" if e["grades"] != "11" else "10"
        by_id[g_a["sourcedId"]]["email"] = "guardian.changed@example.com"
        by_id[a["sourcedId"]]["agentSourcedIds"] = ",".join(x for x in (a["agentSourcedIds"], NEW_GUARDIAN["sourcedId"])
                                                            if x)
        for row in demographics:
            if row["sourcedId"] == b["sourcedId"]:
                row["birthDate"] = "2012-02-29"
        blank = dict.fromkeys(users[0], "")
        users.append({**blank, **NEW_STUDENT, "enabledUser": "true", "orgSourcedIds": a["orgSourcedIds"],
                      "role": "student"})
        users.append({**blank, **NEW_GUARDIAN, "enabledUser": "true", "orgSourcedIds": a["orgSourcedIds"],
                      "agentSourcedIds": a["sourcedId"]})
        demographics.append({**dict.fromkeys(demographics[0], ""), "sourcedId": NEW_STUDENT["sourcedId"],
                             "birthDate": "2014-05-06", "sex": "female"})

    with start_powerschool_fake(data) as ps:
        fake, ids = ps.fake, ps.id_map
        dcid = {s["sourcedId"]: ids[s["sourcedId"]][1] for s in students}
        _integration(tmp_path, monkeypatch, ps, district_export(data, tmp_path / "export", edit))
        fake.writes.refuse(dcid[b["sourcedId"]])  # locked by another user the first time

        with dg.instance_for_test() as instance:
            first = run_sync(instance, DISTRICT)
            assert first["status"] == "successfully in production", first["errors"]
            store = GoldenStore(sqlite_store)
            v1 = store.latest_version(DISTRICT, YEAR)
            assert v1.status == "successfully in production"  # refused records do not fail the sync

            # Exactly the accepted UPDATEs and one INSERT went out; nothing forbidden ever did.
            sent = _student_writes(ps)
            updates = {r["id"]: _fields(r) for r in sent if r["action"] == "UPDATE"}
            inserts = [r for r in sent if r["action"] == "INSERT"]
            assert updates == {dcid[a["sourcedId"]]: {"contact_info.email"},
                               dcid[b["sourcedId"]]: {"demographics.birth_date"},
                               dcid[c["sourcedId"]]: {"name.middle_name"}}
            assert all("student_username" not in r for r in sent)
            assert all("school_enrollment" not in r for r in sent if r["action"] == "UPDATE")
            assert len(inserts) == 1
            school = fake.district.schools[ids[a["orgSourcedIds"].split(",")[0]][1] - 1]
            assert inserts[0]["local_id"] == 1999999 and inserts[0]["name"] == {"first_name": "Noor",
                                                                                 "last_name": "Haddad"}
            assert inserts[0]["school_enrollment"] == {"school_number": school["school_number"], "grade_level": 5,
                                                       "entry_date": "2025-08-18", "exit_date": "2026-06-13"}
            assert inserts[0]["demographics"] == {"gender": "F", "birth_date": "2014-05-06"}
            new_dcid = next(i for kind, action, i in fake.writes.applied if (kind, action) == ("student", "INSERT"))

            # Guardians: the changed e-mail updated, the new guardian created with their student.
            contact_id = ids[g_a["sourcedId"]][1]
            puts = ps.requests_to(r"^/ws/contacts/contact/\d+$")
            assert [(r.method, r.path, r.json()) for r in puts] == [
                ("PUT", f"/ws/contacts/contact/{contact_id}",
                 {"emails": [{"address": "guardian.changed@example.com", "primary": True, "type": "Home"}]})]
            [created] = [r.json() for r in ps.requests_to(r"^/ws/contacts/contact$")]
            assert created["contactStudents"] == [{"dcid": dcid[a["sourcedId"]],
                                                   "studentDetails": [{"relationship": "Parent", "active": True}]}]
            assert created["contactNumber"] == NEW_GUARDIAN["identifier"]

            # Per-record results are stored: sent, failed (to retry) and skipped with the rule.
            results = {(r["entity"], r["powerschool_id"] or r["golden_id"]): r
                       for r in WritebackResults(store).for_version(v1.id)}
            refused = results[("student", str(dcid[b["sourcedId"]]))]
            assert (refused["status"], refused["attempts"]) == ("failed", 1)
            assert "locked by another user" in refused["message"] and str(dcid[b["sourcedId"]]) not in \
                refused["message"]
            assert results[("student", str(dcid[a["sourcedId"]]))]["status"] == "sent"
            assert results[("student", str(new_dcid))]["action"] == "INSERT"
            username = results[("student", str(dcid[d["sourcedId"]]))]
            assert (username["status"], username["skipped"]) == \
                ("skipped", {"student_username": "student_username_not_writable"})
            grade = results[("student", str(dcid[e["sourcedId"]]))]
            assert (grade["status"], grade["skipped"]) == \
                ("skipped", {"school_enrollment.grade_level": "school_enrollment_insert_only"})
            for row in results.values():  # anything else a rule kept out: a sex PowerSchool cannot hold
                if row["status"] == "skipped" and row not in (username, grade):
                    assert row["skipped"] == {"demographics.gender": "gender_m_or_f"}
            assert {r["status"] for k, r in results.items() if k[0] == "contact"} == {"sent"}

            # ... and in the asset's metadata: counts and the records to look at, ids and rules only.
            meta = _materialization(instance, first["run_id"]).metadata
            assert meta["records_failed"].value == 1
            assert meta["records_sent"].value == 5  # 2 students updated, 1 created, 1 contact updated, 1 created
            assert meta["counts"].value["sis"]["student"]["INSERT"]["sent"] == 1
            # d's new username, and the new student's: neither is ever written
            assert meta["skipped_by_rule"].value["student_username_not_writable"] == 2
            problems = [r.data for r in meta["problems"].value.records]
            assert problems[0]["status"] == "failed" and problems[0]["powerschool_id"] == str(dcid[b["sourcedId"]])
            shown = json.dumps({k: str(v.value) for k, v in meta.items()})
            for value in (new_email, "guardian.changed@example.com", "Quinn", "someone.else", "Noor", "2012-02-29"):
                assert value not in shown
            assert report.history_lines(store, v1.id)[0].startswith("write-back sis: 2 students updated, "
                                                                    "1 students created, 1 contacts updated, "
                                                                    "1 contacts created; 1 failed")

            # The next sync re-reads PowerSchool: the written values are there, the new people are linked
            # to their golden records, and only the refused record is sent again (and accepted).
            before = len(ps.requests_to(r"^/ws/v1/student$"))
            second = run_sync(instance, DISTRICT)
            assert second["status"] == "successfully in production", second["errors"]
            v2 = store.latest_version(DISTRICT, YEAR)
            again = _student_writes(ps, before)
            assert [(r["action"], r.get("id")) for r in again] == [("UPDATE", dcid[b["sourcedId"]])]
            assert not ps.requests_to(r"^/ws/contacts/contact$")[1:]  # nobody created twice
            rows = {(r["entity"], r["powerschool_id"] or r["golden_id"]): r
                    for r in WritebackResults(store).for_version(v2.id)}
            retried = rows[("student", str(dcid[b["sourcedId"]]))]
            assert (retried["status"], retried["attempts"]) == ("sent", 2)
            assert not [r for r in rows.values() if r["action"] == "INSERT"]
            users = store.current_records(DISTRICT, YEAR, "users").to_pylist()
            own = {u["sourced_id"]: u for u in users if u["source"] == "powerschool"}
            assert own[f"student-{dcid[a['sourcedId']]}"]["email"] == new_email
            assert own[f"student-{dcid[c['sourcedId']]}"]["middle_name"] == "Quinn"
            golden_of = {(u["source"], u["sourced_id"]): u["golden_id"] for u in users}
            assert golden_of[("powerschool", f"student-{new_dcid}")] == \
                golden_of[("district_csv", NEW_STUDENT["sourcedId"])]
            new_contact = next(i for kind, action, i in fake.writes.applied if (kind, action) == ("contact", "INSERT"))
            assert golden_of[("powerschool", f"contact-{new_contact}")] == \
                golden_of[("district_csv", NEW_GUARDIAN["sourcedId"])]
            assert own[f"contact-{contact_id}"]["email"] == "guardian.changed@example.com"
            store.dispose()


@pytest.mark.slow
def test_powerschool_down_fails_the_write_back_and_loses_nothing(tmp_path, passport_home, sqlite_store, monkeypatch):
    data = make_district_data(tmp_path / "drop", students=12, seed=7)
    student = data.by_role("student")[0]
    new_email = "moved.mailbox@students.example.org"

    def edit(users, demographics):
        next(u for u in users if u["sourcedId"] == student["sourcedId"])["email"] = new_email

    with start_powerschool_fake(data) as ps:
        dcid = ps.id_map[student["sourcedId"]][1]
        _integration(tmp_path, monkeypatch, ps, district_export(data, tmp_path / "export", edit))
        monkeypatch.setattr(SourceConnector, "retry_policy", _impatient)
        ps.faults.add(r"^/ws/v1/student$", status=503, times=2)  # every try of the first write-back
        with dg.instance_for_test() as instance:
            first = run_sync(instance, DISTRICT)
            assert any(e.startswith("sis_writeback") and "server error" in e for e in first["errors"]), first["errors"]
            assert first["status"] == "propagation failed"
            store = GoldenStore(sqlite_store)
            v1 = store.latest_version(DISTRICT, YEAR)
            assert v1.status == "propagation failed"
            assert fake_state(ps, dcid) != new_email  # nothing reached PowerSchool
            rows = WritebackResults(store).for_version(v1.id)
            unsent = [r for r in rows if r["powerschool_id"] == str(dcid)]
            assert [(r["status"], r["rule"], r["attempts"]) for r in unsent] == [("failed", "powerschool_failed", 0)]
            assert "not sent" in unsent[0]["message"] and new_email not in unsent[0]["message"]
            delivery = next(d for d in store.deliveries(v1.id) if d["destination"] == "sis")
            assert (delivery["status"], delivery["error"]) == ("failed", "server_error")
            assert delivery["rows"]["failed"] >= 1
            text = "\n".join(str(ev) for ev in instance.all_logs(first["run_id"]))
            assert new_email not in text and ps.fake.client_secret not in text

            second = run_sync(instance, DISTRICT)
            assert second["status"] == "successfully in production", second["errors"]
            v2 = store.latest_version(DISTRICT, YEAR)
            assert v2.status == "successfully in production"
            assert fake_state(ps, dcid) == new_email  # the next run sent it
            sent = [r for r in WritebackResults(store).for_version(v2.id) if r["powerschool_id"] == str(dcid)]
            assert [(r["status"], r["attempts"]) for r in sent] == [("sent", 1)]
            assert WritebackResults(store).for_version(v1.id) == rows  # v1's history stays as it was
            store.dispose()


def fake_state(server, dcid: int) -> str | None:
    return (server.fake.district.students[dcid].get("contact_info") or {}).get("email")


@pytest.mark.slow
def test_a_write_back_of_the_same_version_sends_only_what_is_left(tmp_path, passport_home, sqlite_store, monkeypatch):
    data = make_district_data(tmp_path / "drop", students=12, seed=7)
    one, two = data.by_role("student")[:2]

    def edit(users, demographics):
        for u in users:
            if u["sourcedId"] in (one["sourcedId"], two["sourcedId"]):
                u["email"] = f"{u['sourcedId']}@new.example.org"

    with start_powerschool_fake(data) as ps:
        _integration(tmp_path, monkeypatch, ps, district_export(data, tmp_path / "export", edit))
        ps.fake.writes.refuse(ps.id_map[two["sourcedId"]][1])
        with dg.instance_for_test() as instance:
            assert run_sync(instance, DISTRICT)["status"] == "successfully in production"
        store = GoldenStore(sqlite_store)
        version = store.latest_version(DISTRICT, YEAR)
        integration = load_district(DISTRICT)
        destination = integration.destinations[1]
        connector = PowerSchoolConnector(base_delay_seconds=0.01)
        before = len(ps.requests_to(r"^/ws/v1/student$"))
        outcome = write_back(store, integration, destination, version,
                             lambda: WritebackClient.open(connector, integration.source("powerschool")))
        assert outcome.ok
        assert [r.get("id") for r in _student_writes(ps, before)] == [ps.id_map[two["sourcedId"]][1]]
        by_id = {r["powerschool_id"]: r for r in WritebackResults(store).for_version(version.id)}
        assert (by_id[str(ps.id_map[one["sourcedId"]][1])]["status"],
                by_id[str(ps.id_map[one["sourcedId"]][1])]["attempts"]) == ("sent", 1)
        assert (by_id[str(ps.id_map[two["sourcedId"]][1])]["status"],
                by_id[str(ps.id_map[two["sourcedId"]][1])]["attempts"]) == ("sent", 2)
        store.dispose()


@pytest.mark.slow
def test_without_the_contact_module_guardians_are_never_written_back(tmp_path, passport_home, sqlite_store,
                                                                     monkeypatch):
    data = make_district_data(tmp_path / "drop", students=8, seed=4)
    student = data.by_role("student")[0]
    guardian = data.by_role("parent", "guardian", "relative")[0]

    def edit(users, demographics):
        by_id = {u["sourcedId"]: u for u in users}
        by_id[student["sourcedId"]]["email"] = "written.back@students.example.org"
        by_id[guardian["sourcedId"]]["email"] = "not.a.contact@example.com"

    with start_powerschool_fake(data) as ps:
        config, env = powerschool_source_config(ps, max_concurrency=2, contacts="student_fields")
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        write_integration(
            tmp_path / "integrations", DISTRICT,
            [config, {"name": "district_csv", "type": "csv", "path": str(district_export(data, tmp_path / "export",
                                                                                          edit))}],
            sync_mode="two_way",
            destinations=[{"name": "oneroster_export", "type": "oneroster-1.1-csv"},
                          {"name": "sis", "type": "powerschool-writeback", "source": "powerschool"}],
            master_fields={"users": {"email": ["district_csv", "powerschool"]}},
            reconciliation={"domains": {"users": [{"name": "local_id", "attributes": ["identifier", "role"]}]}})
        with dg.instance_for_test() as instance:
            summary = run_sync(instance, DISTRICT)
            assert summary["status"] == "successfully in production", summary["errors"]
        dcid = ps.id_map[student["sourcedId"]][1]
        assert [(r["action"], r.get("id"), r.get("contact_info")) for r in _student_writes(ps)] == [
            ("UPDATE", dcid, {"email": "written.back@students.example.org"})]
        assert not ps.requests_to(r"^/ws/contacts/")  # neither read nor written
        results = WritebackResults(GoldenStore(sqlite_store)).for_version(
            GoldenStore(sqlite_store).latest_version(DISTRICT, YEAR).id)
        assert {r["entity"] for r in results} == {"student"}
