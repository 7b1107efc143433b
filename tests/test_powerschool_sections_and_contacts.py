"""PowerSchool beyond the lead teacher and the Contacts module: every teacher of a section with its
co-teaching role (SectionTeacher), custom fields of staff, contacts and core-field tables, and guardians
from the student record's parent fields for a district that does not use the Contact Module."""

from __future__ import annotations

import json

import pytest

from passport_pipelines.config.loader import IntegrationError, load_integration
from passport_pipelines.sources.errors import ConnectorError
from passport_pipelines.sources.powerschool.connector import PowerSchoolConnector
from tests.canonical_tables import canonical_tables
from tests.conftest import write_integration
from tests.fakes.district_data import make_district_data
from tests.fakes.powerschool_server import powerschool_source_config, start_powerschool_fake


def connector() -> PowerSchoolConnector:
    return PowerSchoolConnector(base_delay_seconds=0.01, max_retry_seconds=10)


@pytest.fixture
def district(tmp_path):
    return make_district_data(tmp_path / "drop", students=60, seed=5)


def _integration(tmp_path, monkeypatch, server, **overrides):
    config, env = powerschool_source_config(server, name="ps", **overrides)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return load_integration(write_integration(tmp_path / "integrations", "eq", [config]))


def _section_with_two_teachers(fake):
    """A section, its lead teacher, and another teacher of the same school."""
    d = fake.district
    for school, sections in d.by_school["section"].items():
        staff = [s["id"] for s in d.by_school["staff"].get(school, [])]
        for section in sections:
            others = [s for s in staff if s != section.get("staff_id")]
            if section.get("staff_id") and len(others) >= 2:
                return section["id"], section["staff_id"], others[0], others[1]
    raise AssertionError("the synthetic district has no school with three staff")


def test_every_teacher_of_a_section_with_its_role(passport_home, tmp_path, monkeypatch, district):
    with start_powerschool_fake(district) as server:
        section, lead, co, aide = _section_with_two_teachers(server.fake)
        server.fake.tables.add_section_teacher(section, co, "Co-teacher", start="2025-09-01", end="2026-01-15")
        server.fake.tables.add_section_teacher(section, aide, "Teacher's Aide")
        enrollments = canonical_tables(_integration(tmp_path, monkeypatch, server), "ps",
                                       connector=connector())["enrollments"].to_pylist()
        teachers = {r["user_sourced_id"]: r for r in enrollments if r["class_sourced_id"] == f"section-{section}"
                    and r["role"] != "student"}
        # The lead teacher is the primary one; the co-teacher is a teacher too, with SectionTeacher's dates.
        assert set(teachers) == {f"staff-{lead}", f"staff-{co}"}
        assert teachers[f"staff-{lead}"]["primary"] is True and teachers[f"staff-{lead}"]["role"] == "teacher"
        co_row = teachers[f"staff-{co}"]
        assert (co_row["role"], co_row["primary"], co_row["begin_date"], co_row["end_date"]) == \
            ("teacher", False, "2025-09-01", "2026-01-15")
        assert co_row["sourced_id"] == f"section-{section}-staff-{co}"
        asked = server.requests_to(r"^/ws/schema/table/sectionteacher$")
        assert asked and all(r.arg("projection") and r.arg("page") and r.arg("pagesize") for r in asked)
        assert server.requests_to(r"^/ws/schema/table/sectionteacher/count$")

        # An aide is read only where the district says what it is; a district can turn co-teachers off.
        proctors = canonical_tables(_integration(tmp_path, monkeypatch, server,
                                                 section_roles={"Teacher's Aide": "proctor"}), "ps",
                                    connector=connector())["enrollments"].to_pylist()
        assert [(r["user_sourced_id"], r["primary"]) for r in proctors if r["role"] == "proctor"] == \
            [(f"staff-{aide}", False)]
        before = len(server.requests_to(r"^/ws/schema/table/"))
        lead_only = canonical_tables(_integration(tmp_path, monkeypatch, server, co_teachers=False), "ps",
                                     connector=connector())["enrollments"].to_pylist()
        assert {r["user_sourced_id"] for r in lead_only if r["class_sourced_id"] == f"section-{section}"
                and r["role"] != "student"} == {f"staff-{lead}"}
        assert len(server.requests_to(r"^/ws/schema/table/")) == before


def test_a_table_the_plugin_may_not_read_is_named(passport_home, tmp_path, monkeypatch, district):
    with start_powerschool_fake(district, forbidden_tables=("sectionteacher",)) as server:
        integration = _integration(tmp_path, monkeypatch, server)
        with pytest.raises(ConnectorError) as caught:
            canonical_tables(integration, "ps", connector=connector())
        assert caught.value.kind == "missing_scope" and "/ws/schema/table/sectionteacher" in str(caught.value)
        check = connector().test_connection(integration, integration.source("ps"))
        assert check.failure == "missing_scope" and [s.name for s in check.steps][-1] == "tables"
        ok = connector().test_connection(integration, integration.source("ps").model_copy(
            update={"co_teachers": False}))
        assert ok.ok


