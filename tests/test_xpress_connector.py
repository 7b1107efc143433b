"""The xPress Roster connector against the fake provider (tests/fakes/xpress_server.py)."""

from __future__ import annotations

import json

import httpx
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from passport_pipelines.config.loader import load_integration
from passport_pipelines.config.sources import XpressSource
from passport_pipelines.model import entities
from passport_pipelines.normalize.rosters import normalize_source
from passport_pipelines.sources.base import ExtractRequest
from passport_pipelines.sources.errors import ConnectorError
from passport_pipelines.sources.xpress.connector import XpressConnector
from passport_pipelines.sources.xpress.envelopes import records
from passport_pipelines.validation.extract import SourceExtract
from tests.canonical_tables import assert_same_canonical, canonical_tables, read_tables
from tests.conftest import write_integration
from tests.fakes.district_data import make_district_data
from tests.fakes.xpress_server import start_xpress_fake, xpress_source_config

FAST = dict(base_delay_seconds=0.01, max_retry_seconds=10)

# Columns an xPress provider has no field for (RIC One / A4L xPress data model), left out of the
# equivalence by name:
NOT_IN_XPRESS = {
    "classes": ["title", "class_type"],  # xRoster has no section title and no homeroom/scheduled type
    "enrollments": ["sourced_id"],  # xRoster's student/staff references have no enrollment id
    "demographics": ["state_of_birth_abbreviation", "city_of_birth"],  # xDemographics: birthDate, sex,
    # races, hispanicLatinoEthnicity, countryOfBirth only
}


def _columns(entity: str, drop: tuple[str, ...] = ()) -> list[str]:
    skip = set(NOT_IN_XPRESS.get(entity, [])) | {"source", "date_last_modified", "content_hash", *drop}
    return [c for c in entities.columns(entity) if c not in skip]


@pytest.fixture
def data(tmp_path):
    return make_district_data(tmp_path / "drop", students=40)


def test_same_canonical_tables_as_the_csv_drop(passport_home, tmp_path, monkeypatch, data):
    with start_xpress_fake(data) as server:
        config, env = xpress_source_config(server)
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        path = write_integration(tmp_path / "integrations", "xp", [
            {"name": "csv", "type": "csv", "path": str(data.folder)}, config])
        integration = load_integration(path)
        want = canonical_tables(integration, "csv")
        got = canonical_tables(integration, "xpress", connector=XpressConnector(**FAST))
    assert_same_canonical(want, got, entities_=tuple(e for e in entities.ENTITIES if e != "users"),
                          columns={e: _columns(e) for e in entities.ENTITIES})
    # xStaff has no phone number (xStudent and xContact do): phone is compared for the others only
    assert_same_canonical(want, got, entities_=("users",), columns={"users": _columns("users", ("phone",))})
    people = pc.field("role").isin(["student", "parent", "guardian", "relative"])
    assert_same_canonical({"users": want["users"].filter(people)}, {"users": got["users"].filter(people)},
                          entities_=("users",), columns={"users": _columns("users")})
    assert {e: got[e].num_rows for e in entities.ENTITIES} == {e: want[e].num_rows for e in entities.ENTITIES}
    assert got["users"].num_rows > 80
    # last year's student is on the provider but not in the 2025-2026 partition
    assert not [u for u in got["users"].column("sourced_id").to_pylist() if u.endswith("-2025")]


# -- direct extracts ---------------------------------------------------------------------------------

def _source(server, monkeypatch, **extra) -> XpressSource:
    config, env = xpress_source_config(server)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return XpressSource(**{**config, **extra})


def _pull(source, folder, *, cursor=None, connector=None):
    connector = connector or XpressConnector(**FAST)
    return connector.extract(ExtractRequest(integration=None, source=source, school_year="2025-2026",
                                            folder=folder, cursor=cursor))


def _raw(folder, table) -> list[dict]:
    path = folder / f"{table}.parquet"
    if not path.exists():
        return []
    return [json.loads(r) for r in pq.read_table(path).column("record").to_pylist()]


def test_pages_are_read_by_headers_concurrently_in_the_school_year(tmp_path, monkeypatch, data):
    with start_xpress_fake(data) as server:
        source = _source(server, monkeypatch)
        server.faults.slow(r"/xRosters$", seconds=1.0, times=4)
        result = _pull(source, tmp_path / "raw")
    rosters = [r for r in server.requests if r.path.endswith("/xRosters")]
    assert sorted(int(r.header("navigationPage")) for r in rosters) == [1, 2, 3, 4]  # 100 rosters, 25 a page
    assert {r.header("navigationPageSize") for r in rosters} == {"25"}
    # Pages 2-4 were fetched at once, not one after another: every one of them reached the server before
    # the first of them could be answered (each answer is held back 1 s).
    later = sorted(r.received_at for r in rosters if r.header("navigationPage") != "1")
    assert later[-1] - later[0] < 1.0, later
    data_requests = [r for r in server.requests if r.path.startswith("/api/requests/")]
    assert {r.header("SchoolYear") for r in data_requests} == {"2026"}
    students = _raw(tmp_path / "raw", "xStudents")
    assert len(students) == len({s["refId"] for s in students}) == 40 == result.tables["xStudents"]
    assert result.entity_modes["users"] == "bulk" and result.requests == len(data_requests)


