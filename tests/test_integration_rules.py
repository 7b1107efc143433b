"""Integration rules on a real drop: SIS id prefix, schools mapping, attribute mapping, filters and
data requirements, with what each rule left out (and what went with it) reported."""

from __future__ import annotations

import pytest

from passport_pipelines.config.loader import IntegrationError, load_integration
from passport_pipelines.normalize.data_errors import DataValueError
from passport_pipelines.normalize.rosters import normalize_source
from tests.canonical_tables import canonical_tables, extract, read_tables
from tests.conftest import write_integration
from tests.district_files import edit_rows, make_district
from tests.fakes.district_data import read_district

DISTRICT_SCHOOLS = [{"id": "lincoln-k8", "name": "Lincoln K-8", "identifier": "061234500001"},
                    {"id": "roosevelt-hs", "name": "Roosevelt High", "identifier": "061234500002"}]


@pytest.fixture
def drop(tmp_path):
    return make_district(tmp_path / "drop", students=40)


def _integration(tmp_path, drop, *, district_schools=None, **rules):
    source = {"name": "sis", "type": "csv", "path": str(drop), **rules}
    extra = {"schools": district_schools} if district_schools is not None else {}
    return load_integration(write_integration(tmp_path / "integrations", "rules", [source], **extra))


def _tables_and_report(integration, name="sis"):
    result = extract(integration, name)
    normalized = normalize_source(result, district=integration.district, school_year="2025-2026",
                                  integration=integration)
    return read_tables(normalized.folder), normalized.rules


def _ids(table, column="sourced_id"):
    return set(table[column].to_pylist())


def test_no_rules_changes_nothing(passport_home, tmp_path, drop):
    plain = canonical_tables(_integration(tmp_path, drop), "sis")
    data = read_district(drop)
    assert _ids(plain["users"]) == {u["sourcedId"] for u in data.users}


def test_sis_id_prefix_reaches_every_id_and_reference_but_not_district_schools(passport_home, tmp_path, drop):
    tables, _ = _tables_and_report(_integration(tmp_path, drop, district_schools=DISTRICT_SCHOOLS, sis_id_prefix="ps-",
                                                **{"schools": "auto"}))
    assert all(i.startswith("ps-") for i in _ids(tables["users"]))
    assert all(i.startswith("ps-") for i in _ids(tables["enrollments"], "class_sourced_id"))
    assert all(i.startswith("ps-") for i in _ids(tables["agents"], "agent_sourced_id"))
    # District schools are the district's ids, shared by every source: never prefixed.
    assert _ids(tables["classes"], "school_sourced_id") <= {"lincoln-k8", "roosevelt-hs"}
    orgs = {o["sourced_id"]: o for o in tables["orgs"].to_pylist()}
    assert orgs["lincoln-k8"]["name"] == "Lincoln K-8" and orgs["lincoln-k8"]["parent_sourced_id"] == "ps-dist-001"
    for user in tables["users"].to_pylist():
        for org in (user["org_sourced_ids"] or "").split(","):
            assert org in ("lincoln-k8", "roosevelt-hs", "ps-dist-001")
    # A list of orgs is renamed item by item and keeps its order.
    renamed = {"sch-0001": "lincoln-k8", "sch-0002": "roosevelt-hs", "dist-001": "ps-dist-001"}
    full = {u["sourced_id"]: u for u in canonical_tables(_integration(tmp_path, drop), "sis")["users"].to_pylist()}
    several = [u for u in tables["users"].to_pylist() if "," in (u["org_sourced_ids"] or "")]
    assert several
    for user in several:
        before = full[user["sourced_id"].removeprefix("ps-")]["org_sourced_ids"].split(",")
        assert user["org_sourced_ids"].split(",") == [renamed[o] for o in before]


def test_unmapped_school_data_is_left_out_and_reported(passport_home, tmp_path, drop):
    only_k8 = [DISTRICT_SCHOOLS[0]]
    full = canonical_tables(_integration(tmp_path, drop), "sis")
    tables, report = _tables_and_report(_integration(tmp_path, drop, district_schools=only_k8, **{"schools": "auto"}))
    assert report["unmapped_schools"] == ["sch-0002"] and report["schools_mapped"] == 1
    assert _ids(tables["classes"], "school_sourced_id") == {"lincoln-k8"}
    assert "sch-0002" not in _ids(tables["enrollments"], "school_sourced_id")
    high_schoolers = {u["sourced_id"] for u in full["users"].to_pylist() if u["org_sourced_ids"] == "sch-0002"}
    assert high_schoolers and not (high_schoolers & _ids(tables["users"]))
    assert not (high_schoolers & _ids(tables["demographics"]))
    assert report["left_out"]["enrollments"] > 0 and report["left_out"]["users"] == len(high_schoolers)


