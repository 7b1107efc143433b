"""The OneRoster 1.2 REST provider (`passport serve`) over a real socket: our own OneRoster connector
syncs a second district from it; each app reads only its district, years and shield; tokens die with
their client; bad requests get imsx errors; incremental pulls see changes and deletions; usage is kept."""

from __future__ import annotations


import dagster as dg
import httpx
import pytest
from click.testing import CliRunner

from passport_pipelines.cli.main import cli
from passport_pipelines.config.loader import load_district
from passport_pipelines.delivery.golden_frames import golden_frames
from passport_pipelines.delivery.privacy_shield import shield_frames
from passport_pipelines.model import entities
from passport_pipelines.rest_provider.app import Provider
from passport_pipelines.rest_provider.query_params import MAX_LIMIT
from passport_pipelines.rest_provider.warmer import warm_once
from passport_pipelines.store.golden_store import GoldenStore
from tests.conftest import write_integration
from tests.district_files import make_district, read_rows, write_rows
from tests.rest_provider_server import serving
from tests.sync_harness import run_sync

pytestmark = pytest.mark.slow
YEAR = "2025-2026"
ROOT = "/ims/oneroster/rostering/v1p2"
ROSTER = ("orgs", "academic_sessions", "courses", "classes", "users", "enrollments", "demographics")


def _api(name: str, client_id: str, **more) -> dict:
    return {"name": name, "type": "oneroster-1.2-api", "client_id": client_id, **more}


def _secret(district: str, destination: str) -> str:
    result = CliRunner().invoke(cli, ["api-clients", "add", district, destination])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def _token(url: str, client_id: str, secret: str, **form) -> httpx.Response:
    return httpx.post(f"{url}/oauth2/token", auth=(client_id, secret),
                      data={"grant_type": "client_credentials", **form})


class App:
    """One app's view of the provider: a token and GETs under a district and year."""

    def __init__(self, url: str, client_id: str, secret: str, district: str = "lakeside", year: str = YEAR):
        self.url, self.district, self.year = url, district, year
        response = _token(url, client_id, secret)
        assert response.status_code == 200, response.text
        self.token = response.json()["access_token"]

    def get(self, path: str, district: str | None = None, year: str | None = None, **params) -> httpx.Response:
        return httpx.get(f"{self.url}/{district or self.district}/{year or self.year}{ROOT}/{path}", params=params,
                         headers={"Authorization": f"Bearer {self.token}"}, timeout=120)

    def crawl(self, path: str, **params) -> list[dict]:
        out, offset = [], 0
        while True:
            page = self.get(path, limit=7, offset=offset, **params)
            assert page.status_code == 200, page.text
            records = next(iter(page.json().values()))
            out += records
            offset += len(records)
            if offset >= int(page.headers["X-Total-Count"]):
                return out


@pytest.fixture
def lakeside(tmp_path, store_url, monkeypatch):
    """lakeside synced from its CSV drop, with two apps: ``lms`` reads everything, ``tutor`` one
    school, no email, no demographics, core scope only."""
    drop = make_district(tmp_path / "drop", students=30)
    write_integration(tmp_path / "integrations", "lakeside", [{"name": "sis", "type": "csv", "path": str(drop)}],
                      destinations=[_api("lms", "lms-lakeside"),
                                    _api("tutor", "tutor-lakeside", scopes=["roster-core.readonly"],
                                         shield={"schools": ["sch-0002"],
                                                 "entities": ["orgs", "academic_sessions", "courses", "classes",
                                                              "users", "roles", "enrollments"],
                                                 "attributes": {"users": ["username", "given_name",
                                                                          "family_name"]}})])
    with dg.instance_for_test() as instance:
        summary = run_sync(instance, "lakeside")
        assert summary["status"] == "successfully in production", summary["errors"]
        store = GoldenStore(store_url)
        provider = Provider(store, snapshot_root=tmp_path / "snapshots")
        assert len(warm_once(provider.snapshots)) == 1  # as `passport serve` builds them, before any request
        with serving(provider) as url:
            yield {"url": url, "store": store, "provider": provider, "instance": instance, "drop": drop,
                   "tmp": tmp_path, "monkeypatch": monkeypatch,
                   "lms": _secret("lakeside", "lms"), "tutor": _secret("lakeside", "tutor")}
        provider.snapshots.close()
        store.dispose()


