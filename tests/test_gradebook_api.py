"""Gradebook and resources through the OneRoster REST connector: 1.1 under its one root, 1.2 from the
Gradebook and Resources services with their own scopes; read only when the source lists the entities;
the same canonical rows as the district's CSV drop."""

from __future__ import annotations

import pytest

from passport_pipelines.config.loader import load_integration
from passport_pipelines.model import entities
from passport_pipelines.sources.errors import ConnectorError
from tests.canonical_tables import assert_same_canonical, canonical_tables
from tests.conftest import write_integration
from tests.fakes.district_data import make_district_data
from tests.fakes.oneroster_api_server import (
    CORE,
    DEMOGRAPHICS,
    GRADEBOOK,
    RESOURCE,
    ROSTER,
    oneroster_source_config,
    start_oneroster_fake,
)

ROSTER_LISTED = ["orgs", "academic_sessions", "courses", "classes", "users", "enrollments", "demographics", "agents"]
IN_11 = ["categories", "line_items", "results", "resources", "class_resources", "course_resources"]
# The links REST gives ids of its own ("<class>:<resource>"), with no title: compared on what they link.
LINKS = {"class_resources": ["class_sourced_id", "resource_sourced_id"],
         "course_resources": ["course_sourced_id", "resource_sourced_id"]}


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    return make_district_data(tmp_path_factory.mktemp("drop"), students=30, gradebook=True)


def _integration(tmp_path, monkeypatch, server, data, **settings):
    config, env = oneroster_source_config(server, name="api", **settings)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return load_integration(write_integration(tmp_path / "integrations", "eq", [
        {"name": "csv", "type": "csv", "path": str(data.folder)}, config]))


@pytest.mark.parametrize("auth", ["oauth1", "oauth2"])
def test_oneroster_11_gradebook_gives_the_csv_drops_rows(passport_home, tmp_path, monkeypatch, district, auth):
    with start_oneroster_fake(district, version="1.1", auth=auth) as server:
        integration = _integration(tmp_path, monkeypatch, server, district, entities=[*ROSTER_LISTED, *IN_11],
                                   page_size=100)
        csv, api = canonical_tables(integration, "csv"), canonical_tables(integration, "api")
        assert all(r.path.startswith("/ims/oneroster/v1p1/") for r in server.requests_to(r"/lineItems|/results"))
        assert server.requests_to(r"/classes/[^/]+/resources$") and server.requests_to(r"/courses/[^/]+/resources$")
    assert api["results"].num_rows > 500 and api["line_items"].num_rows > 200
    assert_same_canonical(csv, api, entities_=tuple(e for e in IN_11 if e not in LINKS))
    assert_same_canonical(csv, api, entities_=tuple(LINKS), columns=LINKS)


def test_oneroster_12_gradebook_comes_from_its_services_with_their_scopes(passport_home, tmp_path, monkeypatch,
                                                                          district):
    with start_oneroster_fake(district, version="1.2") as server:
        fake = server.oneroster
        # 1.2 only: a score scale, named by a line item and a result, with learning objectives on both.
        line_item = district.tables["lineItems"][0]["sourcedId"]
        result = next(r["sourcedId"] for r in district.tables["results"] if r["lineItemSourcedId"] == line_item)
        fake.add("scoreScales", {"sourcedId": "scl-1", "title": "Letters", "type": "letter",
                                 "class": fake.ref("classes", district.tables["lineItems"][0]["classSourcedId"], "class"),
                                 "scoreScaleValue": [{"itemValueLHS": "A", "itemValueRHS": "90"},
                                                     {"itemValueLHS": "B", "itemValueRHS": "80"}]})
        fake.modify("lineItems", line_item, scoreScale=fake.ref("scoreScales", "scl-1", "scoreScale"),
                    learningObjectiveSet=[{"source": "case", "learningObjectiveIds": ["LO-1", "LO-2"]}])
        fake.modify("results", result, scoreScale=fake.ref("scoreScales", "scl-1", "scoreScale"), textScore="A",
                    learningObjectiveSet=[{"source": "case", "learningObjectiveResults": [
                        {"learningObjectiveId": "LO-1", "score": 3, "textScore": "meets"}]}])
        fake.give_resource("users", district.by_role("student")[0]["sourcedId"],
                           district.tables["resources"][0]["sourcedId"])
        integration = _integration(tmp_path, monkeypatch, server, district, page_size=200,
                                   entities=[*ROSTER_LISTED, *entities.GRADEBOOK_ENTITIES])
        api = canonical_tables(integration, "api")
        token_form = server.requests_to(r"/oauth2/token")[0].form()
        assert set(token_form["scope"].split()) == {CORE, ROSTER, DEMOGRAPHICS, GRADEBOOK, RESOURCE}
        assert server.requests_to(r"^/ims/oneroster/gradebook/v1p2/results$")
        assert server.requests_to(r"^/ims/oneroster/resources/v1p2/classes/[^/]+/resources$")
    [scale] = api["score_scales"].to_pylist()
    assert scale["score_scale_value"] == "{A:90},{B:80}" and scale["class_sourced_id"]
    assert api["line_item_score_scales"].to_pylist()[0]["line_item_sourced_id"] == line_item
    assert api["result_score_scales"].to_pylist()[0]["result_sourced_id"] == result
    assert sorted(api["line_item_learning_objective_ids"].column("learning_objective_id").to_pylist()) == ["LO-1", "LO-2"]
    [objective] = api["result_learning_objective_ids"].to_pylist()
    assert (objective["objective_source"], objective["score"], objective["text_score"]) == ("case", "3", "meets")
    assert api["user_resources"].num_rows == 1
    # 1.2 names each line item's school and session, and each result's class.
    assert api["line_items"].column("school_sourced_id").null_count == 0
    assert api["results"].column("class_sourced_id").null_count == 0


def test_a_source_that_does_not_list_the_gradebook_never_asks_for_it(passport_home, tmp_path, monkeypatch, district):
    with start_oneroster_fake(district, version="1.2") as server:
        integration = _integration(tmp_path, monkeypatch, server, district)
        api = canonical_tables(integration, "api")
        token_form = server.requests_to(r"/oauth2/token")[0].form()
        assert not server.requests_to(r"/gradebook/|/resources")
    assert GRADEBOOK not in token_form["scope"] and api["users"].num_rows > 30
    assert all(api[e].num_rows == 0 for e in entities.GRADEBOOK_ENTITIES)


def test_a_gradebook_the_token_may_not_read_is_a_named_error(passport_home, tmp_path, monkeypatch, district):
    with start_oneroster_fake(district, version="1.2", allowed_scopes=(CORE, ROSTER, DEMOGRAPHICS, GRADEBOOK)) as server:
        integration = _integration(tmp_path, monkeypatch, server, district, scopes=[CORE, ROSTER, GRADEBOOK],
                                   entities=[*ROSTER_LISTED, "categories", "line_items", "results", "resources"])
        with pytest.raises(ConnectorError) as err:
            canonical_tables(integration, "api")
    assert err.value.kind == "missing_scope" and "/ims/oneroster/resources/v1p2/resources" in err.value.where