def test_explicit_mapping_renames_schools_everywhere(passport_home, tmp_path, drop):
    mapping = {"mode": "explicit", "map": {"sch-0001": "lincoln-k8", "sch-0002": "roosevelt-hs"}}
    integration = _integration(tmp_path, drop, district_schools=DISTRICT_SCHOOLS, **{"schools": mapping})
    tables, report = _tables_and_report(integration)
    assert report["unmapped_schools"] == []
    assert {"lincoln-k8", "roosevelt-hs"} <= _ids(tables["orgs"])
    assert _ids(tables["roles"], "org_sourced_id") <= {"lincoln-k8", "roosevelt-hs", "dist-001"}


def test_a_value_that_is_not_true_false_in_a_mapped_true_false_column_is_named_never_shown(passport_home, tmp_path,
                                                                                          drop):
    from tests.district_files import read_rows, write_rows

    header, rows = read_rows(drop / "users.csv")
    for i, r in enumerate(rows):
        r["metadata.active"] = ("yes", "no", "TRUE", "0", "")[i % 5]
    rows[3]["metadata.active"] = "kai.cook77@example.org"
    rows[8]["metadata.active"] = "Kai Cook"
    write_rows(drop / "users.csv", header + ["metadata.active"], rows)
    integration = _integration(tmp_path, drop, attributes={"users": {"enabled_user": "metadata.active"}})
    with pytest.raises(DataValueError) as err:
        _tables_and_report(integration)
    message = str(err.value)
    assert message.startswith("source sis: rule attributes.users.enabled_user maps metadata.active into the "
                              "true/false column users.enabled_user, but 2 row(s) of users hold a value there "
                              "that is not true/false")
    assert "kai.cook" not in message and "Kai Cook" not in message


def test_attribute_mapping_from_extension_fields_into_canonical_and_custom_attributes(passport_home, tmp_path, drop):
    def add_metadata(rows):
        for i, r in enumerate(rows):
            r["metadata.ssid"] = f"SS{i:05d}" if r["role"] == "student" else ""
            r["metadata.bus"] = "R4" if i % 2 else ""
        return rows

    header = (drop / "users.csv").read_text().splitlines()[0].split(",")
    from tests.district_files import read_rows, write_rows
    _, rows = read_rows(drop / "users.csv")
    write_rows(drop / "users.csv", header + ["metadata.ssid", "metadata.bus"], add_metadata(rows))
    integration = _integration(tmp_path, drop, attributes={"users": {
        "state_id": "metadata.ssid", "bus_route": "extension:bus", "student_number": "identifier"}})
    tables, _ = _tables_and_report(integration)
    users = {u["sourced_id"]: u for u in tables["users"].to_pylist()}
    student = next(u for u in users.values() if u["role"] == "student")
    assert student["state_id"].startswith("SS")
    import json
    ext = [json.loads(u["extensions"]) for u in users.values() if u["extensions"]]
    assert any(e.get("bus_route") == "R4" for e in ext)
    assert all(e.get("student_number") for e in ext)  # a custom attribute taken from a canonical field