def _rows(table, entity: str, *, ids: str = "sourced_id") -> dict[str, dict]:
    skip = {"org_sourced_ids", "extensions"}
    cols = [c for c in entities.content_columns(entity) if c not in skip]
    return {r[ids]: {c: r[c] for c in cols} | {"orgs": sorted((r.get("org_sourced_ids") or "").split(","))}
            for r in table}


def test_our_oneroster_connector_syncs_a_second_district_from_the_api_and_gets_the_same_golden_data(lakeside):
    url = lakeside["url"]
    lakeside["monkeypatch"].setenv("LMS_SECRET", lakeside["lms"])
    write_integration(lakeside["tmp"] / "integrations", "mirror", [{
        "name": "hub", "type": "oneroster", "version": "1.2", "auth": "oauth2",
        "base_url": f"{url}/lakeside/{YEAR}", "token_url": f"{url}/oauth2/token",
        "client_id": "lms-lakeside", "client_secret": "env:LMS_SECRET"}], destinations=[])
    mirrored = run_sync(lakeside["instance"], "mirror")
    assert mirrored["status"] == "successfully in production", mirrored["errors"]

    store = lakeside["store"]
    source = golden_frames(load_district("lakeside"), store.latest_version("lakeside", YEAR), store).frames
    for entity in ROSTER:
        served = _rows(source[entity].to_dict("records"), entity)
        got = _rows(store.current_records("mirror", YEAR, entity).to_pylist(), entity)
        assert got == served, entity  # the mirror's ids are lakeside's golden ids
    roles = {(r["user_sourced_id"], r["org_sourced_id"], r["role"], r["role_type"])
             for r in source["roles"].to_dict("records")}
    assert {(r["user_sourced_id"], r["org_sourced_id"], r["role"], r["role_type"])
            for r in store.current_records("mirror", YEAR, "roles").to_pylist()} == roles


def test_an_app_reads_only_its_district_its_years_and_its_shield(lakeside):
    url, store = lakeside["url"], lakeside["store"]
    tutor = App(url, "tutor-lakeside", lakeside["tutor"])
    golden = golden_frames(load_district("lakeside"), store.latest_version("lakeside", YEAR), store)
    dest = next(d for d in load_district("lakeside").api_destinations if d.name == "tutor")
    expected, _ = shield_frames(golden.frames, dest.shield, org_keys=golden.org_keys)

    users = tutor.crawl("users")
    assert {u["sourcedId"] for u in users} == set(expected["users"]["sourced_id"])
    assert len(users) < len(golden.frames["users"])  # the other school's people are not there
    assert all("email" not in u and "identifier" not in u and u["givenName"] for u in users)
    assert {c["sourcedId"] for c in tutor.crawl("classes")} == set(expected["classes"]["sourced_id"])
    # demographics: neither its scope nor its shield
    assert tutor.get("demographics").status_code == 403
    # a school of another shield is unknown to it
    other = set(golden.frames["orgs"].query("type == 'school'")["sourced_id"]) - set(expected["orgs"]["sourced_id"])
    assert other and tutor.get(f"schools/{other.pop()}").status_code == 404
    # another district, another year
    wrong = tutor.get("users", district="mirror")
    assert wrong.status_code == 403 and wrong.json()["imsx_codeMajor"] == "failure"
    assert tutor.get("users", year="2024-2025").status_code == 403
    # a scope it may not have
    assert _token(url, "tutor-lakeside", lakeside["tutor"], scope="roster.readonly").json()["error"] == "invalid_scope"