def test_a_page_size_over_the_providers_maximum_is_served_in_the_providers_size(tmp_path, monkeypatch, data):
    with start_xpress_fake(data, max_page_size=30) as server:
        _pull(_source(server, monkeypatch, page_size=5000), tmp_path / "raw")
    courses = [r for r in server.requests if r.path.endswith("/xCourses")]
    assert [(r.header("navigationPage"), r.header("navigationPageSize")) for r in courses][0] == ("1", "5000")
    assert sorted((int(r.header("navigationPage")), r.header("navigationPageSize")) for r in courses)[1:] == \
        [(2, "30"), (3, "30"), (4, "30")]
    assert len({c["refId"] for c in _raw(tmp_path / "raw", "xCourses")}) == 104


def test_the_school_year_header_selects_the_year_for_real(monkeypatch, tmp_path, data):
    with start_xpress_fake(data) as server:
        token = server.tokens.issue("t")["access_token"]
        def students(year):
            r = httpx.get(f"{server.url}/api/requests/xLeas/dist-001/xStudents",
                          headers={"Authorization": f"Bearer {token}", "SchoolYear": year,
                                   "navigationPage": "1", "navigationPageSize": "100"})
            assert r.status_code == 200
            return {s["refId"] for s in records("xStudents", r.json(), "test")}
        assert students("2025") == {"stu-0000001-2025"}  # a page of one: the envelope holds an object
        assert len(students("2026")) == 40 and "stu-0000001-2025" not in students("2026")


def test_an_incremental_pull_returns_only_the_changes_since_the_marker(passport_home, tmp_path, monkeypatch, data):
    with start_xpress_fake(data) as server:
        source = _source(server, monkeypatch, mode="incremental")
        full = _pull(source, tmp_path / "full")
        assert set(full.cursor["markers"]) >= {"xLeas", "xLeas/dist-001/xStudents", "xLeas/dist-001/xContacts"}
        store = server.xpress.data
        store.update("xStudents", "stu-0000002", lambda r: r["name"].update(givenName="Renamed"))
        store.update("xStudents", "stu-0000003", lambda r: r["email"].update(emailAddress="new@example.org"))
        gone = data.by_role("parent", "guardian")[0]["sourcedId"]
        store.delete("xContacts", gone)
        delta = _pull(source, tmp_path / "delta", cursor=full.cursor)
        again = _pull(source, tmp_path / "again", cursor=delta.cursor)
    assert delta.entity_modes["users"] == "delta" and delta.entity_modes["orgs"] == "delta"
    assert sorted(s["refId"] for s in _raw(tmp_path / "delta", "xStudents")) == ["stu-0000002", "stu-0000003"]
    assert _raw(tmp_path / "delta", "xContacts") == [{"refId": gone}]
    assert _raw(tmp_path / "delta", "xRosters") == [] and sum(again.tables.values()) == 0
    changed = server.requests_to(r"/xStudents$")[-2]
    assert changed.arg("changesSinceMarker") == full.cursor["markers"]["xLeas/dist-001/xStudents"]
    normalized = normalize_source(SourceExtract(
        source="xpress", schema="xpress", upload_mode="incremental", folder=str(tmp_path / "delta"),
        archive=str(tmp_path / "delta"), file_modes=delta.entity_modes, rows=delta.tables, filtered={}, ok=True,
        kind="xpress", source_type="xpress"), district="xp", school_year="2025-2026")
    users = {u["sourced_id"]: u for u in read_tables(normalized.folder)["users"].to_pylist()}
    assert set(users) == {"stu-0000002", "stu-0000003", gone}
    assert users["stu-0000002"]["given_name"] == "Renamed" and users["stu-0000003"]["email"] == "new@example.org"
    assert users[gone]["status"] == "tobedeleted" and users["stu-0000002"]["status"] == "active"


def test_rate_limits_server_errors_timeouts_and_token_expiry_are_survived(tmp_path, monkeypatch, data):
    with start_xpress_fake(data) as server:
        source = _source(server, monkeypatch, timeout_seconds=0.5)
        server.faults.add(r"/xStudents$", status=429, retry_after=0.1, times=3)
        server.faults.add(r"/xRosters$", status=500, times=2)
        server.faults.slow(r"/xCourses$", seconds=1.0, times=1)
        server.xpress.after_page(r"/xRosters$", 2, server.tokens.expire_all)
        result = _pull(source, tmp_path / "raw")
        issued = server.tokens.issued
    assert result.tables["xStudents"] == 40 and result.tables["xRosters"] == 100 and result.tables["xCourses"] == 104
    assert result.retries >= 6 and issued >= 2  # a new token after the expiry, fetched once


