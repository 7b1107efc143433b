"""The OneRoster REST connector (1.1 and 1.2) against the fake provider over real sockets."""

from __future__ import annotations

import time

import duckdb
import pytest

from passport_pipelines.config.loader import load_integration
from passport_pipelines.config.sources import OneRosterApiSource
from passport_pipelines.model import entities
from passport_pipelines.sources.base import ExtractRequest
from passport_pipelines.sources.errors import ConnectorError
from passport_pipelines.sources.oneroster_api.collections import api_root
from passport_pipelines.sources.oneroster_api.connector import OneRosterApiConnector
from tests.canonical_tables import assert_same_canonical, canonical_tables
from tests.conftest import write_integration
from tests.fakes.district_data import make_district_data
from tests.fakes.oneroster_api_server import (
    CORE,
    DEMOGRAPHICS,
    as_served_by_12,
    oauth1_signature,
    oneroster_source_config,
    start_oneroster_fake,
)

FAST = dict(base_delay_seconds=0.01, max_retry_seconds=10)


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    return make_district_data(tmp_path_factory.mktemp("drop"), students=40)


def _integration(tmp_path, monkeypatch, server, data, name="api", **settings):
    config, env = oneroster_source_config(server, name=name, **settings)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    path = write_integration(tmp_path / "integrations", "eq", [
        {"name": "csv", "type": "csv", "path": str(data.folder)}, config])
    return load_integration(path)


def _extract(integration, tmp_path, name="api", cursor=None, connector=None):
    source = integration.source(name)
    connector = connector or OneRosterApiConnector(**FAST)
    folder = tmp_path / f"raw-{time.monotonic_ns()}"
    return connector.extract(ExtractRequest(integration, source, "2025-2026", folder, cursor)), folder


def _ids(folder, table="users"):
    con = duckdb.connect()
    try:
        return [r[0] for r in con.execute(
            f"SELECT json_extract_string(record, '$.sourcedId') FROM read_parquet('{folder / (table + '.parquet')}')"
        ).fetchall()]
    finally:
        con.close()


# -- equivalence with the CSV drop ---------------------------------------------------------

@pytest.mark.parametrize("version,auth", [("1.1", "oauth1"), ("1.1", "oauth2")])
def test_oneroster_11_gives_the_csv_drops_canonical_tables(passport_home, tmp_path, monkeypatch, district,
                                                           version, auth):
    with start_oneroster_fake(district, version=version, auth=auth, max_limit=25) as server:
        integration = _integration(tmp_path, monkeypatch, server, district, max_concurrency=4, page_size=25)
        assert_same_canonical(canonical_tables(integration, "csv"), canonical_tables(integration, "api"))
        api = server.requests_to(r"/ims/oneroster/v1p1/")
        assert api and all(r.header("authorization").startswith("OAuth " if auth == "oauth1" else "Bearer ")
                           for r in api)


def test_oneroster_12_with_scopes_gives_the_csv_drops_canonical_tables(passport_home, tmp_path, monkeypatch,
                                                                       district):
    with start_oneroster_fake(district, version="1.2", auth="oauth2") as server:
        integration = _integration(tmp_path, monkeypatch, server, district, page_size=30, credentials_in="form")
        api = canonical_tables(integration, "api")
        token_request = server.requests_to(r"/oauth2/token")[0]
        token_form = token_request.form()
        assert token_form["client_id"] == server.oneroster.client_id and token_request.basic_auth() is None
        assert set(token_form["scope"].split()) == {CORE, DEMOGRAPHICS, CORE.replace("roster-core", "roster")}
    # 1.2 has no plain "administrator": the provider says siteAdministrator or districtAdministrator.
    assert {"siteAdministrator", "districtAdministrator"} <= set(api["users"].column("role").to_pylist())
    expected = as_served_by_12(canonical_tables(integration, "csv"), district)
    assert_same_canonical(expected, api)


# -- auth ----------------------------------------------------------------------------------

