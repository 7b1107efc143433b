"""Two-way sync with Google Workspace: accounts created, updated and suspended (never deleted) from the
golden users through the Directory API, with the write-back rules enforced before sending (and by the
fake Directory API, which refuses what Google refuses), per-record results stored like PowerSchool's,
and the next read linking what was created."""

from __future__ import annotations

import json

import dagster as dg
import httpx
import pyarrow as pa
import pytest

from passport_pipelines.config.loader import IntegrationError, load_integration
from passport_pipelines.delivery.writeback import report
from passport_pipelines.delivery.writeback.google.client import account_body
from passport_pipelines.delivery.writeback.google.plan import ACCOUNT_SCHEMA
from passport_pipelines.delivery.writeback.google.rules import ForbiddenWrite, check_request, guard_google
from passport_pipelines.delivery.writeback.plan import CHANGE_SCHEMA
from passport_pipelines.delivery.writeback.results import WritebackResults
from passport_pipelines.store.golden_store import GoldenStore
from tests.conftest import write_integration
from tests.district_files import read_rows, write_rows
from tests.fakes.district_data import make_district_data
from tests.fakes.google_directory_server import READONLY_SCOPE, google_source_config, start_google_fake
from tests.fakes.google_directory_writes import WRITE_SCOPE
from tests.sync_harness import run_sync

DISTRICT, YEAR = "lakeside", "2025-2026"
DESTINATION = {"name": "google", "type": "google-workspace", "source": "google", "roles": ["student", "teacher"],
               "email": {"student": "{username}@students.passport-usd.org", "teacher": "{username}@passport-usd.org"},
               "org_units": {"student": "/Students/{school}", "teacher": "/Staff/Teachers/{school}"}}


def _changes(rows: list[tuple]) -> pa.Table:
    keyed = [{"record_key": f"account:{g}:{a}:{p or 'new'}", "entity": "account", "golden_id": g,
              "powerschool_id": p, "action": a, "field": f, "value": v} for g, p, a, f, v in rows]
    return pa.Table.from_pylist(keyed, schema=CHANGE_SCHEMA)


def test_the_guard_keeps_what_google_must_never_get_out():
    accounts = pa.Table.from_pylist([
        {"google_id": "1", "org_unit": "/Students/Lincoln", "is_admin": False, "email": "ada@students.x.org"},
        {"google_id": "2", "org_unit": "/Staff/Administrators", "is_admin": False, "email": "bo@x.org"},
        {"google_id": "3", "org_unit": "/Students", "is_admin": True, "email": "root@x.org"},
        {"google_id": "4", "org_unit": "/Students/Lincoln", "is_admin": False, "email": "cy@students.x.org"},
    ], schema=ACCOUNT_SCHEMA)
    new = [("primaryEmail", "dee@students.x.org"), ("name.givenName", "Dee"), ("name.familyName", "Ng"),
           ("orgUnitPath", "/Students/Lincoln")]
    changes = _changes([
        ("G1", "1", "UPDATE", "name.familyName", "Okafor-Reyes"),
        ("G1", "1", "UPDATE", "primaryEmail", "someone.else@students.x.org"),
        ("G1", "1", "UPDATE", "suspended", "false"),
        ("G1", "1", "UPDATE", "name.givenName", " "),
        ("G2", "2", "SUSPEND", "suspended", "true"),
        ("G3", "3", "SUSPEND", "suspended", "true"),
        ("G4", "4", "UPDATE", "password", "hunter2"),
        *[("G5", None, "INSERT", f, v) for f, v in new],
        *[("G6", None, "INSERT", f, v) for f, v in new],  # the same address as G5's
        *[("G7", None, "INSERT", f, "ada@students.x.org" if f == "primaryEmail" else v) for f, v in new],
        *[("G8", None, "INSERT", f, v) for f, v in new if f != "orgUnitPath"],
    ])
    out = guard_google(changes, accounts, managed_org_units=["/Students"], reactivate=False)
    allowed = {(r["golden_id"], r["field"]) for r in out.allowed.to_pylist()}
    skipped = {(r["record_key"].split(":")[1], r["field"]): r["rule"] for r in out.skipped.to_pylist()}
    blocked = {r["record_key"].split(":")[1]: r["rule"] for r in out.blocked.to_pylist()}
    assert skipped == {("G1", "primaryEmail"): "primary_email_set_on_create_only",
                       ("G1", "suspended"): "reactivate_off", ("G1", "name.givenName"): "names_never_blank",
                       ("G4", "password"): "password_never_written"}
    assert blocked == {"G2": "outside_managed_org_units", "G3": "admin_account_untouched", "G6": "address_taken",
                       "G7": "address_taken", "G8": "insert_required_fields"}
    assert allowed == {("G1", "name.familyName"), *{("G5", f) for f, _ in new}}
    again = guard_google(changes, accounts, managed_org_units=["/Students"], reactivate=True)
    assert ("G1", "suspended") in {(r["golden_id"], r["field"]) for r in again.allowed.to_pylist()}

    assert account_body("INSERT", dict(new)) == {"primaryEmail": "dee@students.x.org", "orgUnitPath": "/Students/Lincoln",
                                                 "name": {"givenName": "Dee", "familyName": "Ng"}}
    for action, body in (("UPDATE", {"password": "x"}), ("UPDATE", {"primaryEmail": "a@x.org"}),
                         ("SUSPEND", {"suspended": True, "orgUnitPath": "/"}), ("UPDATE", {"name": {"givenName": ""}})):
        with pytest.raises(ForbiddenWrite):
            check_request(action, body)