def test_filters_templates_and_custom_conditions_with_counts(passport_home, tmp_path, drop):
    def disable_first_student(rows):
        first = next(r for r in rows if r["role"] == "student")
        first["enabledUser"] = "false"
        tester = next(r for r in rows if r["role"] == "teacher")
        tester["username"] = "zz-test-teacher"
        # A teacher's rule never reaches a student, though students and teachers are one table.
        student = next(r for r in rows
                       if r["role"] == "student" and r is not first and r["grades"] in ("KG", "01", "02"))
        student["username"] = "zz-not-a-teacher"
        return rows

    edit_rows(drop / "users.csv", disable_first_student)
    full = canonical_tables(_integration(tmp_path, drop), "sis")
    filters = {
        "student": [{"template": "active_only"}, {"template": "grade_range", "from": "KG", "to": "05"}],
        "teacher": [{"template": "exclude_test_accounts", "pattern": "^zz-"}],
        "contact": [{"name": "no example.com", "exclude_if": {"any": [
            {"field": "email", "op": "ends_with", "value": "@example.com"},
            {"all": [{"field": "sms", "op": "is_blank"}, {"field": "phone", "op": "is_blank"}]}]}}],
        "calendar": [{"template": "current_terms_only", "as_of": "2026-02-01"}],
    }
    tables, report = _tables_and_report(_integration(tmp_path, drop, filters=filters))
    counts = report["filters"]
    assert counts["student: active_only"] == 1
    assert counts["teacher: exclude_test_accounts"] == 1
    students = [u for u in tables["users"].to_pylist() if u["role"] == "student"]
    grades = {"KG", "01", "02", "03", "04", "05"}
    assert students and all(set(u["grades"].split(",")) & grades for u in students)
    removed_students = counts["student: grade_range"]
    assert removed_students == sum(1 for u in full["users"].to_pylist() if u["role"] == "student"
                                   and u["enabled_user"] and not set((u["grades"] or "").split(",")) & grades)
    assert not [u for u in tables["users"].to_pylist() if u["role"] in ("parent", "guardian", "relative")
                and (u["email"] or "").endswith("@example.com")]
    # Semester 1 is over on 2026-02-01: it is left out, and classes keep semester 2 only.
    assert "term-2026-s1" not in _ids(tables["academic_sessions"])
    assert {c["term_sourced_ids"] for c in tables["classes"].to_pylist()} == {"term-2026-s2"}
    first_term_only = {c["sourced_id"] for c in full["classes"].to_pylist() if c["term_sourced_ids"] == "term-2026-s1"}
    assert first_term_only and not first_term_only & _ids(tables["classes"])
    # ... and their enrollments went with them, in the same cascade.
    assert not first_term_only & _ids(tables["enrollments"], "class_sourced_id")
    assert "zz-not-a-teacher" in {u["username"] for u in tables["users"].to_pylist()}
    # Enrollments, demographics and guardian links of left-out students went with them.
    kept = _ids(tables["users"])
    assert _ids(tables["enrollments"], "user_sourced_id") <= kept
    assert _ids(tables["demographics"]) <= kept
    assert report["cascaded"]["enrollments"] > 0


def test_data_requirements_report_and_skip(passport_home, tmp_path, drop):
    def blank_some(rows):
        students = [r for r in rows if r["role"] == "student"]
        for r in students[:3]:
            r["email"] = ""
        for r in students[3:5]:
            r["identifier"] = ""
        return rows

    edit_rows(drop / "users.csv", blank_some)
    requirements = {"student": {"email": "report_if_missing", "identifier": "skip_if_missing"}}
    tables, report = _tables_and_report(_integration(tmp_path, drop, requirements=requirements))
    by_field = {r["field"]: r for r in report["requirements"]}
    assert by_field["email"]["missing"] == 3 and len(by_field["email"]["sample_ids"]) == 3
    assert by_field["identifier"]["missing"] == 2
    users = {u["sourced_id"]: u for u in tables["users"].to_pylist()}
    assert all(i in users for i in by_field["email"]["sample_ids"])  # reported, kept
    assert not any(i in users for i in by_field["identifier"]["sample_ids"])  # skipped
    assert not set(by_field["identifier"]["sample_ids"]) & _ids(tables["enrollments"], "user_sourced_id")


def test_filters_and_requirements_read_custom_attributes(passport_home, tmp_path, drop):
    from tests.district_files import read_rows, write_rows

    header, rows = read_rows(drop / "users.csv")
    students = [r for r in rows if r["role"] == "student"]
    for i, r in enumerate(rows):
        r["metadata.bus"] = "" if r in students[:2] else ("WALKER" if r in students[2:5] else f"R{i % 4}")
        r["metadata.program"] = "test" if r in students[5:6] else ""
    write_rows(drop / "users.csv", header + ["metadata.bus", "metadata.program"], rows)
    integration = _integration(
        tmp_path, drop, attributes={"users": {"bus_route": "extension:bus"}},
        filters={"student": [{"name": "walkers", "exclude_if": {"all": [
                    {"field": "bus_route", "op": "eq", "value": "WALKER"}]}},
                 {"name": "test program", "exclude_if": {"any": [
                     {"field": "extension:program", "op": "eq", "value": "test"}]}}]},
        requirements={"student": {"bus_route": "report_if_missing"}})
    tables, report = _tables_and_report(integration)
    assert report["filters"] == {"student: walkers": 3, "student: test program": 1}
    kept = _ids(tables["users"])
    assert not {r["sourcedId"] for r in students[2:6]} & kept
    [bus] = report["requirements"]
    assert (bus["field"], bus["missing"]) == ("bus_route", 2)
    assert set(bus["sample_ids"]) == {r["sourcedId"] for r in students[:2]} and set(bus["sample_ids"]) <= kept

    with pytest.raises(IntegrationError) as err:  # a name that is neither a column nor a custom attribute
        _integration(tmp_path, drop, attributes={"users": {"bus_route": "extension:bus"}},
                     requirements={"student": {"bus_rout": "report_if_missing"}})
    assert "requirements.student.bus_rout" in str(err.value) and "custom attributes of users: bus_route" in \
        str(err.value)


