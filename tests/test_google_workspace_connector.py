"""Google Workspace connector against the fake Workspace: service-account auth with domain-wide
delegation, users.list paging, faults, failure kinds, and the same staff and students as the CSV drop."""

from __future__ import annotations

import json
import math
import time

import httpx
import jwt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from passport_pipelines.config.loader import load_integration
from passport_pipelines.normalize.rosters import normalize_source
from passport_pipelines.sources.errors import ConnectorError
from passport_pipelines.sources.google_workspace.connector import DIRECTORY_SCOPE, GoogleWorkspaceConnector
from tests.canonical_tables import assert_same_canonical, canonical_tables, extract
from tests.conftest import write_integration
from tests.fakes.district_data import make_district_data
from tests.fakes.google_directory_server import (
    ADMIN_EMAIL,
    USERS_PATH,
    account,
    google_source_config,
    google_user_id,
    make_service_account_key,
    start_google_fake,
)

GOOGLE_ROLES = ("student", "teacher", "administrator")
COLUMNS = ["sourced_id", "given_name", "family_name", "email", "enabled_user", "role", "username"]


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    return make_district_data(tmp_path_factory.mktemp("drop"), students=45)


def connector(**kw) -> GoogleWorkspaceConnector:
    return GoogleWorkspaceConnector(**{"base_delay_seconds": 0.01, "max_retry_seconds": 10, **kw})


def integration_for(tmp_path, monkeypatch, server, *, csv=None, **overrides):
    config, env = google_source_config(server)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    sources = [{**config, **overrides}]
    if csv is not None:
        sources.insert(0, {"name": "csv", "type": "csv", "path": str(csv.folder)})
    return load_integration(write_integration(tmp_path / "integrations", "gw", sources))


def users_of(tables) -> list[dict]:
    return sorted(tables["users"].to_pylist(), key=lambda r: r["sourced_id"])


def test_same_staff_and_students_as_the_csv_drop(passport_home, tmp_path, monkeypatch, district):
    with start_google_fake(district) as server:
        integration = integration_for(tmp_path, monkeypatch, server, csv=district, page_size=7)
        csv = canonical_tables(integration, "csv")
        google = canonical_tables(integration, "google", connector=connector())
        header, claims = server.google.assertions[0]
    csv["users"] = csv["users"].filter(pc.is_in(csv["users"]["role"], pa.array(GOOGLE_ROLES)))
    assert csv["users"].num_rows == len(district.by_role(*GOOGLE_ROLES))
    assert_same_canonical(csv, google, entities_=("users",), columns={"users": COLUMNS})
    # The IT admin the service account acts as sits in /IT, which no role maps: not a user.
    assert ADMIN_EMAIL not in google["users"]["email"].to_pylist()
    # Google carries no orgs: no roles rows, and no other entity.
    assert all(google[e].num_rows == 0 for e in google if e != "users")
    assert {r["role"] for r in google["users"].to_pylist()} == set(GOOGLE_ROLES)
    # The assertion the fake verified with the public key: delegation to the admin, read-only scope.
    assert header["alg"] == "RS256" and header["kid"] == server.key["private_key_id"]
    assert (claims["iss"], claims["sub"], claims["scope"]) == (server.key["client_email"], ADMIN_EMAIL, DIRECTORY_SCOPE)
    assert claims["aud"] == server.key["token_uri"] and 0 < claims["exp"] - claims["iat"] <= 3600


def test_pages_follow_next_page_token_one_after_another(passport_home, tmp_path, monkeypatch, district):
    with start_google_fake(district) as server:
        integration = integration_for(tmp_path, monkeypatch, server, page_size=9)
        result = extract(integration, "google", connector=connector())
        pages = server.requests_to(USERS_PATH)
    accounts = len(district.by_role(*GOOGLE_ROLES)) + 1  # and the IT admin
    assert result.rows == {"org_unit_roles": 3, "users": accounts}
    assert len(pages) == math.ceil(accounts / 9) and result.requests == len(pages) + 1  # + the token
    assert result.file_modes["users"] == "bulk" and result.file_modes["roles"] == "absent"
    assert all((p.arg("customer"), p.arg("maxResults"), p.arg("orderBy")) == ("my_customer", "9", "email")
               for p in pages)
    assert pages[0].arg("pageToken") is None and all(p.arg("pageToken") for p in pages[1:])


def test_domain_reads_only_that_domain(passport_home, tmp_path, monkeypatch, district):
    with start_google_fake(district) as server:
        integration = integration_for(tmp_path, monkeypatch, server, domain="students.passport-usd.org")
        users = users_of(canonical_tables(integration, "google", connector=connector()))
        assert server.requests_to(USERS_PATH)[0].arg("domain") == "students.passport-usd.org"
        assert server.requests_to(USERS_PATH)[0].arg("customer") is None
    assert [u["sourced_id"] for u in users] == sorted(u["sourcedId"] for u in district.by_role("student"))