def test_destination_settings_are_checked(tmp_path):
    (tmp_path / "integrations").mkdir()
    google = {"name": "google", "type": "google", "service_account_key": "env:KEY", "delegated_admin": "a@x.org"}
    for change, message in (({"email": "{username}"}, "not an address template"),
                            ({"email": "{nickname}@x.org"}, "unknown: nickname"),
                            ({"org_units": {"student": "/Students/{grade}"}}, "only placeholder is {school}"),
                            ({"org_units": {"student": "/Students/"}}, "does not end with one"),
                            ({"source": "sis"}, "is not a google source")):
        with pytest.raises(IntegrationError, match=message):
            load_integration(write_integration(tmp_path / "integrations", DISTRICT, [google], sync_mode="two_way",
                                               destinations=[{**DESTINATION, "roles": ["student"],
                                                              "email": "{username}@x.org",
                                                              "org_units": {"*": "/Students"}, **change}]))
    with pytest.raises(IntegrationError, match="needs sync_mode: two_way"):
        load_integration(write_integration(tmp_path / "integrations", DISTRICT, [google], destinations=[DESTINATION]))


def _token(server, scope: str) -> str:
    """An access token for the admin with ``scope``, as the service account gets one."""
    fake = server.google
    issued = fake.server.tokens.issue("it.admin@passport-usd.org", (scope,))
    return issued["access_token"]


def test_the_fake_directory_refuses_what_google_refuses(tmp_path):
    data = make_district_data(tmp_path / "small", students=4, seed=3)
    with start_google_fake(data, delegated_scopes=(READONLY_SCOPE, WRITE_SCOPE)) as server:
        url = f"{server.url}/admin/directory/v1/users"
        read_only = {"Authorization": f"Bearer {_token(server, READONLY_SCOPE)}"}
        headers = {"Authorization": f"Bearer {_token(server, WRITE_SCOPE)}"}
        user = {"primaryEmail": "new.kid@students.passport-usd.org", "password": "Long-enough-1",
                "name": {"givenName": "New", "familyName": "Kid"}, "orgUnitPath": "/Students"}
        assert httpx.post(url, headers=read_only, json=user).status_code == 403
        for bad, status, reason in (({"orgUnitPath": "/Nowhere"}, 400, "invalid"),
                                    ({"primaryEmail": "x@elsewhere.org"}, 400, "invalid"),
                                    ({"password": "short"}, 400, "invalid"),
                                    ({"name": {"givenName": "New"}}, 400, "invalid")):
            answer = httpx.post(url, headers=headers, json={**user, **bad})
            assert answer.status_code == status and answer.json()["error"]["errors"][0]["reason"] == reason
        created = httpx.post(url, headers=headers, json=user).json()
        assert created["id"] and created["orgUnitPath"] == "/Students"
        duplicate = httpx.post(url, headers=headers, json=user)
        assert duplicate.status_code == 409 and duplicate.json()["error"]["errors"][0]["reason"] == "duplicate"
        patched = httpx.patch(f"{url}/{created['id']}", headers=headers, json={"suspended": True}).json()
        assert patched["suspended"] is True and patched["name"]["givenName"] == "New"
        assert httpx.patch(f"{url}/404", headers=headers, json={"suspended": True}).status_code == 404


def _drop(data, folder, edit):
    """The district's SIS drop, changed by ``edit(users)``."""
    import shutil

    shutil.copytree(data.folder, folder)
    header, users = read_rows(folder / "users.csv")
    users = edit(users) or users
    write_rows(folder / "users.csv", header, users)
    return folder