def test_a_removed_or_rotated_client_is_refused_at_once(lakeside):
    url = lakeside["url"]
    lms = App(url, "lms-lakeside", lakeside["lms"])
    assert lms.get("users").status_code == 200
    rotated = CliRunner().invoke(cli, ["api-clients", "rotate", "lakeside", "lms"])
    assert rotated.exit_code == 0, rotated.output
    refused = lms.get("users")
    assert refused.status_code == 401 and "unauthorisedrequest" in refused.text
    assert _token(url, "lms-lakeside", lakeside["lms"]).status_code == 401  # the old secret
    lms = App(url, "lms-lakeside", rotated.output.strip().splitlines()[-1])
    assert lms.get("users").status_code == 200
    assert CliRunner().invoke(cli, ["api-clients", "remove", "lakeside", "lms"]).exit_code == 0
    assert lms.get("users").status_code == 401
    assert lms.get("orgs").status_code == 401
    assert httpx.get(f"{url}/lakeside/{YEAR}{ROOT}/users").status_code == 401  # no token at all


BAD_REQUESTS = [
    ({"fields": "givenName,shoeSize"}, "invalid_selection_field"),
    ({"sort": "shoeSize"}, "invalid_sort_field"),
    ({"filter": "shoeSize='9'"}, "invalid_filter_field"),
    ({"filter": "givenName='Ann"}, "invalid_filter_field"),
    ({"filter": "givenName='Ann' XOR familyName='B'"}, "invalid_filter_field"),
    ({"filter": "dateLastModified>'yesterday'"}, "invalid_filter_field"),
    ({"limit": "-5"}, "invaliddata"),
    ({"limit": str(MAX_LIMIT + 1)}, "invaliddata"),
    ({"offset": "ten"}, "invaliddata"),
    ({"orderBy": "sideways"}, "invaliddata"),
]


