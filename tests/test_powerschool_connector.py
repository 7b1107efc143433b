"""The PowerSchool SIS connector against a fake PowerSchool that serves the synthetic district."""

from __future__ import annotations

import base64
import json
from collections import Counter

import pyarrow.parquet as pq
import pytest

from passport_pipelines.config.loader import load_integration
from passport_pipelines.model import entities
from passport_pipelines.sources.errors import ConnectorError
from passport_pipelines.sources.powerschool import envelopes
from passport_pipelines.sources.powerschool.connector import PowerSchoolConnector
from tests.canonical_tables import NOT_CONTENT, assert_same_canonical, canonical_tables, extract
from tests.conftest import write_integration
from tests.fakes.district_data import make_district_data
from tests.fakes.powerschool_server import (
    CLIENT_ID,
    CLIENT_SECRET,
    SECRET_ENV,
    powerschool_source_config,
    start_powerschool_fake,
    translate_csv_tables,
)

# Columns PowerSchool's API cannot carry as the CSV drop does, by entity, and why:
NOT_CARRIED = {
    # The course resource is id, course_number and course_name: no grade levels, subjects or year.
    "courses": ["grades", "subjects", "school_year_sourced_id"],
    # A section has no grade, subject, name or homeroom flag; its code is PowerSchool's
    # "course.section" (MATH-KG.1), not the CSV exporter's own "MATH-KG-01".
    "classes": ["grades", "subjects", "class_code", "class_type"],
    # PowerSchool has no typed id list: its ids are carried in state_id and identifier (compared);
    # the CSV's {employee:...} typing of teachers but not administrators is that exporter's own.
    "users": ["user_ids"],
    # PowerSchool always dates a section enrollment (entry/exit = the term's first/last day);
    # the CSV drop leaves them blank.
    "enrollments": ["begin_date", "end_date"],
    # The student resource has no birthplace.
    "demographics": ["country_of_birth_code", "state_of_birth_abbreviation", "city_of_birth"],
}
COMPARED = {e: [c for c in entities.columns(e) if c not in NOT_CONTENT and c not in NOT_CARRIED.get(e, [])]
            for e in entities.ENTITIES}
SMALL_PAGES = {"school": 1, "student": 7, "staff": 2, "section": 9, "course": 11, "term": 2, "section_enrollment": 5}


def connector() -> PowerSchoolConnector:
    return PowerSchoolConnector(base_delay_seconds=0.01, max_retry_seconds=10)


@pytest.fixture
def district(tmp_path):
    return make_district_data(tmp_path / "drop", students=45, seed=5)


def _integration(tmp_path, monkeypatch, server, data=None, **overrides):
    config, env = powerschool_source_config(server, name="ps", **overrides)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    sources = [config] + ([{"name": "csv", "type": "csv", "path": str(data.folder)}] if data else [])
    return load_integration(write_integration(tmp_path / "integrations", "eq", sources))


