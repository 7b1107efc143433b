"""Golden people by master fields: which record each attribute of a merged person comes from."""

from __future__ import annotations

import json

import duckdb
import pyarrow as pa

from passport_pipelines.model import entities
from passport_pipelines.reconciliation.golden_people import golden_people_view, lineage_rows


def _users(rows: list[dict]) -> pa.Table:
    cols = ["golden_id", *entities.columns("users")]
    bools = set(entities.boolean_columns("users"))
    return pa.table({c: pa.array([r.get(c) for r in rows], pa.bool_() if c in bools else pa.string()) for c in cols})


def _record(source: str, sid: str, golden: str, modified: str, **values) -> dict:
    return {"golden_id": golden, "source": source, "sourced_id": sid, "status": "active",
            "date_last_modified": modified, "role": "student", **values}


def _golden(rows, master_fields, takes=None):
    con = duckdb.connect()
    records = _users(rows)
    con.register("records", records)
    # The delivered view: ids are golden ids already.
    con.execute("CREATE VIEW delivered AS SELECT * EXCLUDE (golden_id) REPLACE (golden_id AS sourced_id) FROM records")
    if takes is not None:
        con.register("takes", takes)
    view = golden_people_view(con, "users", "delivered", master_fields=master_fields, sources=["sis", "google"],
                              takes="takes" if takes is not None else None)
    people = {r["sourced_id"]: r for r in con.execute(f"SELECT * FROM {view}").to_arrow_table().to_pylist()}
    lineage = {r["golden_id"]: json.loads(r["lineage"]) for r in lineage_rows(
        con, "records", master_fields=master_fields, sources=["sis", "google"],
        takes="takes" if takes is not None else None).to_pylist()}
    return people, lineage


def test_each_attribute_from_the_first_source_that_has_it_then_the_most_recent_record():
    rows = [
        _record("sis", "s1", "G1", "2026-01-01T00:00:00Z", given_name="Ada", email=None, username="ada.o"),
        _record("google", "g1", "G1", "2026-03-01T00:00:00Z", given_name="ADA", email="ada@x.org", username="ada"),
        _record("sis", "s9", "G1", "2026-02-01T00:00:00Z", given_name="Adah", phone="555"),  # twice in the SIS
        _record("sis", "s2", "G2", "2026-01-01T00:00:00Z", given_name="Ben"),
    ]
    people, lineage = _golden(rows, {"users": {"email": ["google", "sis"]}})
    assert set(people) == {"G1", "G2"}
    ada = people["G1"]
    assert ada["given_name"] == "Adah"  # the SIS ranks first; its more recent record wins
    assert ada["email"] == "ada@x.org"  # master field: google first
    assert ada["username"] == "ada.o"  # s9 has none, s1 does: the first SIS record with a value
    assert ada["phone"] == "555" and ada["date_last_modified"] == "2026-03-01T00:00:00Z"
    assert people["G2"]["given_name"] == "Ben"
    assert set(lineage) == {"G1"}  # Ben has one record: no lineage to keep
    assert {k: v for k, v in lineage["G1"].items() if v} == {
        "given_name": "sis:s9", "email": "google:g1", "username": "sis:s1", "phone": "sis:s9", "role": "sis:s9"}


def test_a_more_complete_record_wins_a_tie_and_taken_fields_win_over_all():
    rows = [_record("sis", "s1", "G1", "2026-01-01", given_name="Ada"),
            _record("sis", "s2", "G1", "2026-01-01", given_name="Ada L.", family_name="Okafor")]
    people, _ = _golden(rows, {})
    assert people["G1"]["given_name"] == "Ada L."  # same source and time: the record with more values
    takes = pa.table({"golden_id": ["G1"], "field": ["given_name"], "value": ["Adaeze"], "record": ["google:g7"]})
    people, lineage = _golden(rows, {}, takes)
    assert people["G1"]["given_name"] == "Adaeze" and lineage["G1"]["given_name"] == "google:g7"