def test_custom_fields_of_staff_contacts_and_core_field_tables(passport_home, tmp_path, monkeypatch, district):
    with start_powerschool_fake(district) as server:
        integration = _integration(tmp_path, monkeypatch, server, staff_extensions=["u_staff_extension"],
                                   contact_extensions=["u_contact_extension"],
                                   core_fields=[{"table": "studentcorefields", "of": "student", "key": "studentsdcid",
                                                 "fields": ["immunization_dpt", "pscore_legal_first_name"]}])
        users = {u["sourced_id"]: u for u in canonical_tables(integration, "ps", connector=connector())["users"]
                 .to_pylist()}
        assert all(r.arg("extensions") == "u_staff_extension" for r in server.requests_to(r"/staff$"))
        assert all(r.arg("extensions") == "u_contact_extension"
                   for r in server.requests_to(r"^/ws/contacts/student/\d+$"))
        [core] = server.requests_to(r"^/ws/schema/table/studentcorefields$")
        assert core.arg("projection") == "studentsdcid,immunization_dpt,pscore_legal_first_name"
        first_name = server.fake.district.students[3]["name"]["first_name"]
    assert json.loads(users["staff-2"]["extensions"]) == {"u_staff_extension.badge_number": "B0002",
                                                          "u_staff_extension.room": "R102"}
    assert json.loads(users["contact-1"]["extensions"]) == {"u_contact_extension.preferred_language": "es"}
    assert json.loads(users["student-3"]["extensions"]) == {
        "studentcorefields.immunization_dpt": "pending", "studentcorefields.pscore_legal_first_name": first_name}


def test_guardians_from_the_student_record_without_the_contact_module(passport_home, tmp_path, monkeypatch,
                                                                      district):
    with start_powerschool_fake(district) as server:
        tables = server.fake.tables
        tables.set_student_fields(1, mother="Okafor-Reyes, Ada Marie", father="Ben Okafor", guardian_fn="Cleo",
                                  guardian_ln="Park", guardianemail="ada@example.org; ben@example.org",
                                  motherdayphone="555-0101", fatherdayphone="555-0102")
        tables.set_student_fields(2, mother="Novak Mia", father="Novak Mia", guardian_fn=None, guardian_ln=None,
                                  guardianemail="family@example.org", motherdayphone=None, fatherdayphone=None)
        tables.set_student_fields(3, mother="Cher", father=None, guardian_fn=None, guardian_ln=None,
                                  guardianemail=None)
        integration = _integration(tmp_path, monkeypatch, server, contacts="student_fields")
        got = canonical_tables(integration, "ps", connector=connector())
        assert not server.requests_to(r"^/ws/contacts/")  # the Contact Module is never asked
        [students] = server.requests_to(r"^/ws/schema/table/students$")
        assert "mother" in students.arg("projection") and "guardianemail" in students.arg("projection")

        users = {u["sourced_id"]: u for u in got["users"].to_pylist()}
        assert not [u for u in users if u.startswith("contact-")]
        mother, father, guardian = (users[f"student-1-{w}"] for w in ("mother", "father", "guardian"))
        # "Last, First Middle"; "Last First" (the default format); the Guardian fields as they are.
        assert (mother["given_name"], mother["middle_name"], mother["family_name"]) == ("Ada", "Marie", "Okafor-Reyes")
        assert (father["given_name"], father["family_name"]) == ("Okafor", "Ben")
        assert (guardian["given_name"], guardian["family_name"], guardian["role"]) == ("Cleo", "Park", "guardian")
        # Two addresses, one each in order; the phones by whose they are.
        assert (mother["email"], father["email"], guardian["email"]) == ("ada@example.org", "ben@example.org", None)
        assert (mother["phone"], father["phone"], mother["role"]) == ("555-0101", "555-0102", "parent")
        assert mother["org_sourced_ids"] == users["student-1"]["org_sourced_ids"]
        # A father field repeating the mother's is one person; one address is everyone's.
        assert "student-2-father" not in users and users["student-2-mother"]["email"] == "family@example.org"
        assert (users["student-2-mother"]["given_name"], users["student-2-mother"]["family_name"]) == ("Mia", "Novak")
        assert not [u for u in users if u.startswith("student-3-")]  # "Cher": no first and last name
        links = {(a["user_sourced_id"], a["agent_sourced_id"]): a["relationship"] for a in got["agents"].to_pylist()}
        assert links[("student-1", "student-1-mother")] == "parent"
        assert links[("student-1-guardian", "student-1")] == "student"
        roles = {(r["user_sourced_id"], r["role"]) for r in got["roles"].to_pylist()}
        assert ("student-1-mother", "parent") in roles

        first_last = canonical_tables(_integration(tmp_path, monkeypatch, server, contacts="student_fields",
                                                   contact_name_format="first_last"), "ps", connector=connector())
        users = {u["sourced_id"]: u for u in first_last["users"].to_pylist()}
        assert (users["student-1-father"]["given_name"], users["student-1-father"]["family_name"]) == ("Ben", "Okafor")
        assert users["student-1-mother"]["family_name"] == "Okafor-Reyes"  # a comma is always "Last, First"


def test_plugin_field_settings_are_checked(tmp_path, monkeypatch):
    (tmp_path / "integrations").mkdir()
    base = {"name": "ps", "type": "powerschool", "base_url": "https://ps.example.org", "client_id": "x",
            "client_secret": "env:PS_SECRET"}
    for extra, message in (({"contacts": "guess"}, "contact_module"),
                           ({"core_fields": [{"table": "x; drop", "of": "student", "key": "k", "fields": ["a"]}]},
                            "not a PowerSchool table or field name"),
                           ({"section_roles": {"Co-teacher": "boss"}}, "teacher"),
                           ({"staff_extensions": ["u-bad"]}, "not a PowerSchool table name")):
        with pytest.raises(IntegrationError, match=message):
            load_integration(write_integration(tmp_path / "integrations", "eq", [{**base, **extra}]))