def test_oauth1_fake_rejects_a_wrong_secret_a_replayed_nonce_and_an_old_timestamp(passport_home, tmp_path,
                                                                                  monkeypatch, district):
    import httpx

    with start_oneroster_fake(district, version="1.1", auth="oauth1") as server:
        fake = server.oneroster
        url = f"{fake.root}/orgs?limit=1&filter=type%3D%27school%27"

        def signed(secret: str, nonce: str, stamp: int) -> httpx.Response:
            oauth = {"oauth_consumer_key": fake.client_id, "oauth_nonce": nonce, "oauth_signature_method": "HMAC-SHA1",
                     "oauth_timestamp": str(stamp), "oauth_version": "1.0"}
            oauth["oauth_signature"] = oauth1_signature("GET", url, oauth, secret)
            header = "OAuth " + ", ".join(f'{k}="{httpx.URL("", params={"v": v}).query.decode()[2:]}"'
                                          for k, v in oauth.items())
            return httpx.get(url, headers={"Authorization": header})

        now = int(time.time())
        assert signed(fake.client_secret, "n1", now).status_code == 200
        replay = signed(fake.client_secret, "n1", now)
        wrong = signed("not-the-secret", "n2", now)
        stale = signed(fake.client_secret, "n3", now - 3600)
        for response in (replay, wrong, stale):
            assert response.status_code == 401
            body = response.json()
            assert body["imsx_codeMajor"] == "failure" and body["imsx_severity"] == "error"
            assert body["imsx_codeMinor"]["imsx_codeMinorField"][0] == {
                "imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": "unauthorisedrequest"}

        monkeypatch.setenv("API_CLIENT_SECRET", "wrong")
        integration = _integration(tmp_path, monkeypatch, server, district)
        monkeypatch.setenv("API_CLIENT_SECRET", "wrong")
        with pytest.raises(ConnectorError) as err:
            _extract(integration, tmp_path)
        assert err.value.kind == "bad_credentials" and "unauthorisedrequest" in str(err.value)
        assert "wrong" not in str(err.value)


def test_wrong_secret_wrong_path_and_missing_scope_are_named(passport_home, tmp_path, monkeypatch, district):
    with start_oneroster_fake(district, version="1.2", allowed_scopes=(CORE,)) as server:
        integration = _integration(tmp_path, monkeypatch, server, district)
        source = integration.source("api")
        connector = OneRosterApiConnector(**FAST)

        check = connector.test_connection(integration, source)  # asks for the default scopes, incl. demographics
        assert check.failure == "missing_scope" and check.steps[0].name == "token"
        assert "invalid_scope" in check.steps[0].detail

        narrow = source.model_copy(update={"scopes": [CORE]})
        check = connector.test_connection(integration, narrow)
        assert [(s.name, s.ok) for s in check.steps] == [("token", True), ("orgs", True), ("demographics", False)]
        assert check.failure == "missing_scope" and "forbidden" in check.steps[-1].detail
        assert "3 record(s)" in check.steps[1].detail

        no_demo = narrow.model_copy(update={"entities": ["orgs", "users"]})
        assert connector.test_connection(integration, no_demo).ok

        wrong_path = source.model_copy(update={"base_url": server.url + "/sis"})
        check = connector.test_connection(integration, wrong_path.model_copy(update={"scopes": [CORE]}))
        assert check.failure == "not_found" and "unknownobject" in check.steps[1].detail

        monkeypatch.setenv("API_CLIENT_SECRET", "not-it")
        check = connector.test_connection(integration, source)
        assert check.failure == "bad_credentials" and "not-it" not in str(check.as_dict())


def test_token_expiring_mid_extract_is_fetched_again(passport_home, tmp_path, monkeypatch, district):
    with start_oneroster_fake(district, version="1.2", expire_tokens_after=5) as server:
        integration = _integration(tmp_path, monkeypatch, server, district, page_size=20, max_concurrency=1)
        result, folder = _extract(integration, tmp_path)
        assert server.tokens.issued == 2
        assert result.tables["users"] == len(district.users)
        assert sorted(_ids(folder)) == sorted(u["sourcedId"] for u in district.users)


# -- paging --------------------------------------------------------------------------------