@pytest.mark.slow
def test_two_way_sync_creates_updates_and_suspends_accounts_and_never_deletes(tmp_path, passport_home,
                                                                             sqlite_store, monkeypatch):
    data = make_district_data(tmp_path / "drop", students=16, seed=11)
    students, teachers = data.by_role("student"), data.by_role("teacher")
    missing, renamed, disabled, gone = students[:4]
    moved, protected = teachers[:2]
    late = dict(students[5])

    def edit(users):
        by_id = {u["sourcedId"]: u for u in users}
        by_id[renamed["sourcedId"]]["familyName"] = "Okafor-Reyes"
        by_id[disabled["sourcedId"]]["enabledUser"] = "false"
        by_id[protected["sourcedId"]]["enabledUser"] = "false"
        # A newcomer whose address would be another student's: never created over it.
        users.append({**late, "sourcedId": "stu-new-1", "givenName": "Theo", "familyName": "Lane",
                      "identifier": "9990001"})
        return users

    with start_google_fake(data, delegated_scopes=(READONLY_SCOPE, WRITE_SCOPE)) as server:
        fake = server.google
        fake.delete_user(missing["email"])  # a student Google does not have yet
        fake.user(moved["email"])["orgUnitPath"] = "/Staff/Teachers"  # in the wrong org unit
        fake.user(protected["email"])["orgUnitPath"] = "/Staff/Administrators"  # put elsewhere on purpose
        config, env = google_source_config(server)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        drop = _drop(data, tmp_path / "sis", edit)
        write_integration(tmp_path / "integrations", DISTRICT,
                          [{"name": "sis", "type": "csv", "path": str(drop)}, config], sync_mode="two_way",
                          destinations=[{"name": "oneroster_export", "type": "oneroster-1.1-csv"}, DESTINATION])
        store = GoldenStore(sqlite_store)
        with dg.instance_for_test() as instance:
            first = run_sync(instance, DISTRICT)
            assert first["status"] == "successfully in production", first["errors"]
            v1 = store.latest_version(DISTRICT, YEAR)

            writes = server.requests_to(r"^/admin/directory/v1/users")
            posts = [r.json() for r in writes if r.method == "POST"]
            patches = {r.path.rsplit("/", 1)[1]: r.json() for r in writes if r.method == "PATCH"}
            assert not [r for r in server.requests if r.method in ("DELETE", "PUT")]  # never deleted
            school = lambda u: next(o["name"] for o in data.tables["orgs"]  # noqa: E731
                                    if o["sourcedId"] == u["orgSourcedIds"].split(",")[0])
            [created] = posts
            assert created["primaryEmail"] == missing["email"]  # {username}@students.passport-usd.org
            assert created["orgUnitPath"] == f"/Students/{school(missing)}"
            assert created["externalIds"] == [{"type": "organization", "value": missing["sourcedId"]}]
            assert created["changePasswordAtNextLogin"] is True and len(created["password"]) >= 16
            ids = {u["sourcedId"]: fake.user(u["email"])["id"] for u in (renamed, disabled, moved)}
            assert patches == {ids[renamed["sourcedId"]]: {"name": {"familyName": "Okafor-Reyes"}},
                               ids[disabled["sourcedId"]]: {"suspended": True},
                               ids[moved["sourcedId"]]: {"orgUnitPath": f"/Staff/Teachers/{school(moved)}"}}
            assert fake.user(disabled["email"])["suspended"] is True
            assert fake.user(protected["email"])["suspended"] is False

            # Per-record results, like PowerSchool's: sent, and skipped with the rule.
            rows = {(r["action"], r["golden_id"]): r for r in WritebackResults(store).for_version(v1.id)}
            assert {r["entity"] for r in rows.values()} == {"account"}
            by_rule = {r["rule"]: r for r in rows.values() if r["status"] == "skipped"}
            assert set(by_rule) == {"address_taken", "outside_managed_org_units"}
            assert by_rule["outside_managed_org_units"]["action"] == "SUSPEND"
            assert sum(r["status"] == "sent" for r in rows.values()) == 4
            inserted = next(r for r in rows.values() if r["action"] == "INSERT" and r["status"] == "sent")
            assert inserted["powerschool_id"] == fake.user(missing["email"])["id"]
            assert report.history_lines(store, v1.id)[0] == \
                "write-back google: 1 accounts created, 2 accounts updated, 1 accounts suspended; 2 skipped"
            meta = instance.fetch_materializations(dg.AssetKey("sis_writeback"), limit=1).records[0] \
                .asset_materialization.metadata
            assert meta["records_sent"].value == 4 and meta["counts"].value["google"]["account"]["SUSPEND"]["sent"] == 1
            shown = json.dumps({k: str(v.value) for k, v in meta.items()})
            assert "Okafor-Reyes" not in shown and missing["email"] not in shown
            [delivery] = [d for d in store.deliveries(v1.id) if d["destination"] == "google"]
            assert (delivery["format"], delivery["status"]) == ("google-workspace", "delivered")

            # The next sync reads the new account back and links it; a student gone from the SIS is
            # suspended, not deleted.
            before = len(server.requests)
            _, users = read_rows(drop / "users.csv")
            header, _ = read_rows(drop / "users.csv")
            write_rows(drop / "users.csv", header, [u for u in users if u["sourcedId"] != gone["sourcedId"]])
            second = run_sync(instance, DISTRICT)
            assert second["status"] == "successfully in production", second["errors"]
            later = [r for r in server.requests[before:] if r.path.startswith("/admin/directory/v1/users")]
            assert not [r for r in later if r.method in ("POST", "DELETE", "PUT")]
            [suspension] = [r for r in later if r.method == "PATCH"]
            assert suspension.path.endswith(fake.user(gone["email"])["id"]) and suspension.json() == {"suspended": True}
            assert fake.user(gone["email"])["suspended"] is True
            assert fake.writes.deleted == []
            v2 = store.latest_version(DISTRICT, YEAR)
            assert report.history_lines(store, v2.id)[0] == "write-back google: 1 accounts suspended; 2 skipped"