def test_bad_requests_get_spec_errors(lakeside):
    lms = App(lakeside["url"], "lms-lakeside", lakeside["lms"])
    for params, minor in BAD_REQUESTS:
        response = lms.get("users", **params)
        assert response.status_code == 400, params
        body = response.json()
        assert body["imsx_codeMajor"] == "failure"
        assert body["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == minor, params
        assert "Traceback" not in response.text
    unknown = lms.get("users/usr-nobody")
    assert unknown.status_code == 404 and "unknownobject" in unknown.text


def test_collections_page_sort_filter_and_nest(lakeside):
    lms = App(lakeside["url"], "lms-lakeside", lakeside["lms"])
    first = lms.get("users", limit=5)
    total = int(first.headers["X-Total-Count"])
    assert 'rel="next"' in first.headers["Link"] and 'rel="last"' in first.headers["Link"]
    everyone = lms.crawl("users")
    ids = [u["sourcedId"] for u in everyone]
    assert ids == sorted(ids) and len(set(ids)) == total
    deep = lms.get("users", limit=3, offset=total - 4).json()["users"]
    assert [u["sourcedId"] for u in deep] == ids[-4:-1]
    backwards = lms.get("users", limit=3, orderBy="desc", sort="sourcedId").json()["users"]
    assert [u["sourcedId"] for u in backwards] == ids[::-1][:3]
    names = [u["familyName"] for u in lms.get("users", sort="familyName", limit=MAX_LIMIT).json()["users"]]
    assert names == sorted(names)
    chosen = everyone[0]
    found = lms.get("users", filter=f"givenName='{chosen['givenName']}' AND familyName='{chosen['familyName']}'")
    assert chosen["sourcedId"] in {u["sourcedId"] for u in found.json()["users"]}
    only = lms.get(f"users/{chosen['sourcedId']}", fields="sourcedId,givenName").json()
    assert only == {"user": {"sourcedId": chosen["sourcedId"], "givenName": chosen["givenName"]}}
    students = lms.crawl("students")
    assert students and all(r["roles"][0]["role"] == "student" for r in students)
    enrollments = lms.crawl("enrollments")
    some = next(e for e in enrollments if e["role"] == "student")
    in_class = {u["sourcedId"] for u in lms.get(f"classes/{some['class']['sourcedId']}/students").json()["users"]}
    assert some["user"]["sourcedId"] in in_class
    assert in_class == {e["user"]["sourcedId"] for e in enrollments
                        if e["class"]["sourcedId"] == some["class"]["sourcedId"] and e["role"] == "student"}
    classes = {c["sourcedId"] for c in lms.get(f"students/{some['user']['sourcedId']}/classes").json()["classes"]}
    assert some["class"]["sourcedId"] in classes
    school = some["school"]["sourcedId"]
    at_school = lms.get(f"schools/{school}/classes/{some['class']['sourcedId']}/enrollments").json()["enrollments"]
    assert some["sourcedId"] in {e["sourcedId"] for e in at_school}
    assert lms.get("schools/nowhere/classes").status_code == 404
    assert lms.get("nothing-here").status_code == 404


def test_date_last_modified_filters_return_changes_and_deletions(lakeside):
    lms = App(lakeside["url"], "lms-lakeside", lakeside["lms"])
    before = {u["sourcedId"]: u for u in lms.crawl("users")}
    since = max(u["dateLastModified"] for u in before.values())
    assert lms.get("users", filter=f"dateLastModified>'{since}'").json()["users"] == []

    drop = lakeside["drop"]
    header, users = read_rows(drop / "users.csv")
    students = [u for u in users if u["role"] == "student"]
    gone_id = students[0]["sourcedId"]
    students[1]["givenName"] = "Renamed"
    write_rows(drop / "users.csv", header, [u for u in users if u["sourcedId"] != gone_id])
    for name, column in (("enrollments.csv", "userSourcedId"), ("demographics.csv", "sourcedId")):
        header, rows = read_rows(drop / name)
        write_rows(drop / name, header, [r for r in rows if r[column] != gone_id])
    second = run_sync(lakeside["instance"], "lakeside")
    assert second["version"] == 2 and second["status"] == "successfully in production", second["errors"]
    assert lms.get("users", limit=1).headers["X-Passport-Version"] == "2"  # built by the first request after it

    changed = lms.get("users", filter=f"dateLastModified>'{since}'").json()["users"]
    [deleted] = [u for u in changed if u["status"] == "tobedeleted"]
    assert set(deleted) == {"sourcedId", "status", "dateLastModified"}
    assert deleted["dateLastModified"] > since and deleted["sourcedId"] in before
    renamed = next(u for u in changed if u.get("givenName") == "Renamed")
    # The renamed student, and whoever listed the one who left among their agents (their record changed).
    linked = {u["sourcedId"] for u in before.values()
              if deleted["sourcedId"] in {a["sourcedId"] for a in u.get("agents", [])}}
    assert {u["sourcedId"] for u in changed if u["status"] == "active"} == {renamed["sourcedId"], *linked}
    by_status = {"tobedeleted": deleted}
    assert lms.get(f"users/{by_status['tobedeleted']['sourcedId']}").status_code == 404
    # A full read has only the active ones.
    assert len(lms.crawl("users")) == len(before) - 1


def test_usage_per_client_shows_in_history(lakeside):
    lms = App(lakeside["url"], "lms-lakeside", lakeside["lms"])
    tutor = App(lakeside["url"], "tutor-lakeside", lakeside["tutor"])
    served = len(lms.crawl("users"))
    assert tutor.get("demographics").status_code == 403
    lakeside["provider"].meter.flush()
    out = CliRunner().invoke(cli, ["history", "lakeside"]).output
    lms_line = next(line for line in out.splitlines() if line.startswith("api lms-lakeside"))
    assert f"{served} record(s) served" in lms_line and "0 refused" in lms_line
    tutor_line = next(line for line in out.splitlines() if line.startswith("api tutor-lakeside"))
    assert "1 refused" in tutor_line and "0 record(s)" in tutor_line
    assert lakeside["lms"] not in out


def test_an_api_destination_is_checked_when_the_integration_is_read(tmp_path, passport_home):
    from passport_pipelines.config.loader import IntegrationError

    drop = make_district(tmp_path / "drop", students=5)
    write_integration(tmp_path / "integrations", "lakeside", [{"name": "sis", "type": "csv", "path": str(drop)}],
                      destinations=[_api("lms", "lms-lakeside", school_years=["2030-2031"])])
    with pytest.raises(IntegrationError, match="2030-2031"):
        load_district("lakeside")
    write_integration(tmp_path / "integrations", "lakeside", [{"name": "sis", "type": "csv", "path": str(drop)}],
                      destinations=[_api("lms", "lms-lakeside", scopes=["gradebook.readonly"])])
    with pytest.raises(IntegrationError, match="scopes"):
        load_district("lakeside")