@pytest.mark.parametrize("options", [
    dict(link=False),  # X-Total-Count only: the remaining offsets at once
    dict(total=False),  # Link rel=next only
    dict(link=False, total=False),  # neither: until an empty page
    dict(max_limit=7),  # the server caps limit below what we ask
])
def test_every_stop_rule_reads_each_record_once(passport_home, tmp_path, monkeypatch, district, options):
    # OAuth 1.0a: every page, Link URLs included, must carry a signature the server recomputes
    with start_oneroster_fake(district, version="1.1", auth="oauth1", **options) as server:
        integration = _integration(tmp_path, monkeypatch, server, district, page_size=10)
        result, folder = _extract(integration, tmp_path)
        ids = _ids(folder, "enrollments")
        assert len(ids) == len(set(ids)) == len(district.tables["enrollments"]) == result.tables["enrollments"]
        pages = server.requests_to(r"/enrollments$")
        expected_pages = -(-len(ids) // min(10, options.get("max_limit", 10)))
        assert len(pages) == expected_pages + (1 if options == dict(link=False, total=False) else 0)


def test_an_empty_page_before_the_total_ends_the_read_safely(passport_home, tmp_path, monkeypatch, district):
    with start_oneroster_fake(district, version="1.1", empty_after=30) as server:
        integration = _integration(tmp_path, monkeypatch, server, district, page_size=10)
        result, folder = _extract(integration, tmp_path)
        assert result.tables["enrollments"] == 30 and len(set(_ids(folder, "enrollments"))) == 30
        assert result.tables["orgs"] == 3


def test_pages_are_fetched_concurrently_once_the_total_is_known(passport_home, tmp_path, monkeypatch, district):
    with start_oneroster_fake(district, version="1.1", link=False) as server:
        server.faults.slow(r"/enrollments$", seconds=0.4, times=8)
        integration = _integration(tmp_path, monkeypatch, server, district, page_size=40, max_concurrency=8)
        started = time.monotonic()
        result, _ = _extract(integration, tmp_path)
        # ten pages, eight of them slow: one after another that is over 3 s
        assert time.monotonic() - started < 2.5
        assert result.tables["enrollments"] == len(district.tables["enrollments"])


def test_a_record_deleted_between_pages_is_neither_skipped_nor_duplicated(passport_home, tmp_path, monkeypatch,
                                                                         district):
    victim = district.users[3]["sourcedId"]  # on the first page: every later row shifts up by one
    with start_oneroster_fake(district, version="1.1", link=False, remove_during={"users": victim}) as server:
        integration = _integration(tmp_path, monkeypatch, server, district, page_size=10, max_concurrency=3)
        result, folder = _extract(integration, tmp_path)
        ids = _ids(folder)
        assert len(ids) == len(set(ids))
        # everyone still there is read; the deleted one stays until the next sync (never a false deletion)
        assert set(ids) == {u["sourcedId"] for u in district.users}
        assert len(server.requests_to(r"/users$")) > -(-len(district.users) // 10)  # the collection was re-read


# -- faults ----------------------------------------------------------------------------------

def test_429_bursts_500s_and_a_slow_answer_are_retried(passport_home, tmp_path, monkeypatch, district):
    with start_oneroster_fake(district, version="1.1", auth="oauth1") as server:
        server.faults.add(r"/users$", status=429, retry_after=0.2, times=3)
        server.faults.add(r"/classes$", status=500, times=2)
        server.faults.slow(r"/courses$", seconds=1.5, times=1)
        integration = _integration(tmp_path, monkeypatch, server, district, timeout_seconds=0.5, page_size=50)
        result, _ = _extract(integration, tmp_path)
        assert result.retries >= 6
        assert result.tables["users"] == len(district.users)
        assert result.tables["classes"] == len(district.tables["classes"])
        assert result.tables["courses"] == len(district.tables["courses"])


def test_a_server_that_keeps_failing_is_a_named_error(passport_home, tmp_path, monkeypatch, district):
    with start_oneroster_fake(district, version="1.1") as server:
        server.faults.add(r"/orgs$", status=503, times=50)
        integration = _integration(tmp_path, monkeypatch, server, district)
        with pytest.raises(ConnectorError) as err:
            _extract(integration, tmp_path, connector=OneRosterApiConnector(max_attempts=3, base_delay_seconds=0.01))
        assert err.value.kind == "server_error" and "/ims/oneroster/v1p1/orgs" in err.value.where


# -- incremental ---------------------------------------------------------------------------

def test_incremental_pull_asks_for_changes_since_the_last_extract(passport_home, tmp_path, monkeypatch, district):
    with start_oneroster_fake(district, version="1.2") as server:
        integration = _integration(tmp_path, monkeypatch, server, district, mode="incremental")
        fake = server.oneroster
        full, _ = _extract(integration, tmp_path)
        assert {full.entity_modes[e] for e in entities.ROSTER_ENTITIES} == {"bulk"} and full.cursor["since"].endswith("Z")
        assert {full.entity_modes[e] for e in entities.GRADEBOOK_ENTITIES} == {"absent"}  # not listed: not read

        student, teacher = district.by_role("student")[0]["sourcedId"], district.by_role("teacher")[0]["sourcedId"]
        time.sleep(0.01)
        fake.modify("users", student, givenName="Renamed")
        fake.mark_deleted("users", teacher)
        fake.mark_deleted("enrollments", district.tables["enrollments"][0]["sourcedId"])

        delta, folder = _extract(integration, tmp_path, cursor=full.cursor)
        assert {delta.entity_modes[e] for e in entities.ROSTER_ENTITIES} == {"delta"}
        assert delta.cursor["since"] >= full.cursor["since"]
        assert sorted(_ids(folder)) == sorted([student, teacher])
        assert _ids(folder, "enrollments") == [district.tables["enrollments"][0]["sourcedId"]]
        assert delta.tables.get("orgs", 0) == 0 and delta.tables.get("classes", 0) == 0
        sent = server.requests_to(r"/users$")[-1]
        assert sent.query["filter"] == [f"dateLastModified>'{full.cursor['since']}'"]
        assert "filter=dateLastModified%3E%27" in sent.url

        con = duckdb.connect()
        status = dict(con.execute(
            f"SELECT record->>'$.sourcedId', record->>'$.status' FROM read_parquet('{folder / 'users.parquet'}')"
        ).fetchall())
        assert status == {student: "active", teacher: "tobedeleted"}


# -- settings ------------------------------------------------------------------------------

def test_base_url_may_be_the_root_or_end_with_the_version_path():
    common = dict(name="x", type="oneroster", client_id="id", client_secret="env:S", token_url="https://h/token")
    root = OneRosterApiSource(**common, base_url="https://h/sis")
    assert api_root(root.base_url, root.version) == "https://h/sis/ims/oneroster/rostering/v1p2"
    full = OneRosterApiSource(**common, base_url="https://h/sis/ims/oneroster/v1p1/")
    assert full.version == "1.1" and api_root(full.base_url, full.version) == "https://h/sis/ims/oneroster/v1p1"
    assert OneRosterApiSource(**{**common, "version": 1.1}, base_url="https://h").version == "1.1"
    with pytest.raises(ValueError, match="1.1 path but version is 1.2"):
        OneRosterApiSource(**common, version="1.2", base_url="https://h/ims/oneroster/v1p1")


def test_students_and_teachers_endpoints(passport_home, tmp_path, monkeypatch, district):
    with start_oneroster_fake(district, version="1.2") as server:
        integration = _integration(tmp_path, monkeypatch, server, district, users_endpoint="students_teachers",
                                   page_size=15)
        csv, api = canonical_tables(integration, "csv"), canonical_tables(integration, "api")
        assert not server.requests_to(r"/users$")
        expected = as_served_by_12(csv, district)
        people = [u["sourcedId"] for u in district.by_role("student", "teacher")]
        users = expected["users"]
        only = users.filter([s in people for s in users.column("sourced_id").to_pylist()])
        assert_same_canonical({**expected, "users": only}, api, entities_=("users", "enrollments", "classes"))