def test_suspension_fallback_id_unmapped_units_and_longest_prefix(passport_home, tmp_path, monkeypatch, district):
    student = district.by_role("student")[0]
    with start_google_fake(district) as server:
        server.google.user(student["email"])["suspended"] = True
        server.google.add_user(account("coach.kim@passport-usd.org", "Ada", "Kim", "/Staff/Coaches"))
        server.google.add_user(account("kiosk@passport-usd.org", "Library", "Kiosk", "/Devices", sis_id="kiosk-1"))
        server.google.add_user(account("aide.lee@passport-usd.org", "Bo", "Lee", "/staff/aides/north", sis_id="aid-1"))
        integration = integration_for(tmp_path, monkeypatch, server, role_by_org_unit={
            "/Students": "student", "/Staff": "teacher", "/Staff/Aides": "aide",
            "/Staff/Administrators": "administrator"})
        users = {u["email"]: u for u in users_of(canonical_tables(integration, "google", connector=connector()))}
    suspended = users[student["email"]]
    assert suspended["enabled_user"] is False and suspended["sourced_id"] == student["sourcedId"]
    coach = users["coach.kim@passport-usd.org"]  # no SIS id in externalIds: Google's id stands in
    assert coach["sourced_id"] == google_user_id(coach["email"])
    assert (coach["role"], coach["username"]) == ("teacher", "coach.kim")
    assert json.loads(coach["extensions"]) == {"googleId": coach["sourced_id"], "orgUnitPath": "/Staff/Coaches"}
    assert users["aide.lee@passport-usd.org"]["role"] == "aide"  # longest prefix, any case
    assert "kiosk@passport-usd.org" not in users


def test_rate_limits_server_errors_and_slow_answers_are_retried(passport_home, tmp_path, monkeypatch, district):
    rate_403 = {"error": {"code": 403, "message": "Quota exceeded for quota metric 'Queries'", "errors": [
        {"message": "Quota exceeded", "domain": "usageLimits", "reason": "userRateLimitExceeded"}],
        "status": "PERMISSION_DENIED"}}
    backend = {"error": {"code": 503, "message": "Service unavailable. Please try again", "errors": [
        {"message": "Service unavailable. Please try again", "domain": "global", "reason": "backendError"}]}}
    with start_google_fake(district) as server:
        integration = integration_for(tmp_path, monkeypatch, server, page_size=10, timeout_seconds=0.5)
        server.faults.add("/token", status=500, times=1)
        server.faults.add(USERS_PATH, status=429, retry_after=0.1, times=2)
        server.faults.add(USERS_PATH, status=403, body=rate_403, times=2)
        server.faults.add(USERS_PATH, status=503, body=backend, times=1)
        server.faults.slow(USERS_PATH, seconds=1.2, times=1)
        result = extract(integration, "google", connector=connector())
        fired = [kind for _, kind in server.faults.fired]
    assert fired.count("403") == 2 and fired.count("429") == 2 and "slow" in fired
    assert result.retries == 7 and result.rows["users"] == len(district.by_role(*GOOGLE_ROLES)) + 1


def test_a_403_that_is_not_a_rate_limit_fails_at_once(passport_home, tmp_path, monkeypatch, district):
    daily = {"error": {"code": 403, "message": "Daily Limit Exceeded", "errors": [
        {"message": "Daily Limit Exceeded", "domain": "usageLimits", "reason": "dailyLimitExceeded"}]}}
    with start_google_fake(district) as server:
        integration = integration_for(tmp_path, monkeypatch, server)
        server.faults.add(USERS_PATH, status=403, body=daily, times=5)
        with pytest.raises(ConnectorError) as err:
            extract(integration, "google", connector=connector())
        assert len(server.requests_to(USERS_PATH)) == 1
    assert err.value.kind == "missing_scope" and "dailyLimitExceeded" in str(err.value)


def test_token_expiry_and_deletions_between_pages(passport_home, tmp_path, monkeypatch, district):
    """Tokens expire mid-extract: one new assertion, then on. Accounts deleted between pages: one
    already read stays read, one not yet read is gone. An account renamed after it was read comes
    round again on a later page (page tokens are positions, not snapshots): it is kept once."""
    with start_google_fake(district) as server:
        integration = integration_for(tmp_path, monkeypatch, server, page_size=10)
        ordered = sorted(u["email"].lower() for u in district.by_role(*GOOGLE_ROLES))
        early, late, renamed = ordered[2], ordered[-3], ordered[0]
        handle, calls = server.handle, []

        def between_pages(request):
            if request.path == USERS_PATH:
                calls.append(request)
                if len(calls) == 2:
                    server.tokens.expire_all()
                    server.google.delete_user(early)
                    server.google.delete_user(late)
                    server.google.rename_user(renamed, "zz." + renamed)
            return handle(request)

        server.handle = between_pages
        result = extract(integration, "google", connector=connector())
        assert len(server.google.assertions) == 2
    assert result.rows["users"] == len(ordered)  # + the IT admin - the late deletion; the renamed one once
    normalized = normalize_source(result, district=integration.district, school_year="2025-2026")
    users = pq.read_table(f"{normalized.folder}/users.parquet").to_pylist()
    emails = [u["email"] for u in users]
    assert len(emails) == len(set(emails)) == len(ordered) - 1
    assert early in emails and late not in emails and renamed in emails
    assert len(server.google.user("zz." + renamed)["emails"]) == 2 and "zz." + renamed not in emails