def test_a_record_deleted_between_pages_is_neither_duplicated_nor_fatal(tmp_path, monkeypatch, data):
    with start_xpress_fake(data) as server:
        source = _source(server, monkeypatch)
        victim = data.by_role("student")[5]["sourcedId"]  # on page 1: its removal shifts page 2
        server.xpress.after_page(r"/xStudents$", 1, lambda: server.xpress.data.delete("xStudents", victim))
        _pull(source, tmp_path / "raw")
    students = [s["refId"] for s in _raw(tmp_path / "raw", "xStudents")]
    assert len(students) == len(set(students)) == 39 and victim not in students
    assert len(server.requests_to(r"/xStudents$")) == 4  # the shifted collection was read again


@pytest.mark.parametrize("change, kind", [
    ({"client_secret": "env:WRONG_SECRET"}, "bad_credentials"),
    ({"password": "env:WRONG_SECRET"}, "bad_credentials"),
    ({"base_url": "PLACEHOLDER/api/v9/requests"}, "not_found"),
])
def test_connection_says_what_failed(monkeypatch, data, change, kind):
    monkeypatch.setenv("WRONG_SECRET", "nope")
    with start_xpress_fake(data) as server:
        change = {k: v.replace("PLACEHOLDER", server.url) for k, v in change.items()}
        check = XpressConnector(**FAST).test_connection(None, _source(server, monkeypatch, **change))
        assert not check.ok and check.failure == kind
        assert "nope" not in json.dumps(check.as_dict())
        step = "xLeas" if kind == "not_found" else "token"
        assert [s["name"] for s in check.as_dict()["steps"] if not s["ok"]] == [step]
        ok = XpressConnector(**FAST).test_connection(None, _source(server, monkeypatch))
        assert ok.ok and [s.name for s in ok.steps] == ["token", "xLeas"]
        assert server.requests_to(r"/xLeas$")[-1].header("navigationPageSize") == "1"


def test_an_object_the_application_may_not_read_is_missing_scope(tmp_path, monkeypatch, data):
    with start_xpress_fake(data, forbidden=("xContacts",)) as server:
        with pytest.raises(ConnectorError) as caught:
            _pull(_source(server, monkeypatch), tmp_path / "raw")
        assert caught.value.kind == "missing_scope" and "/xContacts" in caught.value.where
        result = _pull(_source(server, monkeypatch, entities=["orgs", "classes", "enrollments"]), tmp_path / "raw2")
    assert "xContacts" not in result.tables and result.tables["xRosters"] == 100


def test_ric_one_login_with_endpoints_and_an_api_key(tmp_path, monkeypatch, data):
    with start_xpress_fake(data, auth="login", endpoints=2, api_key="key-xp") as server:
        source = _source(server, monkeypatch)
        assert source.base_url is None and source.auth == "login"
        with pytest.raises(ConnectorError) as caught:
            _pull(source, tmp_path / "raw")
        assert caught.value.kind == "bad_response" and "provider_id" in str(caught.value)
        result = _pull(_source(server, monkeypatch, provider_id="ric1"), tmp_path / "raw1")
        assert result.tables["xStudents"] == 40
        login = server.requests_to(r"^/login$")[-1].form()
        assert set(login) == {"username", "password"}
        monkeypatch.delenv("XPRESS_API_KEY")
        check = XpressConnector(**FAST).test_connection(None, _source(server, monkeypatch, provider_id="ric1",
                                                                      api_key=None))
        assert check.failure == "bad_credentials"


def test_a_wrong_or_missing_api_key_is_named_in_the_hint(tmp_path, monkeypatch, data):
    with start_xpress_fake(data, auth="login", endpoints=1, api_key="key-xp") as server:
        with pytest.raises(ConnectorError) as caught:
            _pull(_wrong_key_source(server, monkeypatch), tmp_path / "raw")
        assert caught.value.kind == "bad_credentials"
        message = str(caught.value)
        assert "check the API key first (api_key: env:XPRESS_API_KEY, sent in the X-API-Key header" in message
        assert "not-the-key" not in message  # the key itself is never shown

        monkeypatch.delenv("XPRESS_API_KEY")
        check = XpressConnector(**FAST).test_connection(None, _source(server, monkeypatch, api_key=None))
        assert check.failure == "bad_credentials"
        [step] = [s for s in check.as_dict()["steps"] if not s["ok"]]
        assert "if the provider issues an API key, set api_key: env:VAR" in step["detail"]


def _wrong_key_source(server, monkeypatch):
    """The fake's source, whose api_key variable holds a key the provider did not issue."""
    source = _source(server, monkeypatch)
    monkeypatch.setenv("XPRESS_API_KEY", "not-the-key")
    return source
