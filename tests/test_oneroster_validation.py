"""OneRoster CSV validation (validation/oneroster/): every rule, on tiny packages built per test.

Each rule test breaks one thing in an otherwise valid package and checks the exact finding
(rule, severity, file, line, column, value) and whether the drop still passes. Row ``i`` of a
file is on line ``i + 2``. The minimal package's users are: 0 tch-1, 1 stu-1, 2 stu-2, 3 par-1.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from passport_pipelines.sql.engine import connect
from passport_pipelines.validation.oneroster.findings import SAMPLE_LIMIT, Finding, mask
from passport_pipelines.validation.oneroster.validation import ValidatedDrop, validate_package
from tests.oneroster_packages import (
    DELTA_TIMESTAMP,
    csv_text,
    header_for,
    manifest_lines,
    manifest_properties,
    manifest_text,
    valid_rows,
    write_package,
    zip_package,
)


@pytest.fixture(autouse=True)
def _one_duckdb_thread(monkeypatch):
    # Tiny packages: parallel DuckDB only adds overhead, and slows the suite badly on a busy machine.
    monkeypatch.setenv("PASSPORT_DUCKDB_THREADS", "1")


ROSTER_11 = ["orgs", "academicSessions", "courses", "classes", "users", "enrollments", "demographics"]


def check(tmp_path, version: str = "1.1", *, known_keys=None, **package) -> ValidatedDrop:
    """Write a package (see tests.oneroster_packages.write_package) and validate it."""
    pkg = write_package(tmp_path / "pkg", version, **package)
    return validate_package(pkg, f"oneroster-{version}", known_keys=known_keys)


def where(f: Finding) -> tuple:
    return f.file, f.line, f.column, f.value, f.severity


def findings(drop: ValidatedDrop, rule: str) -> list[Finding]:
    return [f for f in drop.report.samples() if f.rule == rule]


def only(drop: ValidatedDrop, rule: str) -> Finding:
    """The one finding of the drop, which must be of ``rule``."""
    assert drop.report.totals() == {rule: 1}, drop.report.render()
    (finding,) = findings(drop, rule)
    return finding


def column(drop: ValidatedDrop, file: str, name: str) -> list:
    return drop.arrow(file).column(name).to_pylist()


def users_csv(rows, header=None) -> bytes:
    return csv_text(header or header_for("1.1", "users", rows), rows).encode("utf-8")


# --- the baseline ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_minimal_package_is_clean(tmp_path, version):
    drop = check(tmp_path, version)
    assert drop.ok
    assert drop.report.count() == 0, drop.report.render()
    expected = {"orgs": 2, "academicSessions": 2, "courses": 1, "classes": 1, "users": 4, "enrollments": 3,
                "demographics": 1}
    if version == "1.2":
        expected |= {"roles": 4, "userProfiles": 1}
    assert drop.rows == expected
    assert sorted(drop.present) == sorted(expected)
    assert {f: m for f, m in drop.modes.items() if m != "absent"} == {f: "bulk" for f in expected}
    assert column(drop, "users", "sourcedId") == ["tch-1", "stu-1", "stu-2", "par-1"]


def test_demo_package_passes_with_its_four_dangling_references_filtered():
    drop = validate_package("demo/oneroster-1.1", "oneroster-1.1")
    assert drop.ok
    # 19 rostering rows, and the gradebook of the class left out: its 3 line items, their 42 results and
    # its resource link.
    assert drop.report.totals() == {"reference.missing": 65}
    assert {f: n for f, n in drop.filtered.items() if n} == {"classes": 1, "enrollments": 18, "lineItems": 3,
                                                            "results": 42, "classResources": 1}
    lines = {(f.file, f.column, f.value) for f in findings(drop, "reference.missing")}
    # crs-00105 (-> its class cls-000104 cascades, with its line items li-000104-*), cls-000117,
    # stu-0000251, stu-0000252
    assert {v for _, _, v in lines} == {"crs-00105", "cls-000104", "cls-000117", "stu-0000251", "stu-0000252",
                                        "li-000104-1", "li-000104-2", "li-000104-3"}


# --- manifest -------------------------------------------------------------------------------------------

def test_missing_manifest(tmp_path):
    drop = check(tmp_path, omit=["manifest.csv"])
    assert not drop.ok
    assert where(only(drop, "manifest.missing")) == ("manifest.csv", None, None, None, "error")
    assert drop.present == []


def test_manifest_with_wrong_header(tmp_path):
    props = manifest_properties("1.1", {f: "bulk" for f in ROSTER_11})
    text = manifest_text(props).replace("propertyName,value", "name,value", 1)
    drop = check(tmp_path, raw={"manifest.csv": text})
    assert not drop.ok
    assert where(only(drop, "manifest.header")) == ("manifest.csv", 1, None, None, "error")


def test_manifest_with_bom_and_any_case_header_is_accepted(tmp_path):
    props = manifest_properties("1.1", {f: "bulk" for f in ROSTER_11})
    text = "\ufeff" + manifest_text(props).replace("propertyName,value", "PropertyName,Value", 1)
    drop = check(tmp_path, raw={"manifest.csv": text})
    assert drop.ok and drop.report.count() == 0, drop.report.render()


def test_file_declared_bulk_but_missing(tmp_path):
    drop = check(tmp_path, rows={"demographics": None}, manifest={"file.demographics": "bulk"})
    assert not drop.ok
    f = only(drop, "manifest.file_missing")
    line = manifest_lines(tmp_path / "pkg")["file.demographics"]
    assert where(f) == ("manifest.csv", line, "value", "bulk", "error")


def test_file_declared_delta_but_missing(tmp_path):
    drop = check(tmp_path, rows={"enrollments": None}, manifest={"file.enrollments": "delta"})
    assert not drop.ok
    line = manifest_lines(tmp_path / "pkg")["file.enrollments"]
    assert where(only(drop, "manifest.file_missing")) == ("manifest.csv", line, "value", "delta", "error")


def test_file_present_but_declared_absent(tmp_path):
    drop = check(tmp_path, manifest={"file.demographics": "absent"})
    assert not drop.ok
    f = only(drop, "manifest.file_not_declared")
    line = manifest_lines(tmp_path / "pkg")["file.demographics"]
    assert where(f) == ("manifest.csv", line, "value", "absent", "error")
    assert "declared absent" in f.message


def test_file_present_but_not_declared(tmp_path):
    drop = check(tmp_path, manifest={"file.demographics": None})
    assert not drop.ok
    f = only(drop, "manifest.file_not_declared")
    assert where(f) == ("manifest.csv", None, None, None, "error")
    assert "demographics.csv" in f.message and "does not declare file.demographics" in f.message


def test_file_neither_present_nor_declared_is_read_as_absent_with_a_warning(tmp_path):
    drop = check(tmp_path, rows={"demographics": None}, manifest={"file.demographics": None})
    assert drop.ok and drop.report.count() == 1
    f = only(drop, "manifest.file_undeclared")
    assert where(f) == ("manifest.csv", None, None, None, "warning")
    assert "file.demographics" in f.message
    assert drop.modes["demographics"] == "absent"
    assert "demographics" not in drop.present


def test_unknown_mode(tmp_path):
    drop = check(tmp_path, manifest={"file.courses": "full"})
    assert not drop.ok
    line = manifest_lines(tmp_path / "pkg")["file.courses"]
    assert where(only(drop, "manifest.mode")) == ("manifest.csv", line, "value", "full", "error")


def test_blank_mode(tmp_path):
    drop = check(tmp_path, manifest={"file.courses": ""})
    assert not drop.ok
    f = only(drop, "manifest.mode")
    assert where(f) == ("manifest.csv", manifest_lines(tmp_path / "pkg")["file.courses"], "value", "", "error")
    assert "blank" in f.message


def test_modes_are_case_insensitive(tmp_path):
    drop = check(tmp_path, manifest={"file.orgs": "Bulk", "file.users": "BULK"})
    assert drop.ok and drop.report.count() == 0
    assert drop.modes["orgs"] == "bulk" and drop.modes["users"] == "bulk"


def test_duplicate_property(tmp_path):
    props = list(manifest_properties("1.1", {f: "bulk" for f in ROSTER_11}).items())
    props.append(("file.users", "delta"))
    drop = check(tmp_path, raw={"manifest.csv": manifest_text(props)})
    assert not drop.ok
    assert where(only(drop, "manifest.duplicate_property")) == (
        "manifest.csv", len(props) + 1, "value", "delta", "error")


def test_unknown_property(tmp_path):
    drop = check(tmp_path, manifest={"file.teachers": "absent", "source.systemCode": "SIS-7"})
    assert not drop.ok
    line = manifest_lines(tmp_path / "pkg")["file.teachers"]
    f = only(drop, "manifest.unknown_property")
    assert where(f) == ("manifest.csv", line, "value", "absent", "error")
    assert "file.teachers" in f.message


@pytest.mark.parametrize("package_version,schema", [("1.2", "oneroster-1.1"), ("1.1", "oneroster-1.2")])
def test_version_mismatch_with_configured_schema(tmp_path, package_version, schema):
    pkg = write_package(tmp_path / "pkg", package_version)
    drop = validate_package(pkg, schema)
    assert not drop.ok
    f = only(drop, "manifest.version")
    assert where(f) == ("manifest.csv", manifest_lines(pkg)["oneroster.version"], "value", package_version, "error")
    assert drop.present == []


def test_missing_oneroster_version(tmp_path):
    drop = check(tmp_path, manifest={"oneroster.version": None})
    assert not drop.ok
    assert where(only(drop, "manifest.version")) == ("manifest.csv", None, "value", "", "error")


def test_gradebook_files_declared_absent_are_fine(tmp_path):
    drop = check(tmp_path, manifest={"file.lineItems": "absent", "file.results": "absent", "file.categories": "absent"})
    assert drop.ok and drop.report.count() == 0
    assert drop.modes["categories"] == "absent" and "categories" not in drop.present


def test_unknown_schema_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown schema"):
        validate_package(write_package(tmp_path / "pkg"), "oneroster-1.0")


def test_path_that_is_not_a_package(tmp_path):
    drop = validate_package(tmp_path / "nowhere", "oneroster-1.1")
    assert not drop.ok
    assert only(drop, "package.open").severity == "error"


# --- files ----------------------------------------------------------------------------------------------

def test_invalid_utf8_reports_the_line_of_the_first_bad_byte(tmp_path):
    rows = valid_rows()["users"]
    lines = users_csv(rows).split(b"\r\n")
    lines[3] = lines[3].replace(b"Cleo", b"Cl\xe9o")  # Latin-1 é in stu-2's row (line 4)
    lines[4] = lines[4].replace(b"Dana", b"D\xe0na")  # and another one further down
    drop = check(tmp_path, files=["users"], raw={"users.csv": b"\r\n".join(lines)})
    assert not drop.ok
    assert where(only(drop, "file.encoding")) == ("users.csv", 4, None, None, "error")
    assert "users" not in drop.present


def _big_users(extra_rows: int) -> tuple[list[dict], list[str]]:
    rows = valid_rows()["users"]
    rows += [{**rows[1], "sourcedId": f"stu-f{i}", "identifier": f"F{i}", "username": f"f{i}"}
             for i in range(extra_rows)]
    return rows, header_for("1.1", "users", rows)


def test_invalid_utf8_past_the_first_64k(tmp_path):
    rows, header = _big_users(800)
    data = users_csv(rows, header)
    assert len(data) > 1 << 16
    bad_line = data.count(b"\n") + 1
    data += b"stu-bad,,,true,sch-1,student,bad,,B\xffd,Name,,,,,,,,\r\n"
    drop = check(tmp_path, files=["users"], raw={"users.csv": data})
    assert not drop.ok
    assert where(only(drop, "file.encoding")) == ("users.csv", bad_line, None, None, "error")


def test_multibyte_character_across_the_64k_header_window_is_valid(tmp_path):
    # The header is read from the first 64 KiB; a character cut by that window is not an encoding error.
    rows = valid_rows()["users"]
    marker = "GIVENNAMEMARKER"
    probe = users_csv([*rows, {**rows[1], "sourcedId": "stu-long", "identifier": "S900", "givenName": marker}])
    start = probe.index(marker.encode())
    given = "a" * ((1 << 16) - 1 - start) + "éè"
    data = users_csv([*rows, {**rows[1], "sourcedId": "stu-long", "identifier": "S900", "givenName": given}])
    assert data[(1 << 16) - 1:(1 << 16) + 1] == "é".encode()
    drop = check(tmp_path, files=["users"], raw={"users.csv": data})
    assert drop.ok and drop.report.count() == 0, drop.report.render()
    assert column(drop, "users", "givenName")[-1] == given


def test_utf8_bom_is_accepted(tmp_path):
    drop = check(tmp_path, bom=True)
    assert drop.ok and drop.report.count() == 0, drop.report.render()
    assert drop.arrow("orgs").column_names[0] == "sourcedId"
    assert column(drop, "orgs", "sourcedId") == ["dist-1", "sch-1"]


def test_ragged_row(tmp_path):
    lines = users_csv(valid_rows()["users"]).split(b"\r\n")
    lines[2] += b",surplus"  # stu-1, line 3
    drop = check(tmp_path, files=["users"], raw={"users.csv": b"\r\n".join(lines)})
    assert not drop.ok
    f = only(drop, "file.parse")
    assert where(f) == ("users.csv", 3, None, None, "error")
    assert "19 fields" in f.message and "18" in f.message


def test_short_row(tmp_path):
    lines = users_csv(valid_rows()["users"]).split(b"\r\n")
    lines[4] = lines[4].rsplit(b",", 1)[0]  # par-1, line 5
    drop = check(tmp_path, files=["users"], raw={"users.csv": b"\r\n".join(lines)})
    assert not drop.ok
    assert where(only(drop, "file.parse")) == ("users.csv", 5, None, None, "error")


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\r\n"])
def test_empty_file(tmp_path, content):
    drop = check(tmp_path, files=["courses"], raw={"courses.csv": content})
    assert not drop.ok
    assert where(only(drop, "file.empty")) == ("courses.csv", 1, None, None, "error")


def test_header_only_file_has_no_rows(tmp_path):
    drop = check(tmp_path, files=["demographics"], rows={"demographics": []})
    assert drop.ok and drop.report.count() == 0
    assert drop.rows["demographics"] == 0


def test_missing_final_newline_is_fine(tmp_path):
    data = users_csv(valid_rows()["users"]).rstrip(b"\r\n")
    drop = check(tmp_path, files=["users"], raw={"users.csv": data})
    assert drop.ok and drop.report.count() == 0
    assert column(drop, "users", "sourcedId")[-1] == "par-1"


# --- headers --------------------------------------------------------------------------------------------

def test_headers_in_any_case_and_order(tmp_path):
    rows = valid_rows()["orgs"]
    header = ["TYPE", "parentsourcedid", "Name", " SourcedId ", "identifier", "DateLastModified", "status"]
    canonical = ["type", "parentSourcedId", "name", "sourcedId", "identifier", "dateLastModified", "status"]
    renamed = [{h: r.get(c) for h, c in zip(header, canonical)} for r in rows]
    drop = check(tmp_path, files=["orgs"], raw={"orgs.csv": csv_text(header, renamed)})
    assert drop.ok and drop.report.count() == 1, drop.report.render()
    f = only(drop, "header.layout")  # read, and told: the binding's header is exact
    assert where(f) == ("orgs.csv", 1, None, None, "warning")
    assert "out of the binding's order" in f.message and "'TYPE'" in f.message
    orgs = drop.arrow("orgs")
    assert orgs.column_names[:7] == ["sourcedId", "status", "dateLastModified", "name", "type", "identifier",
                                     "parentSourcedId"]
    assert orgs.column("type").to_pylist() == ["district", "school"]
    assert orgs.column("parentSourcedId").to_pylist() == [None, "dist-1"]
    assert orgs.column("name").to_pylist() == ["Unified District", "Lincoln High"]


def test_missing_required_column(tmp_path):
    header = [c for c in header_for("1.1", "users", []) if c != "username"]
    drop = check(tmp_path, files=["users"], headers={"users": header})
    assert not drop.ok
    assert where(only(drop, "header.missing_column")) == ("users.csv", 1, "username", None, "error")
    assert "users" not in drop.present


def test_missing_optional_column_is_fine(tmp_path):
    header = [c for c in header_for("1.1", "users", []) if c not in ("sms", "phone", "password")]
    drop = check(tmp_path, files=["users"], headers={"users": header})
    assert drop.ok and drop.report.count() == 1
    assert "optional column(s) sms, phone, password missing" in only(drop, "header.layout").message
    assert column(drop, "users", "phone") == [None] * 4


def test_duplicate_column(tmp_path):
    header = [*header_for("1.1", "users", []), "GivenName"]
    drop = check(tmp_path, files=["users"], headers={"users": header})
    assert not drop.ok
    assert where(only(drop, "header.duplicate_column")) == ("users.csv", 1, "GivenName", None, "error")


def test_unknown_column_is_a_warning_and_dropped(tmp_path):
    drop = check(tmp_path, files=["users"], cells={("users", 0, "nickName"): "Ace"})
    assert drop.ok
    assert where(only(drop, "header.unknown_column")) == ("users.csv", 1, "nickName", None, "warning")
    names = drop.arrow("users").column_names
    assert not any("nick" in n.lower() or n.startswith("_unknown") for n in names)


def test_metadata_columns_are_kept(tmp_path):
    drop = check(tmp_path, files=["users"], cells={("users", 1, "metadata.lockerNumber"): "12B", ("users", 2, "METADATA.bus"): "7"})
    assert drop.ok and drop.report.count() == 0, drop.report.render()
    users = drop.arrow("users")
    assert users.column("metadata.lockerNumber").to_pylist() == [None, "12B", None, None]
    assert users.column("metadata.bus").to_pylist() == [None, None, "7", None]


# --- values ---------------------------------------------------------------------------------------------

def test_required_value_missing(tmp_path):
    drop = check(tmp_path, files=["orgs"], cells={("orgs", 1, "name"): ""})
    assert not drop.ok
    assert where(only(drop, "value.required")) == ("orgs.csv", 3, "name", None, "error")


def test_whitespace_only_value_counts_as_missing(tmp_path):
    drop = check(tmp_path, files=["classes"], cells={("classes", 0, "title"): "   "})
    assert not drop.ok
    assert where(only(drop, "value.required")) == ("classes.csv", 2, "title", None, "error")


def test_duplicate_sourced_id_reports_both_lines(tmp_path):
    drop = check(tmp_path, files=["users"], cells={("users", 3, "sourcedId"): "stu-1"})
    assert not drop.ok
    assert drop.report.totals() == {"key.duplicate": 2}
    assert [where(f) for f in findings(drop, "key.duplicate")] == [
        ("users.csv", 3, "sourcedId", "stu-1", "error"),
        ("users.csv", 5, "sourcedId", "stu-1", "error"),
    ]


def test_two_students_with_the_same_identifier_at_the_same_school(tmp_path):
    drop = check(tmp_path, files=["users"], cells={("users", 2, "identifier"): "S001"})
    assert not drop.ok
    assert drop.report.totals() == {"key.duplicate": 2}
    dupes = findings(drop, "key.duplicate")
    assert [(f.file, f.line, f.column, f.severity) for f in dupes] == [
        ("users.csv", 3, "identifier + orgSourcedIds", "error"),
        ("users.csv", 4, "identifier + orgSourcedIds", "error"),
    ]
    assert all("S001" not in (f.value or "") for f in dupes)  # the identifier is personal data


def test_same_identifier_at_different_schools_or_for_staff_is_fine(tmp_path):
    drop = check(tmp_path, files=["orgs", "users"], extra_rows={"orgs": [{"sourcedId": "sch-2", "name": "Other", "type": "school"}]},
                 cells={("users", 2, "identifier"): "S001", ("users", 2, "orgSourcedIds"): "sch-2",
                        ("users", 3, "identifier"): "T100"})
    assert drop.ok and drop.report.count() == 0, drop.report.render()


def test_bad_date(tmp_path):
    drop = check(tmp_path, files=["enrollments"], cells={("enrollments", 1, "beginDate"): "2023-02-30"})
    assert not drop.ok
    assert where(only(drop, "value.date")) == ("enrollments.csv", 3, "beginDate", "2023-02-30", "error")


@pytest.mark.parametrize("value", ["1/05/2023", "2017-05-06 08:01:05"])
def test_readable_non_iso_date_is_a_warning(tmp_path, value):
    drop = check(tmp_path, files=["enrollments"], cells={("enrollments", 2, "endDate"): value})
    assert drop.ok
    assert where(only(drop, "value.date_format")) == ("enrollments.csv", 4, "endDate", value, "warning")


def test_bad_timestamp_in_date_last_modified(tmp_path):
    drop = check(tmp_path, files=["orgs"], cells={("orgs", 0, "dateLastModified"): "yesterday"})
    assert not drop.ok
    assert where(only(drop, "value.timestamp")) == ("orgs.csv", 2, "dateLastModified", "yesterday", "error")


def test_good_timestamps_are_accepted(tmp_path):
    drop = check(tmp_path, files=["orgs"], modes={"orgs": "delta"},
                 cells={("orgs", 0, "dateLastModified"): "2025-08-01T12:00:00Z",
                        ("orgs", 1, "dateLastModified"): "2025-08-01 12:00:00"})
    assert drop.ok and drop.report.count() == 0, drop.report.render()


def test_boolean_in_capitals_is_accepted_yes_is_rejected(tmp_path):
    drop = check(tmp_path, files=["users"], cells={("users", 0, "enabledUser"): "TRUE", ("users", 2, "enabledUser"): "FALSE",
                                  ("users", 1, "enabledUser"): "yes"})
    assert not drop.ok
    assert where(only(drop, "value.boolean")) == ("users.csv", 3, "enabledUser", "yes", "error")


def test_enum_wrong_value(tmp_path):
    drop = check(tmp_path, files=["orgs"], cells={("orgs", 0, "type"): "county"})
    assert not drop.ok
    assert where(only(drop, "value.enum")) == ("orgs.csv", 2, "type", "county", "error")


def test_enum_in_another_case_is_a_warning(tmp_path):
    drop = check(tmp_path, files=["classes"], cells={("classes", 0, "classType"): "Scheduled"})
    assert drop.ok
    assert where(only(drop, "value.enum_case")) == ("classes.csv", 2, "classType", "Scheduled", "warning")


def test_role_valid_in_12_only_is_rejected_in_11(tmp_path):
    drop = check(tmp_path, files=["users"], cells={("users", 0, "role"): "principal"})
    assert not drop.ok
    assert where(only(drop, "value.enum")) == ("users.csv", 2, "role", "principal", "error")


def test_grades_list_is_accepted_unknown_grade_is_a_warning(tmp_path):
    drop = check(tmp_path, files=["classes", "courses", "users"], cells={("classes", 0, "grades"): "09,10", ("courses", 0, "grades"): "09, 10,11",
                                  ("users", 2, "grades"): "14"})
    assert drop.ok
    assert where(only(drop, "value.grades")) == ("users.csv", 4, "grades", "14", "warning")


def test_grades_list_quoted_in_the_file_is_one_cell(tmp_path):
    drop = check(tmp_path, files=["classes"], cells={("classes", 0, "grades"): "09,10"})
    assert b'"09,10"' in (tmp_path / "pkg" / "classes.csv").read_bytes()
    assert drop.ok and drop.report.count() == 0
    assert column(drop, "classes", "grades") == ["09,10"]


def test_user_ids_format(tmp_path):
    drop = check(tmp_path, files=["users"], cells={("users", 1, "userIds"): "{LDAP:12},{Fed:23}", ("users", 2, "userIds"): "LDAP:12"})
    assert not drop.ok
    f = only(drop, "value.user_ids")
    assert (f.file, f.line, f.column, f.severity) == ("users.csv", 4, "userIds", "error")
    assert f.value != "LDAP:12"  # userIds are personal data: masked


def test_id_with_a_space_is_a_warning(tmp_path):
    drop = check(tmp_path, cells={("courses", 0, "sourcedId"): "crs 1", ("classes", 0, "courseSourcedId"): "crs 1"})
    assert drop.ok
    assert drop.report.totals() == {"value.id_format": 2}
    assert [where(f) for f in findings(drop, "value.id_format")] == [
        ("classes.csv", 2, "courseSourcedId", "crs 1", "warning"),
        ("courses.csv", 2, "sourcedId", "crs 1", "warning"),
    ]
    assert column(drop, "classes", "courseSourcedId") == ["crs 1"]  # still resolves: nothing filtered


def test_id_list_with_a_space_is_a_warning(tmp_path):
    drop = check(tmp_path, files=["users"], cells={("users", 3, "agentSourcedIds"): "stu-1,stu 2"})
    assert drop.ok
    assert drop.report.totals()["value.id_format"] == 1
    (f,) = findings(drop, "value.id_format")
    assert where(f) == ("users.csv", 5, "agentSourcedIds", "stu-1,stu 2", "warning")


@pytest.mark.parametrize("value", ["26", "2025-2026", "20260"])
def test_school_year_not_four_digits(tmp_path, value):
    drop = check(tmp_path, files=["academicSessions"], cells={("academicSessions", 1, "schoolYear"): value})
    assert not drop.ok
    assert where(only(drop, "value.year")) == ("academicSessions.csv", 3, "schoolYear", value, "error")


def test_12_package_rules_apply_to_roles(tmp_path):
    drop = check(tmp_path, "1.2", files=["roles"], cells={("roles", 1, "roleType"): "tertiary", ("roles", 2, "role"): "Principal"})
    assert not drop.ok
    assert drop.report.totals() == {"value.enum": 1, "value.enum_case": 1}
    assert where(findings(drop, "value.enum")[0]) == ("roles.csv", 3, "roleType", "tertiary", "error")
    assert where(findings(drop, "value.enum_case")[0]) == ("roles.csv", 4, "role", "Principal", "warning")


# --- delta / bulk ---------------------------------------------------------------------------------------

def test_delta_file_is_clean_with_status_and_date(tmp_path):
    drop = check(tmp_path, files=["users"], modes={"users": "delta"}, cells={("users", 3, "status"): "tobedeleted"})
    assert drop.ok and drop.report.count() == 0, drop.report.render()
    assert drop.modes["users"] == "delta"
    assert column(drop, "users", "dateLastModified") == [DELTA_TIMESTAMP] * 4


def test_delta_row_without_status(tmp_path):
    drop = check(tmp_path, files=["users"], modes={"users": "delta"}, cells={("users", 1, "status"): None})
    assert not drop.ok
    assert where(only(drop, "delta.status")) == ("users.csv", 3, "status", None, "error")


def test_delta_row_without_date_last_modified(tmp_path):
    drop = check(tmp_path, files=["enrollments"], modes={"enrollments": "delta"}, cells={("enrollments", 2, "dateLastModified"): None})
    assert not drop.ok
    assert where(only(drop, "delta.date_last_modified")) == (
        "enrollments.csv", 4, "dateLastModified", None, "error")


def test_delta_status_inactive_is_a_warning(tmp_path):
    drop = check(tmp_path, files=["users"], modes={"users": "delta"}, cells={("users", 2, "status"): "inactive"})
    assert drop.ok
    assert where(only(drop, "value.status_inactive")) == ("users.csv", 4, "status", "inactive", "warning")


def test_delta_status_unknown_is_an_error(tmp_path):
    drop = check(tmp_path, files=["users"], modes={"users": "delta"}, cells={("users", 2, "status"): "deleted"})
    assert not drop.ok
    assert where(only(drop, "value.enum")) == ("users.csv", 4, "status", "deleted", "error")


def test_status_filled_in_a_bulk_file_is_a_warning(tmp_path):
    drop = check(tmp_path, files=["orgs"], cells={("orgs", 1, "status"): "active"})
    assert drop.ok
    assert where(only(drop, "bulk.status")) == ("orgs.csv", 3, "status", "active", "warning")


# --- references -----------------------------------------------------------------------------------------

def test_enrollment_of_a_missing_user_is_filtered(tmp_path):
    drop = check(tmp_path, cells={("enrollments", 1, "userSourcedId"): "stu-404"})
    assert drop.ok
    assert where(only(drop, "reference.missing")) == ("enrollments.csv", 3, "userSourcedId", "stu-404", "filtered")
    assert column(drop, "enrollments", "sourcedId") == ["enr-1", "enr-3"]
    assert drop.filtered["enrollments"] == 1
    assert drop.rows["enrollments"] == 3
    assert drop.arrow("users").num_rows == 4 and drop.arrow("classes").num_rows == 1


def test_enrollment_in_a_missing_class_is_filtered(tmp_path):
    drop = check(tmp_path, cells={("enrollments", 2, "classSourcedId"): "cls-404"})
    assert drop.ok
    assert where(only(drop, "reference.missing")) == ("enrollments.csv", 4, "classSourcedId", "cls-404", "filtered")
    assert column(drop, "enrollments", "sourcedId") == ["enr-1", "enr-2"]


def test_class_of_a_missing_course_is_filtered_with_its_enrollments(tmp_path):
    drop = check(
        tmp_path,
        extra_rows={"classes": [{"sourcedId": "cls-2", "courseSourcedId": "crs-404"}],
                    "enrollments": [{"sourcedId": "enr-4", "classSourcedId": "cls-2", "userSourcedId": "stu-1",
                                     "role": "student"},
                                    {"sourcedId": "enr-5", "classSourcedId": "cls-2", "userSourcedId": "stu-2",
                                     "role": "student"}]},
    )
    assert drop.ok
    assert drop.report.totals() == {"reference.missing": 3}
    assert [where(f) for f in findings(drop, "reference.missing")] == [
        ("classes.csv", 3, "courseSourcedId", "crs-404", "filtered"),
        ("enrollments.csv", 5, "classSourcedId", "cls-2", "filtered"),
        ("enrollments.csv", 6, "classSourcedId", "cls-2", "filtered"),
    ]
    assert column(drop, "classes", "sourcedId") == ["cls-1"]
    assert column(drop, "enrollments", "sourcedId") == ["enr-1", "enr-2", "enr-3"]
    assert drop.filtered == {**{f: 0 for f in ROSTER_11}, "classes": 1, "enrollments": 2}


def test_cascade_reaches_files_checked_before_the_filtered_one(tmp_path):
    # users sorts after enrollments and demographics: dropping stu-1 must still drop its enrollment
    # and its demographics row, in a later round.
    drop = check(tmp_path, cells={("users", 1, "orgSourcedIds"): "sch-404"})
    assert drop.ok
    assert [where(f) for f in findings(drop, "reference.missing")] == [
        ("demographics.csv", 2, "sourcedId", "stu-1", "filtered"),
        ("enrollments.csv", 3, "userSourcedId", "stu-1", "filtered"),
        ("users.csv", 3, "orgSourcedIds", "sch-404", "filtered"),
    ]
    assert column(drop, "users", "sourcedId") == ["tch-1", "stu-2", "par-1"]
    assert column(drop, "enrollments", "sourcedId") == ["enr-1", "enr-3"]
    assert drop.arrow("demographics").num_rows == 0


def test_one_missing_id_in_a_list_filters_the_row(tmp_path):
    drop = check(tmp_path, cells={("classes", 0, "termSourcedIds"): "term-1, term-404"})
    assert drop.ok
    f = findings(drop, "reference.missing")[0]
    assert where(f) == ("classes.csv", 2, "termSourcedIds", "term-1, term-404", "filtered")
    assert drop.arrow("classes").num_rows == 0


def test_dangling_agent_or_parent_is_only_a_warning(tmp_path):
    drop = check(tmp_path, cells={("users", 1, "agentSourcedIds"): "par-404",
                                  ("orgs", 1, "parentSourcedId"): "dist-404"})
    assert drop.ok
    assert drop.report.totals() == {"reference.unresolved": 2}
    assert [where(f) for f in findings(drop, "reference.unresolved")] == [
        ("orgs.csv", 3, "parentSourcedId", "dist-404", "warning"),
        ("users.csv", 3, "agentSourcedIds", "par-404", "warning"),
    ]
    assert column(drop, "users", "sourcedId") == ["tch-1", "stu-1", "stu-2", "par-1"]
    assert column(drop, "orgs", "sourcedId") == ["dist-1", "sch-1"]
    assert all(v == 0 for v in drop.filtered.values())


def test_references_to_a_file_not_in_the_drop_are_not_checked(tmp_path):
    drop = check(tmp_path, rows={"courses": None})
    assert drop.ok and drop.report.count() == 0
    assert drop.arrow("classes").num_rows == 1


def test_known_keys_of_a_delta_users_file_count_as_existing(tmp_path):
    calls = []

    def known_keys(file, mode, wanted):
        calls.append((file, mode))
        if file == "users":  # the users the drop points at, of which only those on record come back
            assert {"stu-old", "stu-404"} <= set(wanted().to_pylist())
        return pa.array(["stu-old", "tch-9"]) if file == "users" else None

    drop = check(tmp_path, modes={"users": "delta"}, known_keys=known_keys,
                 cells={("enrollments", 1, "userSourcedId"): "stu-old",
                        ("enrollments", 2, "userSourcedId"): "stu-404"})
    assert ("users", "delta") in calls
    # Nothing points at enrollments: the ids on record are never asked for (millions, in a big district).
    assert "enrollments" not in {file for file, _ in calls}
    assert drop.ok
    assert where(only(drop, "reference.missing")) == ("enrollments.csv", 4, "userSourcedId", "stu-404", "filtered")
    assert column(drop, "enrollments", "sourcedId") == ["enr-1", "enr-2"]


def test_the_ids_on_record_asked_for_are_every_id_the_drop_points_at(tmp_path):
    asked = {}

    def known_keys(file, mode, wanted):
        asked[file] = set(wanted().to_pylist())
        return pa.array(["par-1", "par-2", "stu-old"]) if file == "users" else None

    drop = check(tmp_path, modes={"users": "delta"}, known_keys=known_keys,
                 cells={("users", 0, "agentSourcedIds"): " par-1 ,par-2",  # a list, spaced as SIS exports do
                        ("enrollments", 1, "userSourcedId"): "stu-old"})
    # Ids in a list column one by one, and single ids, from every file that points at users.
    assert {"par-1", "par-2", "stu-old"} <= asked["users"]
    assert drop.ok and not findings(drop, "reference.missing")


def test_known_keys_of_an_absent_file(tmp_path):
    def known_keys(file, mode, wanted):
        return pa.array(["crs-old"]) if (file, mode) == ("courses", "absent") else None

    drop = check(tmp_path / "a", rows={"courses": None}, cells={("classes", 0, "courseSourcedId"): "crs-old"},
                 known_keys=known_keys)
    assert drop.ok and drop.report.count() == 0
    drop = check(tmp_path / "b", rows={"courses": None}, cells={("classes", 0, "courseSourcedId"): "crs-404"},
                 known_keys=known_keys)
    assert drop.ok
    assert drop.report.totals() == {"reference.missing": 4}  # the class, then its 3 enrollments
    assert where(findings(drop, "reference.missing")[0]) == (
        "classes.csv", 2, "courseSourcedId", "crs-404", "filtered")


def test_references_are_not_resolved_when_the_drop_has_errors(tmp_path):
    drop = check(tmp_path, cells={("enrollments", 1, "userSourcedId"): "stu-404", ("orgs", 0, "type"): "county"})
    assert not drop.ok
    assert drop.report.totals() == {"value.enum": 1}


# --- quoting --------------------------------------------------------------------------------------------

def test_every_cell_quoted(tmp_path):
    drop = check(tmp_path, quote_all=True)
    assert (tmp_path / "pkg" / "users.csv").read_bytes().startswith(b'"sourcedId","status"')
    assert drop.ok and drop.report.count() == 0, drop.report.render()
    assert column(drop, "users", "status") == [None] * 4  # a quoted empty cell is blank, not ""
    assert column(drop, "users", "enabledUser") == ["true"] * 4


def test_quoted_comma_and_newline_are_read_intact(tmp_path):
    drop = check(tmp_path, quote_all=True, cells={("orgs", 1, "name"): "Lincoln, High",
                                                  ("classes", 0, "location"): "Room 12\nBuilding B"})
    assert drop.ok and drop.report.count() == 0, drop.report.render()
    assert column(drop, "orgs", "name") == ["Unified District", "Lincoln, High"]
    assert column(drop, "classes", "location") == ["Room 12\nBuilding B"]
    assert column(drop, "classes", "classType") == ["scheduled"]


def test_quoted_comma_without_quote_all(tmp_path):
    drop = check(tmp_path, files=["users"], cells={("users", 1, "familyName"): "Ortiz, Jr.", ("users", 1, "middleName"): 'J "Jay"'})
    assert drop.ok and drop.report.count() == 0
    assert column(drop, "users", "familyName")[1] == "Ortiz, Jr."
    assert column(drop, "users", "middleName")[1] == 'J "Jay"'


def test_cells_are_trimmed(tmp_path):
    drop = check(tmp_path, files=["orgs"], cells={("orgs", 1, "type"): " school ", ("orgs", 1, "name"): "  Lincoln High "})
    assert drop.ok and drop.report.count() == 0
    assert column(drop, "orgs", "type") == ["district", "school"]
    assert column(drop, "orgs", "name")[1] == "Lincoln High"


# --- findings -------------------------------------------------------------------------------------------

def test_personal_data_values_are_masked(tmp_path):
    secrets = {"birth": "05/23/20100", "born": "2010/05/23", "ids": "SIS-77123", "ident": "S777001"}
    drop = check(tmp_path, cells={("demographics", 0, "birthDate"): secrets["birth"],
                                  ("users", 1, "userIds"): secrets["ids"],
                                  ("users", 1, "identifier"): secrets["ident"],
                                  ("users", 2, "identifier"): secrets["ident"]},
                 extra_rows={"demographics": [{"sourcedId": "stu-2", "birthDate": "1/05/2010"}]})
    assert not drop.ok
    assert drop.report.totals() == {"value.date": 1, "value.date_format": 1, "value.user_ids": 1, "key.duplicate": 2}
    birth = findings(drop, "value.date")[0]
    assert (birth.file, birth.line, birth.column) == ("demographics.csv", 2, "birthDate")
    assert birth.value == mask("birthDate", secrets["birth"]) != secrets["birth"]
    assert findings(drop, "value.date_format")[0].value == mask("birthDate", "1/05/2010")
    assert findings(drop, "value.user_ids")[0].value == mask("userIds", secrets["ids"])
    everything = drop.report.render(limit=1000) + json.dumps(drop.report.to_dict())
    for secret in (*secrets.values(), "1/05/2010"):
        assert secret not in everything


@pytest.mark.parametrize("col", ["givenName", "familyName", "birthDate", "email", "username", "password",
                                 "identifier", "userIds", "phone", "sms", "preferredGivenName"])
def test_mask_hides_personal_columns(col):
    assert mask(col, "Ada Lovelace") not in (None, "Ada Lovelace")
    assert "Ada" not in mask(col, "Ada Lovelace")


@pytest.mark.parametrize("col", ["sourcedId", "classType", "userSourcedId", None])
def test_mask_keeps_other_columns(col):
    assert mask(col, "cls-1") == "cls-1"


def test_totals_are_exact_beyond_the_sample_limit(tmp_path):
    # 150 bad beginDates and 150 bad endDates: one rule, two columns, 300 in all.
    n = 150
    drop = check(tmp_path, files=["enrollments"], extra_rows={"enrollments": [
        {"sourcedId": f"enr-x{i}", "beginDate": "someday", "endDate": "later", "userSourcedId": f"stu-x{i}"}
        for i in range(n)]})
    assert not drop.ok
    assert drop.report.totals() == {"value.date": 2 * n}
    assert drop.report.totals("error") == {"value.date": 2 * n}
    assert drop.report.count("error") == 2 * n
    assert drop.report.count() == 2 * n
    samples = drop.report.samples("error")
    assert len(samples) == SAMPLE_LIMIT == 100
    assert len(drop.report.tallies[("error", "value.date")].samples) == SAMPLE_LIMIT  # kept, not just shown
    assert [(f.line, f.column) for f in samples] == [(line, "beginDate") for line in range(5, 5 + SAMPLE_LIMIT)]
    assert drop.report.to_dict()["totals_by_rule"] == {"error:value.date": 2 * n}


def test_filtered_totals_are_exact_beyond_the_sample_limit(tmp_path):
    n = 130
    drop = check(tmp_path, extra_rows={"enrollments": [
        {"sourcedId": f"enr-x{i}", "userSourcedId": f"stu-x{i}"} for i in range(n)]})
    assert drop.ok
    assert drop.report.totals("filtered") == {"reference.missing": n}
    assert len(drop.report.samples("filtered")) == SAMPLE_LIMIT
    assert drop.filtered["enrollments"] == n
    assert drop.arrow("enrollments").num_rows == 3


def test_duplicate_totals_are_exact_beyond_the_sample_limit(tmp_path):
    n = 120
    drop = check(tmp_path, files=["orgs"], extra_rows={"orgs": [{"sourcedId": "sch-1", "name": f"Copy {i}"} for i in range(n)]})
    assert not drop.ok
    assert drop.report.totals() == {"key.duplicate": n + 1}
    assert len(drop.report.samples("error")) == SAMPLE_LIMIT


# --- zip packages ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("subfolder", [None, "district-export", "a/b"])
def test_zip_package_works_like_a_folder(tmp_path, subfolder):
    folder = write_package(tmp_path / "pkg", cells={("enrollments", 1, "userSourcedId"): "stu-404",
                                                    ("classes", 0, "classType"): "Scheduled"})
    from_folder = validate_package(folder, "oneroster-1.1")
    zipped = zip_package(folder, tmp_path / "pkg.zip", subfolder=subfolder)
    drop = validate_package(zipped, "oneroster-1.1")
    assert drop.ok
    assert drop.rows == from_folder.rows
    assert drop.report.totals() == from_folder.report.totals() == {"reference.missing": 1, "value.enum_case": 1}
    assert [where(f) for f in drop.report.samples()] == [where(f) for f in from_folder.report.samples()]
    assert column(drop, "enrollments", "sourcedId") == ["enr-1", "enr-3"]


def test_zip_with_an_error_fails(tmp_path):
    folder = write_package(tmp_path / "pkg", "1.2", cells={("users", 0, "enabledUser"): "yes"})
    drop = validate_package(zip_package(folder, tmp_path / "pkg.zip", subfolder="x"), "oneroster-1.2")
    assert not drop.ok
    assert where(only(drop, "value.boolean")) == ("users.csv", 2, "enabledUser", "yes", "error")


def test_zip_without_manifest(tmp_path):
    folder = write_package(tmp_path / "pkg", omit=["manifest.csv"])
    drop = validate_package(zip_package(folder, tmp_path / "pkg.zip"), "oneroster-1.1")
    assert not drop.ok
    assert only(drop, "manifest.missing").file == "manifest.csv"


# --- the shared value macros ----------------------------------------------------------------------------

@pytest.mark.parametrize("sql,expected", [
    ("or_date('2023-01-05')", "2023-01-05"),
    ("or_date('1/05/2023')", "2023-01-05"),
    ("or_date('2017-05-06 08:01:05')", "2017-05-06"),
    ("or_date('2023-02-30')", None),
    ("or_timestamp('2025-08-01T12:00:00Z')", "2025-08-01T12:00:00.000Z"),
    ("or_timestamp('soon')", None),
    ("or_bool('TRUE')", True),
    ("or_bool('False')", False),
    ("or_bool('yes')", None),
    ("or_enum('Scheduled', ['homeroom', 'scheduled'])", "scheduled"),
    ("or_enum('lab', ['homeroom', 'scheduled'])", None),
    ("or_list(' 09, 10,,11 ')", "09,10,11"),
    ("or_list(' , ')", None),
    ("or_status(NULL)", "active"),
    ("or_status('inactive')", "tobedeleted"),
    ("or_status('Active')", "active"),
    ("or_user_id('{LDAP:12},{Fed: 23}', 'fed')", "23"),
    ("or_user_id('{LDAP:12}', 'Fed')", None),
])
def test_macros(macros, sql, expected):
    assert macros.execute(f"SELECT {sql}").fetchone()[0] == expected


@pytest.fixture(scope="module")
def macros():
    con = connect()
    yield con
    con.close()