def test_failures_say_what_to_fix(passport_home, tmp_path, monkeypatch, district):
    gw = connector()
    with start_google_fake(district) as server:
        good = integration_for(tmp_path, monkeypatch, server)
        check = gw.test_connection(good, good.source("google"))
        assert check.ok, check.as_dict()
        assert [s.name for s in check.steps] == ["service account key", "token", "list users"]
        assert server.requests_to(USERS_PATH)[-1].arg("maxResults") == "1"

        def failure(**overrides) -> str:
            integration = integration_for(tmp_path, monkeypatch, server, **overrides)
            result = gw.test_connection(integration, integration.source("google"))
            return result.failure

        assert failure(delegated_admin="nobody@passport-usd.org") == "bad_credentials"  # invalid_grant
        teacher = district.by_role("teacher")[0]["email"]
        assert failure(delegated_admin=teacher) == "missing_scope"  # a user, not an admin: 403 forbidden
        assert failure(base_url=server.url + "/wrong") == "not_found"
        assert failure(service_account_key="env:NOT_SET_ANYWHERE") == "missing_secret"
        other_key, _ = make_service_account_key(server.key["client_email"], server.key["token_uri"])
        monkeypatch.setenv("OTHER_KEY", json.dumps({**other_key, "private_key_id": server.key["private_key_id"]}))
        assert failure(service_account_key="env:OTHER_KEY") == "bad_credentials"  # Invalid JWT Signature
        monkeypatch.setenv("NOT_A_KEY", "{not json")
        assert failure(service_account_key="env:NOT_A_KEY") == "bad_credentials"
        secret_text = server.key["private_key"]
    for step in check.steps:
        assert secret_text[40:80] not in step.detail
    with start_google_fake(district, delegated_scopes=()) as server:
        integration = integration_for(tmp_path, monkeypatch, server)
        result = gw.test_connection(integration, integration.source("google"))
    assert result.failure == "missing_scope" and "unauthorized_client" in result.steps[-1].detail


def test_key_file_path_and_tls(passport_home, tmp_path, monkeypatch, district):
    with start_google_fake(district, tls=True, tmp=tmp_path / "tls") as server:
        config, env = google_source_config(server, key_path=tmp_path / "sa.json")
        assert env["GOOGLE_SERVICE_ACCOUNT_KEY"] == str(tmp_path / "sa.json")
        monkeypatch.setenv("GOOGLE_SERVICE_ACCOUNT_KEY", env["GOOGLE_SERVICE_ACCOUNT_KEY"])
        integration = load_integration(write_integration(tmp_path / "integrations", "gw", [config]))
        result = extract(integration, "google", connector=connector())
    assert result.rows["users"] == len(district.by_role(*GOOGLE_ROLES)) + 1


def test_the_fake_rejects_what_google_rejects(district):
    with start_google_fake(district) as server:
        key = server.key
        now = time.time()

        def grant(**claims) -> httpx.Response:
            body = {"iss": key["client_email"], "sub": ADMIN_EMAIL, "scope": DIRECTORY_SCOPE,
                    "aud": key["token_uri"], "iat": int(now), "exp": int(now) + 3600, **claims}
            assertion = jwt.encode(body, key["private_key"], algorithm="RS256", headers={"kid": key["private_key_id"]})
            return httpx.post(key["token_uri"], data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                                      "assertion": assertion})

        assert grant(exp=int(now) + 7200).json()["error"] == "invalid_grant"  # longer than an hour
        assert grant(aud="https://oauth2.googleapis.com/token").json()["error"] == "invalid_grant"
        assert grant(scope="").json()["error"] == "invalid_scope"
        no_delegation = grant(scope="https://www.googleapis.com/auth/admin.directory.group")
        assert (no_delegation.status_code, no_delegation.json()["error"]) == (401, "unauthorized_client")
        token = grant().json()["access_token"]
        users = server.url + USERS_PATH
        auth = {"Authorization": f"Bearer {token}"}
        too_many = httpx.get(users, params={"customer": "my_customer", "maxResults": "501"}, headers=auth)
        assert too_many.status_code == 400
        assert too_many.json()["error"]["message"] == "Invalid value '501'. Values must be within the range: [1, 500]"
        assert httpx.get(users, params={"maxResults": "5"}, headers=auth).status_code == 400  # no customer/domain
        bad_page = httpx.get(users, params={"customer": "my_customer", "pageToken": "abc"}, headers=auth)
        assert bad_page.status_code == 400
        unauthenticated = httpx.get(users, params={"customer": "my_customer"})
        assert unauthenticated.json()["error"]["errors"][0]["reason"] == "authError"
        last = httpx.get(users, params={"customer": "my_customer", "maxResults": "500"}, headers=auth).json()
        assert "nextPageToken" not in last and last["kind"] == "admin#directory#users"