def test_same_canonical_tables_as_the_csv_drop(passport_home, tmp_path, monkeypatch, district):
    with start_powerschool_fake(district, max_page_sizes=SMALL_PAGES) as server:
        integration = _integration(tmp_path, monkeypatch, server, district, max_concurrency=4)
        actual = canonical_tables(integration, "ps", connector=connector())
        expected = translate_csv_tables(canonical_tables(integration, "csv"), server)
        assert_same_canonical(expected, actual, columns=COMPARED)
        fake = server.fake
        assert fake.single_object_pages > 0  # pages holding exactly one record came as an object
        pages = [r for r in server.requests if r.arg("page")]
        resource = {"student": "student", "staff": "staff", "section": "section", "course": "course", "term": "term",
                    "school": "school", "section_enrollment": "section_enrollment"}
        for r in pages:  # never asked for more than the resource's maximum from /ws/v1/metadata
            if r.path.startswith("/ws/schema/table/"):
                assert int(r.arg("pagesize")) <= 1000  # schema_table_query_max_page_size
                continue
            kind = next(k for k in resource if r.path.endswith("/" + k))
            assert int(r.arg("pagesize")) <= SMALL_PAGES[kind]
        token = server.requests_to(r"^/oauth/access_token$")
        assert len(token) == 1 and token[0].method == "POST"
        assert token[0].header("content-type") == "application/x-www-form-urlencoded;charset=UTF-8"
        assert token[0].form() == {"grant_type": "client_credentials"}
        assert token[0].header("authorization") == "Basic " + base64.b64encode(
            f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    # integer ids from separate PowerSchool spaces never collide in canonical users
    users = actual["users"].column("sourced_id").to_pylist()
    assert len(users) == len(set(users))
    assert {"student-1", "staff-1", "contact-1"} <= set(users)
    assert actual["users"].num_rows > 0 and actual["enrollments"].num_rows > 0


def test_student_extension_fields_land_in_users_extensions(passport_home, tmp_path, monkeypatch, district):
    with start_powerschool_fake(district) as server:
        integration = _integration(tmp_path, monkeypatch, server, extensions=["u_students_extension"])
        users = canonical_tables(integration, "ps", connector=connector())["users"].to_pylist()
        asked = [r for r in server.requests_to(r"/student$")]
        assert all(r.arg("extensions") == "u_students_extension" for r in asked)
        assert all("demographics" in r.arg("expansions") and "ethnicity_race" in r.arg("expansions") for r in asked)
    student = next(u for u in users if u["sourced_id"] == "student-3")
    assert json.loads(student["extensions"]) == {"u_students_extension.bus_route": "R4",
                                                  "u_students_extension.locker_number": "2003"}
    assert all(u["extensions"] is None for u in users if u["role"] != "student")


def test_retries_429_bursts_500s_and_slow_responses(passport_home, tmp_path, monkeypatch, district):
    with start_powerschool_fake(district) as server:
        integration = _integration(tmp_path, monkeypatch, server, timeout_seconds=0.5)
        baseline = canonical_tables(integration, "ps", connector=connector())["enrollments"].num_rows
        server.faults.add(r"/ws/v1/school/\d+/student$", status=429, retry_after=0.1, times=3)
        server.faults.add(r"/ws/v1/school/\d+/section$", status=500, times=2)
        server.faults.slow(r"/ws/v1/section/\d+/section_enrollment$", seconds=1.0, times=1)
        result = extract(integration, "ps", connector=connector())
        fired = Counter(kind for _, kind in server.faults.fired)
        assert fired == {"429": 3, "500": 2, "slow": 1}
        assert result.retries >= 6
        rows = pq.read_table(f"{result.folder}/section_enrollments.parquet").num_rows
    assert rows == baseline - sum(1 for e in district.tables["enrollments"] if e["role"] == "teacher")


def test_expired_token_is_fetched_again_once_and_the_extract_continues(passport_home, tmp_path, monkeypatch, district):
    with start_powerschool_fake(district, expire_tokens_after=25) as server:
        integration = _integration(tmp_path, monkeypatch, server)
        tables = canonical_tables(integration, "ps", connector=connector())
        assert server.tokens.issued == 2
        assert len(server.requests_to(r"^/oauth/access_token$")) == 2
    assert tables["users"].num_rows == sum(1 for u in district.users if u["orgSourcedIds"] != "dist-001")


def test_a_record_deleted_between_pages_is_neither_lost_nor_repeated(passport_home, tmp_path, monkeypatch, district):
    with start_powerschool_fake(district, max_page_sizes={"student": 4}, delete_during_paging="student") as server:
        integration = _integration(tmp_path, monkeypatch, server, max_concurrency=1)
        result = extract(integration, "ps", connector=connector())
        deleted = server.fake.deleted
        records = [json.loads(r) for r in pq.read_table(f"{result.folder}/students.parquet").column("record").to_pylist()]
    ids = [r["id"] for r in records]
    assert len(deleted) == 1
    assert len(ids) == len(set(ids))  # nothing repeated
    assert deleted[0] not in ids
    assert set(ids) == set(range(1, 46)) - set(deleted)  # and nothing skipped by the shift


def test_wrong_secret_is_bad_credentials(passport_home, tmp_path, monkeypatch, district):
    with start_powerschool_fake(district) as server:
        integration = _integration(tmp_path, monkeypatch, server)
        monkeypatch.setenv(SECRET_ENV, "not-the-plugin-secret")
        with pytest.raises(ConnectorError) as exc:
            extract(integration, "ps", connector=connector())
    assert exc.value.kind == "bad_credentials"
    assert "/oauth/access_token" in str(exc.value) and "not-the-plugin-secret" not in str(exc.value)


def test_wrong_base_path_is_not_found(passport_home, tmp_path, monkeypatch, district):
    with start_powerschool_fake(district) as server:
        config, env = powerschool_source_config(server, name="ps", base_url=server.url + "/powerschool")
        monkeypatch.setenv(*next(iter(env.items())))
        integration = load_integration(write_integration(tmp_path / "integrations", "eq", [config]))
        with pytest.raises(ConnectorError) as exc:
            extract(integration, "ps", connector=connector())
    assert exc.value.kind == "not_found"


def test_plugin_without_contacts_access_is_missing_scope(passport_home, tmp_path, monkeypatch, district):
    with start_powerschool_fake(district, forbidden=("/ws/contacts",)) as server:
        integration = _integration(tmp_path, monkeypatch, server)
        with pytest.raises(ConnectorError) as exc:
            extract(integration, "ps", connector=connector())
    assert exc.value.kind == "missing_scope"
    assert "/ws/contacts/student/" in exc.value.where


def test_connection_checks_token_then_metadata_then_schools(passport_home, tmp_path, monkeypatch, district):
    with start_powerschool_fake(district) as server:
        integration = _integration(tmp_path, monkeypatch, server)
        check = connector().test_connection(integration, integration.source("ps"))
        assert check.ok, check.as_dict()
        assert [s.name for s in check.steps] == ["token", "metadata", "schools", "tables"]
        assert "2 school(s)" in check.steps[2].detail
        # the tables a sync reads for co-teachers, each counted
        assert check.steps[-1].detail.startswith("rows readable: sectionteacher ")
        assert "roledef 5" in check.steps[-1].detail
    with start_powerschool_fake(district) as server:
        integration = _integration(tmp_path, monkeypatch, server)
        monkeypatch.setenv(SECRET_ENV, "not-the-plugin-secret")
        check = connector().test_connection(integration, integration.source("ps"))
        assert check.failure == "bad_credentials" and [s.name for s in check.steps] == ["token"]
    with start_powerschool_fake(district, forbidden=("/ws/v1/metadata",)) as server:
        integration = _integration(tmp_path, monkeypatch, server)
        check = connector().test_connection(integration, integration.source("ps"))
        assert check.failure == "missing_scope" and check.steps[-1].name == "metadata"
    monkeypatch.delenv("POWERSCHOOL_CLIENT_SECRET")
    check = connector().test_connection(integration, integration.source("ps"))
    assert check.failure == "missing_secret"


def test_envelopes_as_powerschool_sends_them():
    where = "https://ps.example.org/ws/v1/school/1/student"
    one = {"students": {"@expansions": "demographics", "student": {"id": 7}}}
    many = {"students": {"student": [{"id": 7}, {"id": 8}]}}
    assert envelopes.records(one, "students", "student", where) == [{"id": 7}]
    assert envelopes.records(many, "students", "student", where) == [{"id": 7}, {"id": 8}]
    for empty in ({"students": ""}, {"students": None}, {"students": {"@expansions": "demographics"}}):
        assert envelopes.records(empty, "students", "student", where) == []
    with pytest.raises(ConnectorError) as exc:
        envelopes.records({"error": "x"}, "students", "student", where)
    assert exc.value.kind == "bad_response"
    assert envelopes.count({"resource": {"count": "423"}}, where) == 423