@pytest.mark.parametrize("rules, message", [
    ({"filters": {"student": [{"template": "grade_range", "from": "05", "to": "KG"}]}}, "from comes after to"),
    ({"filters": {"course": [{"template": "exclude_test_accounts", "pattern": "x"}]}}, "applies to people"),
    ({"filters": {"student": [{"keep_if": {"all": [{"field": "shoe_size", "op": "eq", "value": "9"}]}}]}},
     "'shoe_size' is not a field of users"),
    ({"filters": {"student": [{"exclude_if": {"any": [{"field": "email", "op": "matches", "value": "(["}]}}]}},
     "not a valid regular expression"),
    ({"filters": {"pets": [{"template": "active_only"}]}}, "filters.pets"),
    ({"requirements": {"student": {"favourite_colour": "report_if_missing"}}}, "'favourite_colour' is not a field"),
    ({"requirements": {"student": {"email": "maybe"}}}, "report_if_missing"),
    ({"attributes": {"users": {"state_id": "nowhere"}}}, "extension:<name>"),
    ({"sis_id_prefix": "bad prefix!"}, "id prefix"),
    ({"schools": "auto"}, "needs them"),
])
def test_rule_mistakes_are_named(passport_home, tmp_path, drop, rules, message):
    with pytest.raises(IntegrationError) as err:
        _integration(tmp_path, drop, **rules)
    assert message in str(err.value)
    assert "sources[0]" in str(err.value) or "(top level)" in str(err.value)


def test_explicit_map_must_name_district_schools(passport_home, tmp_path, drop):
    with pytest.raises(IntegrationError) as err:
        _integration(tmp_path, drop, district_schools=DISTRICT_SCHOOLS,
                     **{"schools": {"mode": "explicit", "map": {"sch-0001": "atlantis"}}})
    assert "atlantis" in str(err.value)


def test_entity_selection_leaves_the_other_entities_absent(passport_home, tmp_path, drop):
    integration = _integration(tmp_path, drop, entities=["orgs", "users"])
    normalized = normalize_source(extract(integration, "sis"), district="rules", school_year="2025-2026",
                                  integration=integration)
    assert normalized.rows["users"] > 0 and normalized.rows["roles"] > 0 and normalized.rows["orgs"] > 0
    for entity in ("enrollments", "classes", "courses", "demographics", "agents", "academic_sessions"):
        assert normalized.rows[entity] == 0 and normalized.entity_modes[entity] == "absent"


def test_exclude_schools_takes_district_school_ids(passport_home, tmp_path, drop):
    filters = {"class": [{"template": "exclude_schools", "schools": ["roosevelt-hs"]}],
               "teacher": [{"template": "exclude_schools", "schools": ["sch-0002"]}]}  # a source id works too
    tables, report = _tables_and_report(_integration(tmp_path, drop, district_schools=DISTRICT_SCHOOLS,
                                                     schools="auto", filters=filters))
    assert report["filters"]["class: exclude_schools"] > 0
    assert _ids(tables["classes"], "school_sourced_id") == {"lincoln-k8"}
    teachers = [u for u in tables["users"].to_pylist() if u["role"] == "teacher"]
    assert teachers and all(u["org_sourced_ids"] != "roosevelt-hs" for u in teachers)
    assert report["filters"]["teacher: exclude_schools"] > 0


def test_cascade_looks_at_each_table_after_every_table_it_points_at():
    # One round then settles a chain (a term, its classes, their enrollments): a million-row
    # table is not scanned a second time to find what the first round left behind.
    from passport_pipelines.normalize.rules import left_out

    order = [entity for entity, _, _ in left_out._CHECKS]
    assert set(order) == left_out.CASCADE_SCALAR.keys() | left_out.CASCADE_LIST.keys()
    for position, (entity, refs, _) in enumerate(left_out._CHECKS):
        for _, target in refs:
            later = [i for i, e in enumerate(order) if e == target and i >= position]
            assert not later, f"{entity} is looked at before {target}, which it points at"
