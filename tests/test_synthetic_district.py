"""The synthetic OneRoster 1.1 district generator (tests.synthetic.district)."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from passport_pipelines.validation.oneroster.spec import GRADES, files_for
from tests.synthetic.district import BULK_FILES, generate_oneroster_district, main

SPEC = files_for("1.1")
ID = re.compile(r"^[0-9A-Za-z./@_-]{1,255}$")
STUDENTS = 600
ERRORS = 5


def read(folder: Path, name: str) -> tuple[list[str], list[dict[str, str]]]:
    with open(folder / f"{name}.csv", newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def ids(cell: str) -> list[str]:
    return [x for x in cell.split(",") if x]


@pytest.fixture(scope="module")
def district(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("district")
    rows = generate_oneroster_district(out, STUDENTS, seed=11, reference_errors=ERRORS)
    return out, rows


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    generate_oneroster_district(out, 300, seed=3)
    return out


@pytest.fixture(scope="module")
def data(district):
    out, _ = district
    return {name: read(out, name)[1] for name in BULK_FILES}


def test_headers_exactly_follow_the_1_1_spec(district):
    out, _ = district
    for name in BULK_FILES:
        first_line = (out / f"{name}.csv").read_text(encoding="utf-8").split("\n", 1)[0]
        assert first_line == ",".join(SPEC[name].names), name
        assert tuple(read(out, name)[0]) == SPEC[name].names


def test_manifest_declares_the_files(district):
    out, rows = district
    with open(out / "manifest.csv", newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        assert next(reader) == ["propertyName", "value"]
        props = dict(reader)
    assert props["manifest.version"] == "1.0"
    assert props["oneroster.version"] == "1.1"
    assert props["source.systemName"] == "Passport Synthetic"
    for name in BULK_FILES:
        assert props[f"file.{name}"] == "bulk"
        assert (out / f"{name}.csv").exists()
    for name in ("categories", "classResources", "courseResources", "lineItems", "resources", "results"):
        assert props[f"file.{name}"] == "absent"
        assert not (out / f"{name}.csv").exists()
    assert sorted(p.name for p in out.iterdir()) == sorted(["manifest.csv", *(f"{n}.csv" for n in BULK_FILES)])
    assert set(rows) == set(BULK_FILES)


def test_row_counts_ids_and_bulk_columns(district, data):
    _, rows = district
    for name, records in data.items():
        assert rows[name] == len(records), name
        sourced = [r["sourcedId"] for r in records]
        assert len(set(sourced)) == len(sourced), f"duplicate sourcedId in {name}"
        assert all(ID.match(s) for s in sourced), name
        assert all(r["status"] == "" and r["dateLastModified"] == "" for r in records), name
        for col in SPEC[name].columns:
            if col.required:
                assert all(r[col.name] for r in records), f"{name}.{col.name} blank"
            if col.kind == "enum":
                assert {r[col.name] for r in records} <= set(col.values) | {""}, f"{name}.{col.name}"


def test_injected_reference_errors_and_nothing_else(data):
    users = {r["sourcedId"] for r in data["users"]}
    classes = {r["sourcedId"] for r in data["classes"]}
    courses = {r["sourcedId"] for r in data["courses"]}
    bad_user = [e for e in data["enrollments"] if e["userSourcedId"] not in users]
    bad_class = [e for e in data["enrollments"] if e["classSourcedId"] not in classes]
    bad_course = [c for c in data["classes"] if c["courseSourcedId"] not in courses]
    assert len(bad_user) + len(bad_class) + len(bad_course) == ERRORS
    assert bad_user and bad_class and bad_course  # spread across the kinds
    assert all(ID.match(e["userSourcedId"]) for e in bad_user)


def test_clean_district_references_all_resolve(clean):
    d = {name: read(clean, name)[1] for name in BULK_FILES}
    orgs = {r["sourcedId"] for r in d["orgs"]}
    sessions = {r["sourcedId"] for r in d["academicSessions"]}
    courses = {r["sourcedId"] for r in d["courses"]}
    classes = {r["sourcedId"]: r for r in d["classes"]}
    users = {r["sourcedId"]: r for r in d["users"]}
    assert all(r["parentSourcedId"] in orgs for r in d["orgs"] if r["parentSourcedId"])
    assert all(r["parentSourcedId"] in sessions for r in d["academicSessions"] if r["parentSourcedId"])
    assert all(r["orgSourcedId"] in orgs and r["schoolYearSourcedId"] in sessions for r in d["courses"])
    for c in classes.values():
        assert c["courseSourcedId"] in courses and c["schoolSourcedId"] in orgs
        assert ids(c["termSourcedIds"]) and set(ids(c["termSourcedIds"])) <= sessions
    for e in d["enrollments"]:
        assert e["userSourcedId"] in users and e["classSourcedId"] in classes
        assert e["schoolSourcedId"] == classes[e["classSourcedId"]]["schoolSourcedId"]
    for u in users.values():
        assert ids(u["orgSourcedIds"]) and set(ids(u["orgSourcedIds"])) <= orgs
        assert set(ids(u["agentSourcedIds"])) <= set(users)
    students = {k for k, u in users.items() if u["role"] == "student"}
    assert {r["sourcedId"] for r in d["demographics"]} == students


def test_people_and_enrollments_look_like_a_district(data):
    users = data["users"]
    roles = Counter(u["role"] for u in users)
    n_students = roles["student"]
    assert n_students == STUDENTS
    assert 0.03 * STUDENTS <= roles["teacher"] <= 0.08 * STUDENTS
    assert 1 <= roles["administrator"] <= 10
    guardians = roles["parent"] + roles["guardian"] + roles["relative"]
    assert 0.8 * STUDENTS <= guardians <= 1.25 * STUDENTS

    per_student = Counter(e["userSourcedId"] for e in data["enrollments"] if e["role"] == "student")
    assert 6.5 <= sum(per_student.values()) / n_students <= 7.5
    assert all(e["primary"] == "false" for e in data["enrollments"] if e["role"] == "student")
    teacher_enr = Counter(e["classSourcedId"] for e in data["enrollments"] if e["role"] == "teacher")
    assert set(teacher_enr) == {c["sourcedId"] for c in data["classes"]} and set(teacher_enr.values()) == {1}
    assert all(e["primary"] == "true" for e in data["enrollments"] if e["role"] == "teacher")

    by_id = {u["sourcedId"]: u for u in users}
    for u in users:  # guardian <-> student links point both ways
        if u["role"] == "student":
            assert u["grades"] in GRADES
            assert re.fullmatch(r"\{state:CA\d+\}", u["userIds"])
            assert u["enabledUser"] == "true"
            for g in ids(u["agentSourcedIds"]):
                assert u["sourcedId"] in ids(by_id[g]["agentSourcedIds"])
    assert len({u["identifier"] for u in users if u["role"] == "student"}) == n_students
    assert any(len(ids(u["agentSourcedIds"])) > 1 for u in users if u["role"] in ("parent", "guardian"))

    schools = [o for o in data["orgs"] if o["type"] == "school"]
    assert len(schools) >= 2 and sum(o["type"] == "district" for o in data["orgs"]) == 1
    assert {c["classType"] for c in data["classes"]} == {"scheduled", "homeroom"}
    assert any(c["termSourcedIds"].count(",") == 1 for c in data["classes"])
    sessions = {s["type"]: s for s in data["academicSessions"]}
    assert sessions["schoolYear"]["schoolYear"] == "2026"


def test_names_have_twins_and_accents(data):
    demo = {d["sourcedId"]: d for d in data["demographics"]}
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d["birthDate"]) for d in demo.values())
    assert {d["white"] for d in demo.values()} == {"true", "false"}
    students = [u for u in data["users"] if u["role"] == "student"]
    twins = Counter((u["familyName"], demo[u["sourcedId"]]["birthDate"], u["agentSourcedIds"]) for u in students)
    assert any(n == 2 for n in twins.values())
    names = " ".join(u["givenName"] + " " + u["familyName"] for u in data["users"])
    assert not names.isascii() and "'" in names


def test_deterministic_for_a_seed(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate_oneroster_district(a, 250, seed=5, reference_errors=2)
    generate_oneroster_district(b, 250, seed=5, reference_errors=2)
    generate_oneroster_district(c, 250, seed=6, reference_errors=2)
    for name in ("manifest.csv", *(f"{n}.csv" for n in BULK_FILES)):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "users.csv").read_bytes() != (c / "users.csv").read_bytes()


def test_cli_writes_a_zip(tmp_path, capsys):
    target = tmp_path / "district.zip"
    assert main([str(target), "--students", "120", "--seed", "2", "--reference-errors", "1", "--zip"]) == 0
    assert "users.csv" in capsys.readouterr().out
    with zipfile.ZipFile(target) as zf:
        assert sorted(zf.namelist()) == sorted(["manifest.csv", *(f"{n}.csv" for n in BULK_FILES)])
        header = next(csv.reader(io.TextIOWrapper(zf.open("users.csv"), encoding="utf-8")))
        assert tuple(header) == SPEC["users"].names
    assert [p.name for p in tmp_path.iterdir()] == ["district.zip"]
