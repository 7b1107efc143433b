"""OneRoster 1.1 bulk zip export (delivery/oneroster_export.py) and the formula guard."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from passport_pipelines.delivery import oneroster_export
from passport_pipelines.delivery.formula_guard import neutralize_array, neutralize_formulas
from passport_pipelines.delivery.oneroster_export import write_oneroster_zip
from passport_pipelines.model import entities
from passport_pipelines.validation.oneroster import spec
from tests.conformance.exports import assert_conforms, manifest_of

SPEC_11 = spec.files_for("1.1")
ROSTER_FILES = ("orgs", "academicSessions", "courses", "classes", "users", "enrollments", "demographics")
GRADEBOOK_FILES = ("categories", "classResources", "courseResources", "lineItems", "resources", "results")


def frame(entity: str, rows: list[dict]) -> pd.DataFrame:
    """A canonical table: every model column, missing ones None, booleans as pandas "boolean"."""
    df = pd.DataFrame(rows)
    for column in entities.columns(entity):
        if column not in df.columns:
            df[column] = None
    for column in entities.boolean_columns(entity):
        df[column] = df[column].astype("boolean")
    return df


def golden() -> dict[str, pd.DataFrame]:
    return {
        "orgs": frame("orgs", [
            {"sourced_id": "d1", "status": "active", "name": "Unified District", "type": "district"},
            {"sourced_id": "s1", "status": "active", "name": "Lincoln, High", "type": "school",
             "identifier": "0601", "parent_sourced_id": "d1",
             "extensions": json.dumps({"metadata.color": "red", "mascot": "Lions", "size": 1200})},
            {"sourced_id": "s-old", "status": "tobedeleted", "name": "Closed School", "type": "school"},
        ]),
        "academic_sessions": frame("academic_sessions", [
            {"sourced_id": "y25", "status": "active", "title": "2025-2026", "type": "schoolYear",
             "start_date": "2025-08-01", "end_date": "2026-06-30", "ending_year": "2026"},
            {"sourced_id": "t1", "status": "active", "title": "Fall", "type": "term", "start_date": "2025-08-01",
             "end_date": "2025-12-20", "parent_sourced_id": "y25", "ending_year": "2026"},
        ]),
        "courses": frame("courses", [
            {"sourced_id": "c1", "status": "active", "title": "Algebra I", "course_code": "MA101",
             "grades": "09,10", "org_sourced_id": "s1", "school_year_sourced_id": "y25",
             "subjects": "Mathematics", "subject_codes": "02052"},
        ]),
        "classes": frame("classes", [
            {"sourced_id": "k1", "status": "active", "title": "Algebra I - P1", "course_sourced_id": "c1",
             "class_code": "MA101-1", "class_type": "scheduled", "school_sourced_id": "s1",
             "term_sourced_ids": "t1", "periods": "1"},
        ]),
        "users": frame("users", [
            {"sourced_id": "u1", "status": "active", "enabled_user": True, "role": "student",
             "org_sourced_ids": "s1", "username": "ann", "user_ids": "{SIS:1001}", "given_name": "Ann",
             "family_name": "Lee", "identifier": "1001", "grades": "09", "password": "hunter2",
             "extensions": json.dumps({"metadata.locker": "12B"})},
            {"sourced_id": "u2", "status": "active", "enabled_user": False, "role": "principal",
             "org_sourced_ids": "s1", "username": "bob", "given_name": '=HYPERLINK("x")',
             "family_name": "@SUM(A1)", "phone": "+1-555", "password": "s3cret"},
            {"sourced_id": "u3", "status": "active", "enabled_user": True, "role": "counselor",
             "org_sourced_ids": "s1", "username": "cy", "given_name": "Cy", "family_name": "-Minus"},
            {"sourced_id": "g2", "status": "active", "enabled_user": True, "role": "guardian",
             "org_sourced_ids": "s1", "username": "gb", "given_name": "Gus", "family_name": "Lee"},
            {"sourced_id": "g1", "status": "active", "enabled_user": True, "role": "parent",
             "org_sourced_ids": "s1", "username": "ga", "given_name": "Gia", "family_name": "Lee"},
            {"sourced_id": "u9", "status": "tobedeleted", "enabled_user": True, "role": "student",
             "org_sourced_ids": "s1", "username": "gone", "given_name": "Gone", "family_name": "Away"},
        ]),
        "agents": frame("agents", [
            {"sourced_id": "a1", "status": "active", "user_sourced_id": "u1", "agent_sourced_id": "g2",
             "relationship": "guardian"},
            {"sourced_id": "a2", "status": "active", "user_sourced_id": "u1", "agent_sourced_id": "g1",
             "relationship": "parent"},
            {"sourced_id": "a3", "status": "active", "user_sourced_id": "u1", "agent_sourced_id": "g1",
             "relationship": "parent"},
            {"sourced_id": "a4", "status": "tobedeleted", "user_sourced_id": "u1", "agent_sourced_id": "u9",
             "relationship": "relative"},
        ]),
        "enrollments": frame("enrollments", [
            {"sourced_id": "e1", "status": "active", "class_sourced_id": "k1", "school_sourced_id": "s1",
             "user_sourced_id": "u1", "role": "student", "begin_date": "2025-08-01", "end_date": "2025-12-20"},
            {"sourced_id": "e2", "status": "active", "class_sourced_id": "k1", "school_sourced_id": "s1",
             "user_sourced_id": "u2", "role": "teacher", "primary": True},
            {"sourced_id": "e3", "status": "active", "class_sourced_id": "k1", "school_sourced_id": "s1",
             "user_sourced_id": "u3", "role": "teacher", "primary": False},
            {"sourced_id": "e4", "status": "tobedeleted", "class_sourced_id": "k1", "school_sourced_id": "s1",
             "user_sourced_id": "u9", "role": "student"},
        ]),
        "demographics": frame("demographics", [
            {"sourced_id": "u1", "status": "active", "birth_date": "2010-03-04", "sex": "female", "asian": True,
             "white": False, "hispanic_or_latino_ethnicity": False, "city_of_birth": "Fresno"},
        ]),
    }


def export(tmp_path: Path, tables: dict[str, pd.DataFrame]) -> tuple[Path, dict[str, int]]:
    out = tmp_path / "oneroster.zip"
    counts = write_oneroster_zip(tables, out, "1.1")
    return out, counts


def read(zip_path: Path, name: str) -> pd.DataFrame:
    with zipfile.ZipFile(zip_path) as z:
        return pd.read_csv(io.BytesIO(z.read(name)), dtype=str, keep_default_na=False)


def raw(zip_path: Path, name: str) -> bytes:
    with zipfile.ZipFile(zip_path) as z:
        return z.read(name)


def manifest(zip_path: Path) -> dict[str, str]:
    df = read(zip_path, "manifest.csv")
    assert list(df.columns) == ["propertyName", "value"]
    assert not df["propertyName"].duplicated().any()
    return dict(zip(df["propertyName"], df["value"]))


def test_package_has_manifest_and_exact_11_headers(tmp_path):
    out, counts = export(tmp_path, golden())
    with zipfile.ZipFile(out) as z:
        assert sorted(z.namelist()) == sorted(["manifest.csv", *(f"{f}.csv" for f in ROSTER_FILES)])
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in z.infolist())
    metadata = {"orgs": ["metadata.color", "metadata.mascot", "metadata.size"], "users": ["metadata.locker"]}
    for name in ROSTER_FILES:
        header = raw(out, f"{name}.csv").split(b"\n", 1)[0].decode()
        assert header.split(",") == [*SPEC_11[name].names, *metadata.get(name, [])]
    assert counts == {"orgs.csv": 2, "academicSessions.csv": 2, "courses.csv": 1, "classes.csv": 1,
                      "users.csv": 5, "enrollments.csv": 3, "demographics.csv": 1}


def test_manifest_declares_written_files_bulk_and_the_rest_absent(tmp_path):
    out, _ = export(tmp_path, {"orgs": golden()["orgs"]})
    m = manifest(out)
    assert m["manifest.version"] == "1.0"
    assert m["oneroster.version"] == "1.1"
    assert m["source.systemName"] == "Passport Data Sync"
    assert {k: v for k, v in m.items() if k.startswith("file.")} == {
        **{f"file.{f}": "bulk" for f in ROSTER_FILES}, **{f"file.{f}": "absent" for f in GRADEBOOK_FILES}}


def test_missing_or_empty_tables_are_written_header_only(tmp_path):
    tables = {"orgs": golden()["orgs"], "courses": frame("courses", []), "users": pd.DataFrame()}
    out, counts = export(tmp_path, tables)
    for name in ("academicSessions", "courses", "classes", "users", "enrollments", "demographics"):
        assert raw(out, f"{name}.csv") == (",".join(SPEC_11[name].names) + "\n").encode()
        assert counts[f"{name}.csv"] == 0
    assert manifest(out)["file.courses"] == "bulk"


def test_only_active_rows_with_blank_status_and_date(tmp_path):
    tables = golden()
    for df in tables.values():
        df["date_last_modified"] = "2026-01-02T03:04:05.000Z"
    out, _ = export(tmp_path, tables)
    assert list(read(out, "orgs.csv")["sourcedId"]) == ["d1", "s1"]
    assert list(read(out, "users.csv")["sourcedId"]) == ["u1", "u2", "u3", "g2", "g1"]
    assert list(read(out, "enrollments.csv")["sourcedId"]) == ["e1", "e2", "e3"]
    for name in ROSTER_FILES:
        df = read(out, f"{name}.csv")
        assert (df["status"] == "").all() and (df["dateLastModified"] == "").all(), name


def test_canonical_columns_map_to_11_columns(tmp_path):
    out, _ = export(tmp_path, golden())
    school = read(out, "orgs.csv").set_index("sourcedId").loc["s1"]
    assert (school["name"], school["type"], school["identifier"], school["parentSourcedId"]) == (
        "Lincoln, High", "school", "0601", "d1")
    term = read(out, "academicSessions.csv").set_index("sourcedId").loc["t1"]
    assert (term["startDate"], term["endDate"], term["parentSourcedId"], term["schoolYear"]) == (
        "2025-08-01", "2025-12-20", "y25", "2026")
    course = read(out, "courses.csv").iloc[0]
    assert (course["schoolYearSourcedId"], course["courseCode"], course["grades"], course["orgSourcedId"],
            course["subjectCodes"]) == ("y25", "MA101", "09,10", "s1", "02052")
    klass = read(out, "classes.csv").iloc[0]
    assert (klass["courseSourcedId"], klass["classCode"], klass["classType"], klass["schoolSourcedId"],
            klass["termSourcedIds"], klass["periods"]) == ("c1", "MA101-1", "scheduled", "s1", "t1", "1")
    ann = read(out, "users.csv").set_index("sourcedId").loc["u1"]
    assert (ann["orgSourcedIds"], ann["role"], ann["username"], ann["userIds"], ann["givenName"],
            ann["familyName"], ann["identifier"], ann["grades"]) == (
        "s1", "student", "ann", "{SIS:1001}", "Ann", "Lee", "1001", "09")
    e1 = read(out, "enrollments.csv").set_index("sourcedId").loc["e1"]
    assert (e1["classSourcedId"], e1["schoolSourcedId"], e1["userSourcedId"], e1["role"], e1["beginDate"],
            e1["endDate"]) == ("k1", "s1", "u1", "student", "2025-08-01", "2025-12-20")
    demo = read(out, "demographics.csv").iloc[0]
    assert (demo["sourcedId"], demo["birthDate"], demo["sex"], demo["cityOfBirth"]) == (
        "u1", "2010-03-04", "female", "Fresno")


def test_booleans_are_true_false_or_blank(tmp_path):
    out, _ = export(tmp_path, golden())
    users = read(out, "users.csv").set_index("sourcedId")
    assert users.loc[["u1", "u2"], "enabledUser"].tolist() == ["true", "false"]
    assert read(out, "enrollments.csv")["primary"].tolist() == ["", "true", "false"]
    demo = read(out, "demographics.csv").iloc[0]
    assert (demo["asian"], demo["white"], demo["hispanicOrLatinoEthnicity"], demo["americanIndianOrAlaskaNative"],
            demo["demographicRaceTwoOrMoreRaces"]) == ("true", "false", "false", "", "")


def test_12_only_roles_become_11_roles(tmp_path):
    out, _ = export(tmp_path, golden())
    users = read(out, "users.csv").set_index("sourcedId")
    assert users.loc[["u1", "u2", "u3", "g2", "g1"], "role"].tolist() == [
        "student", "administrator", "aide", "guardian", "parent"]
    assert set(users["role"]) <= set(spec.USER_ROLES_11)


def test_agent_sourced_ids_are_aggregated_sorted_and_active_only(tmp_path):
    out, _ = export(tmp_path, golden())
    users = read(out, "users.csv").set_index("sourcedId")
    assert users.loc["u1", "agentSourcedIds"] == "g1,g2"  # distinct, sorted, tobedeleted u9 left out
    assert (users.drop(index="u1")["agentSourcedIds"] == "").all()
    assert b'"g1,g2"' in raw(out, "users.csv")  # a list cell is one quoted cell


def test_password_is_never_exported(tmp_path):
    tables = golden()
    tables["users"]["password"] = "hunter2"  # even if some upstream step put one there
    out, _ = export(tmp_path, tables)
    assert (read(out, "users.csv")["password"] == "").all()
    assert b"hunter2" not in raw(out, "users.csv")


def test_formulas_are_neutralized_and_quoting_is_minimal(tmp_path):
    out, _ = export(tmp_path, golden())
    users = read(out, "users.csv").set_index("sourcedId")
    assert users.loc["u2", "givenName"] == '\'=HYPERLINK("x")'
    assert users.loc["u2", "familyName"] == "'@SUM(A1)"
    assert users.loc["u2", "phone"] == "+1-555"  # a phone number in a phone column: delivered as it is
    assert users.loc["u3", "familyName"] == "'-Minus"
    body = raw(out, "users.csv")
    assert b'"\'=HYPERLINK(""x"")"' in body  # quotes doubled, cell quoted
    assert b"\nu1,,,true,s1,student,ann,{SIS:1001},Ann,Lee,,1001,,,,\"g1,g2\",09,,12B\n" in body
    assert b"\r" not in body and not body.startswith(b"\xef\xbb\xbf")
    orgs = raw(out, "orgs.csv")
    assert b',"Lincoln, High",school,0601,d1,' in orgs


def test_text_with_quotes_newlines_and_unicode_round_trips(tmp_path):
    tricky = ['He said "hi"', "two\nlines", "Zoë Ñúñez", "a,b,c", "tab\tinside", "\tlead", "\rcr"]
    orgs = frame("orgs", [{"sourced_id": f"o{i}", "status": "active", "name": v, "type": "school"}
                          for i, v in enumerate(tricky)])
    out, _ = export(tmp_path, {"orgs": orgs})
    rows = list(csv.reader(io.StringIO(raw(out, "orgs.csv").decode("utf-8"), newline="")))
    assert [r[3] for r in rows[1:]] == [*tricky[:5], "'\tlead", "'\rcr"]


def test_metadata_columns_round_trip(tmp_path):
    out, _ = export(tmp_path, golden())
    orgs = read(out, "orgs.csv").set_index("sourcedId")
    assert orgs.loc["s1", ["metadata.color", "metadata.mascot", "metadata.size"]].tolist() == ["red", "Lions", "1200"]
    assert orgs.loc["d1", ["metadata.color", "metadata.mascot", "metadata.size"]].tolist() == ["", "", ""]
    users = read(out, "users.csv").set_index("sourcedId")
    assert users.loc["u1", "metadata.locker"] == "12B"
    assert (users.drop(index="u1")["metadata.locker"] == "").all()
    assert "metadata.locker" not in read(out, "enrollments.csv").columns


def test_metadata_of_inactive_rows_adds_no_columns(tmp_path):
    orgs = frame("orgs", [
        {"sourced_id": "o1", "status": "active", "name": "A", "type": "school"},
        {"sourced_id": "o2", "status": "tobedeleted", "name": "B", "type": "school",
         "extensions": json.dumps({"metadata.gone": "x"})},
    ])
    out, _ = export(tmp_path, {"orgs": orgs})
    assert list(read(out, "orgs.csv").columns) == list(SPEC_11["orgs"].names)


def test_chunked_export_keeps_row_order_and_counts(tmp_path, monkeypatch):
    monkeypatch.setattr(oneroster_export, "CHUNK_ROWS", 3)
    users = frame("users", [
        {"sourced_id": f"u{i:02d}", "status": "tobedeleted" if i % 4 == 1 else "active", "enabled_user": i % 2 == 0,
         "role": "student", "org_sourced_ids": "s1", "username": f"n{i}", "given_name": f"=G{i}",
         "family_name": "F", "extensions": json.dumps({"metadata.n": i}) if i % 3 == 0 else None}
        for i in range(11)
    ])
    agents = frame("agents", [{"sourced_id": "a", "status": "active", "user_sourced_id": "u10",
                               "agent_sourced_id": "u08", "relationship": "parent"}])
    out, counts = export(tmp_path, {"users": users, "agents": agents})
    df = read(out, "users.csv")
    expected = [i for i in range(11) if i % 4 != 1]
    assert counts["users.csv"] == len(expected)
    assert df["sourcedId"].tolist() == [f"u{i:02d}" for i in expected]
    assert df["givenName"].tolist() == [f"'=G{i}" for i in expected]
    assert df["enabledUser"].tolist() == ["true" if i % 2 == 0 else "false" for i in expected]
    assert df["metadata.n"].tolist() == [str(i) if i % 3 == 0 else "" for i in expected]
    assert df["agentSourcedIds"].tolist() == ["u08" if i == 10 else "" for i in expected]


def test_arrow_backed_frames_export_the_same_bytes(tmp_path):
    """The golden store hands over string[pyarrow] / boolean frames; object frames must give the same files."""
    tables = golden()
    arrow_tables = {
        name: df.astype({c: pd.StringDtype("pyarrow") for c in df.columns
                         if c not in entities.boolean_columns(name)})
        for name, df in tables.items()
    }
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    plain, _ = export(tmp_path / "a", tables)
    arrow, _ = export(tmp_path / "b", arrow_tables)
    for name in ("manifest", *ROSTER_FILES):
        assert raw(arrow, f"{name}.csv") == raw(plain, f"{name}.csv"), name


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_a_released_export_writes_the_same_files_and_lets_each_table_go_once_written(tmp_path, version):
    """The last destination of a delivery hands its frames over: each is dropped once no file left to write
    reads it (the users file, the costliest to build, comes last), and the package is byte for byte the one
    an export that keeps its frames writes."""
    kept, given = golden(), golden()
    counts = oneroster_export.write_oneroster_zip(kept, tmp_path / "kept.zip", version)
    assert oneroster_export.write_oneroster_zip(given, tmp_path / "released.zip", version, release=True) == counts
    assert list(counts) == [SPEC_11[f].filename if version == "1.1" else f"{f}.csv"
                            for f in oneroster_export.LAYOUTS[version] if f"{f}.csv" in counts]
    assert set(given) == {"users", "agents"}  # what the users file, written last, reads
    assert set(kept) == set(golden())
    with zipfile.ZipFile(tmp_path / "released.zip") as z:
        assert z.namelist()[-1] == "users.csv"
        names = z.namelist()
    for name in names:
        assert raw(tmp_path / "released.zip", name) == raw(tmp_path / "kept.zip", name), name


def test_missing_required_column_fails_without_touching_out_path(tmp_path):
    out = tmp_path / "oneroster.zip"
    out.write_bytes(b"previous export")
    tables = golden()
    tables["enrollments"] = tables["enrollments"].drop(columns=["user_sourced_id"])
    with pytest.raises(ValueError, match="enrollments: missing column.*user_sourced_id"):
        write_oneroster_zip(tables, out, "1.1")
    assert out.read_bytes() == b"previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["oneroster.zip"]


def test_failure_mid_export_leaves_no_partial_zip(tmp_path):
    tables = golden()
    tables["users"].loc[0, "extensions"] = "{not json"  # fails after manifest and orgs are written
    out = tmp_path / "oneroster.zip"
    with pytest.raises(Exception):
        write_oneroster_zip(tables, out, "1.1")
    assert list(tmp_path.iterdir()) == []
    out.write_bytes(b"previous export")  # and a previous delivery survives a failed one intact
    with pytest.raises(Exception):
        write_oneroster_zip(tables, out, "1.1")
    assert out.read_bytes() == b"previous export"
    assert [p.name for p in tmp_path.iterdir()] == ["oneroster.zip"]


def test_unwritable_destination_leaves_nothing(tmp_path):
    out = tmp_path / "missing-folder" / "oneroster.zip"
    with pytest.raises(OSError):
        write_oneroster_zip(golden(), out, "1.1")
    assert list(tmp_path.iterdir()) == []


def test_export_overwrites_previous_zip_atomically(tmp_path):
    out = tmp_path / "oneroster.zip"
    out.write_bytes(b"previous export")
    write_oneroster_zip(golden(), out, "1.1")
    assert zipfile.is_zipfile(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["oneroster.zip"]


@pytest.mark.parametrize("dtype", [object, "string", "string[pyarrow]"])
def test_neutralize_formulas(dtype):
    values = ['=HYPERLINK("x")', "+1-555", "@SUM(A1)", "-2", "\tx", "\rx", "ok", None, "", "a=b", "é"]
    series = pd.Series(values, dtype=dtype, index=range(100, 111), name="v")
    out = neutralize_formulas(series)
    assert out.index.equals(series.index) and out.name == "v" and out.dtype == series.dtype
    assert out.tolist()[:7] == ['\'=HYPERLINK("x")', "'+1-555", "'@SUM(A1)", "'-2", "'\tx", "'\rx", "ok"]
    assert pd.isna(out.iloc[7])
    assert out.tolist()[8:] == ["", "a=b", "é"]
    assert series.tolist()[0] == '=HYPERLINK("x")'  # input untouched


def test_phone_numbers_are_kept_in_phone_columns_and_formulas_are_guarded_everywhere():
    phones = ["+16265554086", "+1 (626) 555-4086", "+44 20.7946.0958", "626-555-4086", None]
    attacks = ["+1+cmd|' /C calc'!A0", "+SUM(A1:A9)", "=1+1", "@SUM(A1)", "-2+3", "\t+1", "\r+1", "+", "+()"]
    as_phone = neutralize_array(pa.array(phones + attacks), "phone").to_pylist()
    assert as_phone[:5] == phones  # E.164 and written-out numbers unchanged
    assert as_phone[5:] == ["'" + a for a in attacks]  # anything else a trigger leads is still guarded
    # The same phone-shaped text in any other column is guarded as before.
    assert neutralize_array(pa.array(["+16265554086", "ok"])).to_pylist() == ["'+16265554086", "ok"]
    assert neutralize_formulas(pd.Series(["+1 626 555 4086", "=x", 3]), "phone").tolist() == \
        ["+1 626 555 4086", "'=x", 3]


def test_exported_phone_and_sms_keep_their_plus_and_other_columns_stay_guarded(tmp_path):
    tables = golden()
    users = tables["users"]
    users.loc[users["sourced_id"] == "u1", ["phone", "sms", "given_name"]] = ["+16265554086", "+1 (626) 555-4087",
                                                                            "+16265554088"]
    users.loc[users["sourced_id"] == "u3", ["phone", "sms"]] = ["+1+cmd|' /C calc'!A0", "=HYPERLINK(\"x\")"]
    out, _ = export(tmp_path, tables)
    rows = read(out, "users.csv").set_index("sourcedId")
    assert rows.loc["u1", ["phone", "sms", "givenName"]].tolist() == ["+16265554086", "+1 (626) 555-4087",
                                                                       "'+16265554088"]
    assert rows.loc["u3", ["phone", "sms"]].tolist() == ["'+1+cmd|' /C calc'!A0", "'=HYPERLINK(\"x\")"]


def test_neutralize_formulas_leaves_non_text_values_alone():
    out = neutralize_formulas(pd.Series(["=1+1", 3, None, 2.5]))
    assert out.tolist()[0] == "'=1+1" and out.tolist()[1] == 3 and out.tolist()[3] == 2.5


# --- conformance to the CSV bindings ------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["1.1", "1.2"])
@pytest.mark.parametrize("shape", ["full", "empty", "without demographics"])
def test_every_export_conforms_to_its_binding(tmp_path, version, shape):
    tables = {"full": golden(), "empty": {}, "without demographics": golden()}[shape]
    absent = frozenset({"demographics"}) if shape == "without demographics" else frozenset()
    out = tmp_path / "out.zip"
    oneroster_export.write_oneroster_zip(tables, out, version, absent=absent)
    assert_conforms(out, version)


def test_a_12_manifest_holds_exactly_the_bindings_properties(tmp_path):
    out = tmp_path / "out.zip"
    oneroster_export.write_oneroster_zip(golden(), out, "1.2")
    names = [name for name, _ in manifest_of(out)]
    files = ["academicSessions", "categories", "classes", "classResources", "courseResources", "courses",
             "demographics", "enrollments", "lineItemLearningObjectiveIds", "lineItems", "lineItemScoreScales",
             "orgs", "resources", "resultLearningObjectiveIds", "results", "resultScoreScales", "roles",
             "scoreScales", "userProfiles", "userResources", "users"]
    assert sorted(names) == sorted(["manifest.version", "oneroster.version", "source.systemName",
                                    *(f"file.{f}" for f in files)])
    assert "file.learningObjectives" not in names


def test_subject_codes_that_do_not_pair_with_the_subjects_are_written_blank(tmp_path):
    tables = golden()
    tables["courses"] = frame("courses", [
        {"sourced_id": f"c{n}", "status": "active", "title": "T", "org_sourced_id": "s1", "subjects": subjects,
         "subject_codes": codes}
        for n, (subjects, codes) in enumerate([("Math", "02052"), (None, "02052"), ("Math,Art", "02052"),
                                               ("Math, Art", "02052,05154"), ("Math", None)])])
    out, _ = export(tmp_path, tables)
    courses = read(out, "courses.csv").set_index("sourcedId")
    assert courses["subjectCodes"].tolist() == ["02052", "", "", "02052,05154", ""]
    assert courses["subjects"].tolist() == ["Math", "", "Math,Art", "Math, Art", "Math"]  # subjects kept
    assert_conforms(out, "1.1")


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_a_user_without_a_username_is_written_with_email_else_sourced_id(tmp_path, version):
    tables = golden()
    users = tables["users"]
    users.loc[users["sourced_id"] == "u3", ["username", "email"]] = [None, "cy@example.org"]
    users.loc[users["sourced_id"] == "g2", "username"] = None
    out = tmp_path / "out.zip"
    oneroster_export.write_oneroster_zip(tables, out, version)
    written = read(out, "users.csv").set_index("sourcedId")["username"]
    assert (written["u1"], written["u3"], written["g2"]) == ("ann", "cy@example.org", "g2")
    assert_conforms(out, version)


def test_sex_values_11_cannot_carry_are_written_blank(tmp_path):
    tables = golden()
    tables["demographics"] = frame("demographics", [
        {"sourced_id": u, "status": "active", "sex": sex}
        for u, sex in (("u1", "female"), ("u2", "unspecified"), ("u3", "other"), ("g1", "male"))])
    out, _ = export(tmp_path, tables)
    assert read(out, "demographics.csv")["sex"].tolist() == ["female", "", "", "male"]
    assert_conforms(out, "1.1")
    oneroster_export.write_oneroster_zip(tables, tmp_path / "12.zip", "1.2")
    assert read(tmp_path / "12.zip", "demographics.csv")["sex"].tolist() == ["female", "unspecified", "other", "male"]
