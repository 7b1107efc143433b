"""The reconciliation settings: domains of uniqueness and distinguishing attributes, with the
messages a district data engineer sees when a setting is wrong."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from passport_pipelines.config.reconciliation import DEFAULT_PERSON_DOMAINS, MatchDomain, Reconciliation


def _error(model, **data) -> str:
    with pytest.raises(ValidationError) as exc:
        model.model_validate(data)
    return str(exc.value)


def test_defaults_are_name_and_email_exact_unattended_and_birth_date_state_id():
    rec = Reconciliation()
    (domain,) = rec.domains_for("users")
    assert domain == DEFAULT_PERSON_DOMAINS[0]
    assert (domain.name, domain.attributes, domain.match, domain.threshold, domain.resolution) == (
        "name_and_email", ["given_name", "family_name", "email"], "exact", None, "unattended")
    assert rec.distinguishing == ["birth_date", "state_id"]
    assert rec.domains_for("courses") == []


def test_a_full_configuration_keeps_order_and_custom_attributes():
    rec = Reconciliation.model_validate({
        "domains": {"users": [
            {"name": "state_id", "attributes": ["state_id"]},
            {"name": "name_dob", "attributes": ["given_name", "family_name", "birth_date"], "match": "fuzzy",
             "threshold": 0.92, "resolution": "manual"},
            {"name": "district_id", "attributes": ["ssid_2", "metadata.local_id"]},
        ]},
        "distinguishing": ["birth_date"],
    })
    assert [d.name for d in rec.domains_for("users")] == ["state_id", "name_dob", "district_id"]
    assert rec.domains_for("users")[1].threshold == 0.92
    assert rec.domains_for("users")[1].resolution == "manual"
    assert rec.distinguishing == ["birth_date"]


def test_fuzzy_needs_a_threshold():
    msg = _error(MatchDomain, name="n", attributes=["given_name"], match="fuzzy")
    assert "domain n: match: fuzzy needs a threshold, 0 < threshold <= 1" in msg


@pytest.mark.parametrize("threshold", [0, -0.1, 1.01, 5])
def test_threshold_out_of_range(threshold):
    msg = _error(MatchDomain, name="n", attributes=["given_name"], match="fuzzy", threshold=threshold)
    assert f"domain n: threshold must be > 0 and <= 1, got {threshold}" in msg


def test_threshold_edges_one_and_just_above_zero_are_valid():
    assert MatchDomain(name="n", attributes=["email"], match="fuzzy", threshold=1).threshold == 1
    assert MatchDomain(name="n", attributes=["email"], match="fuzzy", threshold=0.001).threshold == 0.001


def test_exact_forbids_a_threshold():
    msg = _error(MatchDomain, name="n", attributes=["email"], threshold=0.9)
    assert "domain n: threshold applies to match: fuzzy only" in msg


def test_attributes_non_empty_unique_and_well_formed():
    assert "a domain needs at least one attribute" in _error(MatchDomain, name="n", attributes=[])
    assert "attribute 'email' is given twice" in _error(MatchDomain, name="n", attributes=["email", "email"])
    msg = _error(MatchDomain, name="n", attributes=["first name"])
    assert "'first name' is not an attribute name" in msg and "given_name" in msg
    assert "'record_key' identifies a record" in _error(MatchDomain, name="n", attributes=["record_key"])


def test_unknown_keys_and_values_are_refused():
    assert "Extra inputs are not permitted" in _error(MatchDomain, name="n", attributes=["email"], weight=2)
    assert "'exact' or 'fuzzy'" in _error(MatchDomain, name="n", attributes=["email"], match="sometimes")
    assert "'unattended' or 'manual'" in _error(MatchDomain, name="n", attributes=["email"], resolution="auto")
    assert "a domain name is 1-64 letters" in _error(MatchDomain, name="two words", attributes=["email"])


def test_people_orgs_sessions_courses_and_classes_are_supported():
    msg = _error(Reconciliation, domains={"enrollments": [{"name": "n", "attributes": ["role"]}]})
    assert "duplicates are searched among users, orgs, academic_sessions, courses, classes only, not 'enrollments'" in msg


def test_the_domains_of_orgs_sessions_courses_and_classes_are_exact_on_their_own_attributes():
    msg = _error(Reconciliation, domains={"orgs": [{"name": "n", "attributes": ["email"]}]})
    assert "domains.orgs: domain n: 'email' is not an attribute of orgs (use name, type, identifier" in msg
    msg = _error(Reconciliation, domains={"courses": [{"name": "t", "attributes": ["title", "org_sourced_id"],
                                                       "match": "fuzzy", "threshold": 0.9}]})
    assert "domains.courses: domain t: match: fuzzy is for people; courses match exactly" in msg
    settings = Reconciliation(domains={"classes": [{"name": "code", "attributes": ["class_code", "course_sourced_id"],
                                                    "resolution": "manual"}]})
    assert [d.name for d in settings.domains_for("classes")] == ["code"]
    # Configuring classes leaves the search for duplicate people as it was: on, with its default.
    assert [d.name for d in settings.domains_for("users")] == ["name_and_email"]
    assert settings.domains_for("courses") == []


def test_domain_names_unique_per_entity():
    msg = _error(Reconciliation, domains={"users": [{"name": "a", "attributes": ["email"]},
                                                    {"name": "a", "attributes": ["state_id"]}]})
    assert "domains.users: domain name 'a' is given twice" in msg


def test_distinguishing_attributes_validated():
    assert "distinguishing attribute 'birth_date' is given twice" in _error(
        Reconciliation, distinguishing=["birth_date", "birth_date"])
    assert "'birth date' is not an attribute name" in _error(Reconciliation, distinguishing=["birth date"])


def test_an_empty_domain_list_turns_duplicate_search_off():
    assert Reconciliation(domains={"users": []}).domains_for("users") == []
