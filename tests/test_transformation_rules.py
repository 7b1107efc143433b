"""Transformation rules: every operation, their order, unique suffixes, validation, content hashes.

Each test builds a small canonical table in DuckDB (every column of the entity, hashed the way
the runner hashes it) and runs the real engine over it.
"""

from __future__ import annotations

import duckdb
import pandera.errors
import pyarrow as pa
import pytest
from pydantic import ValidationError

from passport_pipelines.config.transform_rules import TransformRule, validate_rules
from passport_pipelines.model import entities
from passport_pipelines.model.frames import to_frame
from passport_pipelines.normalize.rules.attributes import attribute_mapping
from passport_pipelines.normalize.rules.transformations import _passes, apply_transforms
from passport_pipelines.normalize.sql_models import content_hash_sql


def _table(con: duckdb.DuckDBPyConnection, entity: str, rows: list[dict]) -> str:
    booleans = set(entities.boolean_columns(entity))
    base = {"source": "sis", "district": "lakeside", "school_year": "2025-2026", "status": "active"}
    if entity == "users":
        base.update(enabled_user=True, role="student", given_name="Ann", family_name="Lee")
    data = {c: pa.array([{**base, **r}.get(c) for r in rows], pa.bool_() if c in booleans else pa.string())
            for c in entities.columns(entity)}
    con.register("rows_arrow", pa.table(data))
    con.execute(f"CREATE OR REPLACE TEMP TABLE canonical__{entity} AS "
                f"SELECT * REPLACE ({content_hash_sql(entity)} AS content_hash) FROM rows_arrow")
    con.unregister("rows_arrow")
    return f"canonical__{entity}"


def run(rows: list[dict], rules: list[dict], *, entity: str = "users", taken=None, con=None):
    """The rows after the rules, by sourced_id, and the per-rule counts."""
    con = con or duckdb.connect()
    relation = _table(con, entity, rows)
    parsed = validate_rules(entity, [TransformRule.model_validate(r) for r in rules])
    out, counts = apply_transforms(con, relation, entity, parsed, taken=taken)
    table = con.execute(f"SELECT * FROM {out} ORDER BY sourced_id").to_arrow_table()
    return {r["sourced_id"]: r for r in table.to_pylist()}, counts


def values(rows: list[dict], field: str, rules: list[dict], **kw) -> list:
    out, _ = run([{"sourced_id": f"u{i:02d}", field: v} for i, v in enumerate(rows)], rules, **kw)
    return [out[f"u{i:02d}"][field] for i in range(len(rows))]


# --- operations -------------------------------------------------------------------------------

def test_trim_and_case():
    names = ["  mary kate ", "O'NEIL", "d'asia", "jean-luc", "teacher's lounge", "ZOË ñúñez", None,
             "ÉLODIE", "mcDONALD", "x", "Ann", "Ñandú", "AnN"]
    assert values(names, "given_name", [{"field": "given_name", "trim": True, "case": "title"}]) == [
        "Mary Kate", "O'Neil", "D'Asia", "Jean-Luc", "Teacher's Lounge", "Zoë Ñúñez", None, "Élodie", "Mcdonald", "X",
        "Ann", "Ñandú", "Ann"]
    assert values(["Ann", " ann "], "email", [{"field": "email", "case": "upper"}]) == ["ANN", " ANN "]
    assert values(["A@X.ORG"], "email", [{"field": "email", "case": "lower"}]) == ["a@x.org"]


def test_ascii_keeps_only_username_characters():
    raw = ["D'Asia", "Mary Kate", "Zoë Ñúñez", "Łukasz Strauß", "jean-luc.o_neil", "李"]
    assert values(raw, "username", [{"field": "username", "ascii": True}]) == [
        "dasia", "marykate", "zoenunez", "lukaszstrauss", "jean-luc.o_neil", None]  # nothing left: blank


def test_regex_replace_with_groups_case_and_quotes():
    rule = {"field": "email", "regex_replace": {"pattern": r"^(\w+)@old\.k12\.us$", "replacement": r"\1@new.k12.us",
                                                "ignore_case": True}}
    assert values(["ann@OLD.k12.us", "bo@other.org"], "email", [rule]) == ["ann@new.k12.us", "bo@other.org"]
    # Quotes in patterns and replacements are data, never SQL.
    sneaky = {"field": "phone", "regex_replace": {"pattern": "'", "replacement": "'); DROP TABLE x; --"}}
    assert values(["a'b"], "phone", [sneaky]) == ["a'); DROP TABLE x; --b"]


def test_value_map_maps_list_cells_item_by_item():
    grades = {"field": "grades", "value_map": {"K": "KG", 0: "KG", "-1": "PK", "1": "01", "Other": None}}
    assert values(["K,1,0", "-1", "09,10", "K,Other", "Other", None, "", "07"], "grades", [grades]) == [
        "KG,01,KG", "PK", "09,10", "KG", None, None, None, "07"]  # an item mapped to null is dropped
    # A column that is not a list is mapped as a whole.
    assert values(["K,1", "K", "O'Neil"], "phone", [{"field": "phone", "value_map": {"K,1": "x", "O'Neil": "q"}}]) == [
        "x", "K", "q"]


def test_date_formats_parse_to_iso_and_leave_the_unreadable_for_the_schema_check():
    con = duckdb.connect()
    rows = [{"sourced_id": s, "birth_date": d} for s, d in
            [("d1", "1/5/2023"), ("d2", "05.01.2023"), ("d3", "2023-01-05"), ("d4", "31/31/2023"), ("d5", None)]]
    out, counts = run(rows, [{"field": "birth_date", "date_formats": ["%m/%d/%Y", "%d.%m.%Y"]}],
                      entity="demographics", con=con)
    assert [out[s]["birth_date"] for s in ("d1", "d2", "d3", "d4", "d5")] == [
        "2023-01-05", "2023-01-05", "2023-01-05", "31/31/2023", None]
    assert counts == {"demographics[0].birth_date": 2}
    frame = to_frame(con.execute("SELECT * FROM canonical__demographics").to_arrow_table())
    with pytest.raises(pandera.errors.SchemaErrors) as exc:
        entities.CANONICAL_MODELS["demographics"].validate(frame, lazy=True)
    assert set(exc.value.failure_cases["failure_case"]) == {"31/31/2023"}


def test_default_fills_only_blanks():
    assert values(["555-1", None, "", "   "], "phone", [{"field": "phone", "default": "unknown"}]) == [
        "555-1", "unknown", "unknown", "unknown"]


def test_templates_concatenate_and_a_blank_part_gives_null_unless_default():
    rows = [{"sourced_id": "c1", "title": "Algebra", "class_code": " A1 "},
            {"sourced_id": "c2", "title": "Art", "class_code": None},
            {"sourced_id": "c3", "title": "Band", "class_code": "  "}]
    out, _ = run(rows, [{"field": "location", "template": "{title} ({class_code}) {{room}}"}], entity="classes")
    assert [out[c]["location"] for c in ("c1", "c2", "c3")] == ["Algebra (A1) {room}", None, None]
    out, _ = run(rows, [{"field": "location", "template": "{title} ({class_code})", "default": "TBD"}],
                 entity="classes")
    assert [out[c]["location"] for c in ("c1", "c2", "c3")] == ["Algebra (A1)", "TBD", "TBD"]
    # A template may name its own field: the value before the rule.
    out, _ = run(rows, [{"field": "title", "template": "{title} ({class_code})"}], entity="classes")
    assert out["c1"]["title"] == "Algebra (A1)" and out["c2"]["title"] is None


def test_operations_run_in_the_documented_order_whatever_the_key_order():
    rule = {"value_map": {"M": "mapped", "gone": None}, "regex_replace": {"pattern": "^MARY$", "replacement": "M"},
            "default": "fallback", "case": "upper", "trim": True, "template": "  {given_name}  ", "field": "username"}
    # template -> trim -> upper -> regex (sees the upper-cased, trimmed value) -> value map -> default
    out, _ = run([{"sourced_id": "u1", "given_name": "mary"}, {"sourced_id": "u2", "given_name": "Gone"},
                  {"sourced_id": "u3", "given_name": "bo"}], [rule])
    assert [out[u]["username"] for u in ("u1", "u2", "u3")] == ["mapped", "GONE", "BO"]
    out, _ = run([{"sourced_id": "u1", "given_name": "gone"}],
                 [{**rule, "case": "lower", "regex_replace": {"pattern": "x", "replacement": "y"}}])
    assert out["u1"]["username"] == "fallback"  # mapped to null, then the default


def test_later_rules_see_earlier_results():
    out, counts = run([{"sourced_id": "u1", "given_name": "  zoë ", "family_name": "NÚÑEZ"}], [
        {"field": "given_name", "trim": True, "case": "title"},
        {"field": "family_name", "case": "title"},
        {"field": "middle_name", "template": "{given_name}-{family_name}"}])
    assert out["u1"]["middle_name"] == "Zoë-Núñez"
    assert counts == {"users[0].given_name": 1, "users[1].family_name": 1, "users[2].middle_name": 1}


# --- unique -----------------------------------------------------------------------------------

USERNAME = {"field": "username", "template": "{given_name}.{family_name}", "case": "lower", "ascii": True,
            "unique": True, "only_if_blank": True}


def _people(*names: tuple[str, str, str | None]) -> list[dict]:
    return [{"sourced_id": s, "given_name": g.split()[0], "family_name": g.split()[1], "username": u}
            for s, g, u in names]


def test_unique_suffixes_follow_sourced_id_order_and_keep_existing_usernames():
    rows = _people(("u3", "John Smith", None), ("u1", "John Smith", None), ("u2", "JOHN SMITH", None),
                   ("u4", "Mary Kate", "mk.custom"), ("u5", "D'Asia O'Neil", None), ("u6", "Ann Lee", None))
    rows[3]["family_name"] = "Ng"
    out, counts = run(rows, [USERNAME])
    assert {u: out[u]["username"] for u in out} == {
        "u1": "john.smith", "u2": "john.smith2", "u3": "john.smith3", "u4": "mk.custom",
        "u5": "dasia.oneil", "u6": "ann.lee"}
    assert counts == {"users[0].username": 5}


def test_a_rule_after_a_unique_rule_sees_the_settled_values():
    rows = _people(("u1", "John Smith", None), ("u2", "John Smith", None))
    out, counts = run(rows, [USERNAME, {"field": "email", "template": "{username}@k12.us"},
                             {"field": "phone", "default": "none"}])
    assert [out[u]["email"] for u in ("u1", "u2")] == ["john.smith@k12.us", "john.smith2@k12.us"]
    assert counts == {"users[0].username": 2, "users[1].email": 2, "users[2].phone": 2}


def test_rules_after_a_unique_rule_share_its_pass_unless_they_need_the_settled_value():
    unique = TransformRule.model_validate(USERNAME)
    phone, upper_given = TransformRule(field="phone", default="none"), TransformRule(field="given_name", case="upper")
    email = TransformRule(field="email", template="{username}@k12.us")

    def numbers(rules):
        return [[n for n, _ in one] for one in _passes(rules)]
    # Neither reads nor writes the username: computed in the unique rule's pass, one rewrite.
    assert numbers([unique, phone, upper_given]) == [[0, 1, 2]]
    # The e-mail reads the settled username: a pass of its own, and the rules after it stay after it.
    assert numbers([unique, email, phone]) == [[0], [1, 2]]
    assert numbers([unique, phone, email, upper_given]) == [[0, 1], [2, 3]]
    assert numbers([unique, TransformRule(field="email", unique=True), phone]) == [[0], [1, 2]]
    # Shared or not, the values are those of the rules applied one after another: the template
    # read the names before the later rule upper-cased them.
    out, counts = run(_people(("u1", "John Smith", None), ("u2", "John Smith", None)),
                      [USERNAME, {"field": "given_name", "case": "upper"}, {"field": "phone", "default": "none"}])
    assert [(out[u]["username"], out[u]["given_name"], out[u]["phone"]) for u in ("u1", "u2")] == [
        ("john.smith", "JOHN", "none"), ("john.smith2", "JOHN", "none")]
    assert counts == {"users[0].username": 2, "users[1].given_name": 2, "users[2].phone": 2}


def test_a_suffix_that_collides_again_moves_on():
    rows = _people(("u1", "John Smith", None), ("u2", "John Smith", None), ("u3", "John Smith", None),
                   ("u9", "Jo Other", "john.smith2"))  # an existing username, not changed by the rule
    out, _ = run(rows, [USERNAME])
    assert [out[u]["username"] for u in ("u1", "u2", "u3", "u9")] == [
        "john.smith", "john.smith3", "john.smith4", "john.smith2"]


def test_taken_values_are_avoided_case_insensitively_even_far_along():
    taken_values = pa.array(["John.Smith", *[f"john.smith{n}" for n in range(2, 120)], None, "ann.lee3"])
    asked = []

    def taken(field):
        asked.append(field)
        return taken_values
    out, _ = run(_people(("u1", "John Smith", None), ("u2", "John Smith", None), ("u3", "Ann Lee", None)),
                 [USERNAME], taken=taken)
    assert [out[u]["username"] for u in ("u1", "u2", "u3")] == ["john.smith120", "john.smith121", "ann.lee"]
    assert asked == ["username"]


@pytest.mark.parametrize("others", [0, 6], ids=["most-rows-share-a-value", "few-rows-share-a-value"])
def test_a_value_held_elsewhere_is_suffixed_however_many_rows_share_values(others):
    # Where most rows share their value all are ranked; where few do, the others are left out
    # before ranking, except a value someone else holds (ann.lee), which must move on too.
    rows = _people(("u1", "John Smith", None), ("u2", "John Smith", None), ("u3", "Ann Lee", None),
                   *[(f"v{i}", f"Solo Person{i}", None) for i in range(others)])
    out, counts = run(rows, [USERNAME], taken=lambda field: pa.array(["Ann.Lee"]))
    assert [out[u]["username"] for u in ("u1", "u2", "u3")] == ["john.smith", "john.smith2", "ann.lee2"]
    assert all(out[f"v{i}"]["username"] == f"solo.person{i}" for i in range(others))
    assert counts == {"users[0].username": 3 + others}


def test_suffixes_of_one_value_do_not_collide_with_another_value():
    # ab1 + suffix 2 and ab + suffix 12 are both "ab12": only one row may have it.
    rows = [{"sourced_id": f"a{i:02d}", "username": "ab"} for i in range(12)]
    rows += [{"sourced_id": "b1", "username": "ab1"}, {"sourced_id": "b2", "username": "ab1"}]
    out, _ = run(rows, [{"field": "username", "unique": True}])
    got = [out[r["sourced_id"]]["username"] for r in rows]
    assert len(set(got)) == len(got)
    # a11 comes before b2 (by sourced_id) and takes ab12; b2 moves on to ab13.
    assert got == ["ab", *[f"ab{n}" for n in range(2, 13)], "ab1", "ab13"]


def test_a_record_keeps_the_suffixed_username_it_had():
    # Last sync: u5 got john.smith (first), u7 john.smith2. Now u1 appears with the same name:
    # the old records keep theirs and the newcomer takes the next free one.
    held = pa.table({"value": ["john.smith", "john.smith2", "ann.lee"], "sourced_id": ["u5", "u7", None]})
    rows = _people(("u1", "John Smith", None), ("u5", "John Smith", None), ("u7", "John Smith", None),
                   ("u8", "Ann Lee", None))
    out, _ = run(rows, [USERNAME], taken=lambda field: held)
    assert {u: out[u]["username"] for u in out} == {
        "u1": "john.smith3", "u5": "john.smith", "u7": "john.smith2", "u8": "ann.lee2"}


def test_a_value_two_records_held_stays_with_the_first_and_a_record_keeps_one_value():
    # An inconsistent history: u5 and u7 both held john.smith, and u7 held john.smith3 as well.
    held = pa.table({"value": ["john.smith", "john.smith", "john.smith3"], "sourced_id": ["u5", "u7", "u7"]})
    rows = _people(("u1", "John Smith", None), ("u5", "John Smith", None), ("u7", "John Smith", None))
    out, _ = run(rows, [USERNAME], taken=lambda field: held)
    # u5 sorts first and keeps john.smith; u7 keeps neither value it shared (it is ranked with u1).
    assert {u: out[u]["username"] for u in out} == {"u1": "john.smith2", "u5": "john.smith", "u7": "john.smith3"}


def test_unique_without_only_if_blank_suffixes_the_given_values():
    out, counts = run([{"sourced_id": "u2", "email": "A@x.org"}, {"sourced_id": "u1", "email": "a@x.org"},
                       {"sourced_id": "u3", "email": None}, {"sourced_id": "u4", "email": None}],
                      [{"field": "email", "unique": True}])
    assert [out[u]["email"] for u in ("u1", "u2", "u3", "u4")] == ["a@x.org", "A@x.org2", None, None]
    assert counts == {"users[0].email": 1}


# --- attribute mapping, the first layer of the same rewrite ---------------------------------------

def test_attribute_mapping_is_computed_before_the_transforms_and_merges_custom_attributes():
    con = duckdb.connect()
    table = _table(con, "users", [
        {"sourced_id": "u1", "identifier": "1001", "extensions": None},
        {"sourced_id": "u2", "identifier": "1002", "extensions": '{"ssid":"S2","bus":"R4"}'},
        {"sourced_id": "u3", "identifier": None, "extensions": None},
        {"sourced_id": "u4", "identifier": None, "extensions": '{"ssid":"S4"}'}])
    mapping = attribute_mapping("users", {"state_id": "extension:ssid", "student_number": "identifier",
                                          "route": "extension:bus"})
    out, counts = apply_transforms(con, table, "users", [TransformRule(field="state_id", default="none")],
                                   mapping=mapping)
    rows = {r[0]: r[1:] for r in con.execute(f"SELECT sourced_id, state_id, extensions FROM {out}").fetchall()}
    # The default saw the mapped state ids: only rows without one got it.
    assert {u: r[0] for u, r in rows.items()} == {"u1": "none", "u2": "S2", "u3": "none", "u4": "S4"}
    assert counts == {"users[0].state_id": 2}
    import json
    ext = {u: json.loads(r[1]) if r[1] else None for u, r in rows.items()}
    # A row without extensions gets a new object of the attributes that have a value, and none
    # at all when no attribute has one; a row with extensions keeps what it had.
    assert ext == {"u1": {"student_number": "1001"},
                   "u2": {"ssid": "S2", "bus": "R4", "student_number": "1002", "route": "R4"},
                   "u3": None, "u4": {"ssid": "S4"}}


def test_attribute_mapping_alone_rewrites_the_table_with_one_custom_attribute():
    con = duckdb.connect()
    table = _table(con, "users", [{"sourced_id": "u1", "identifier": "1001"}, {"sourced_id": "u2"}])
    out, counts = apply_transforms(con, table, "users", [],
                                   mapping=attribute_mapping("users", {"student_number": "identifier"}))
    assert out == table and counts == {}
    assert con.execute(f"SELECT extensions FROM {out} ORDER BY sourced_id").fetchall() == [
        ('{"student_number":"1001"}',), (None,)]
    assert [r[0] for r in con.execute(f"DESCRIBE {out}").fetchall()] == list(entities.columns("users"))


# --- content hash and shape --------------------------------------------------------------------

def test_content_hash_follows_the_values_and_columns_keep_their_order():
    con = duckdb.connect()
    rows = [{"sourced_id": "u1", "phone": None}, {"sourced_id": "u2", "phone": "555"}]
    before = {r["sourced_id"]: r["content_hash"] for r in
              con.execute(f"SELECT * FROM {_table(con, 'users', rows)}").to_arrow_table().to_pylist()}
    out, counts = run(rows, [{"field": "phone", "default": "555"}], con=con)
    assert counts == {"users[0].phone": 1}
    assert out["u2"]["content_hash"] == before["u2"]  # unchanged row, unchanged hash
    assert out["u1"]["content_hash"] != before["u1"]
    assert out["u1"]["content_hash"] == before["u2"]  # same content now (sourced_id is not content)
    assert [r[0] for r in con.execute("DESCRIBE canonical__users").fetchall()] == list(entities.columns("users"))


def test_a_table_is_changed_in_place_and_a_view_is_copied():
    con = duckdb.connect()
    table = _table(con, "users", [{"sourced_id": "u1", "phone": None}, {"sourced_id": "u2", "phone": "555"}])
    rules = [TransformRule(field="phone", default="none")]
    assert apply_transforms(con, table, "users", rules)[0] == table  # the runner's own table: no copy
    assert con.execute(f"SELECT phone FROM {table} ORDER BY sourced_id").fetchall() == [("none",), ("555",)]
    con.execute(f"UPDATE {table} SET phone = NULL WHERE sourced_id = 'u1'")
    con.execute(f"CREATE VIEW some_users AS SELECT * FROM {table}")
    out, counts = apply_transforms(con, "some_users", "users", rules)
    assert out != "some_users" and counts == {"users[0].phone": 1}
    assert con.execute(f"SELECT phone FROM {out} ORDER BY sourced_id").fetchall() == [("none",), ("555",)]
    assert con.execute(f"SELECT phone FROM {table} ORDER BY sourced_id").fetchall() == [(None,), ("555",)]


def test_no_rules_returns_the_relation_itself():
    con = duckdb.connect()
    relation = _table(con, "users", [{"sourced_id": "u1"}])
    assert apply_transforms(con, relation, "users", []) == (relation, {})


# --- validation -------------------------------------------------------------------------------

@pytest.mark.parametrize("entity, rule, message", [
    ("users", {"field": "nickname", "trim": True}, "users[1] (field 'nickname'): users has no column 'nickname'"),
    ("users", {"field": "sourced_id", "trim": True}, "sourced_id is the record's id; transformation rules cannot"),
    ("users", {"field": "source", "case": "lower"}, "source is a provenance column"),
    ("classes", {"field": "status", "case": "lower"}, "status is a provenance column"),
    ("users", {"field": "org_sourced_ids", "trim": True}, "is an id of orgs (changed consistently by the SIS id"),
    ("users", {"field": "enabled_user", "default": "true"}, "enabled_user is a true/false column"),
    ("users", {"field": "username", "template": "{first}.{family_name}"}, "template names {first}, not a column"),
    ("classes", {"field": "title", "template": "{title} {content_hash}"}, "template names {content_hash}"),
])
def test_rules_are_checked_against_the_entity(entity, rule, message):
    with pytest.raises(ValueError) as exc:
        validate_rules(entity, [TransformRule(field="phone" if entity == "users" else "title", trim=True),
                                TransformRule.model_validate(rule)])
    assert message in str(exc.value)  # the second rule: the first is fine


@pytest.mark.parametrize("rule, message", [
    ({"field": "email", "regex_replace": {"pattern": "(a"}}, "pattern does not compile: missing )"),
    ({"field": "email", "regex_replace": {"pattern": "(?=a)b"}}, "pattern does not compile"),  # fine in Python, not RE2
    ({"field": "email", "regex_replace": {"pattern": "(a)", "replacement": r"\2"}}, "the pattern has 1 group(s)"),
    ({"field": "email", "template": "{given_name!r}"}, "placeholders are plain column names"),
    ({"field": "email", "template": "{given_name"}, "write {{ or }} for a literal brace"),
    ({"field": "birth_date", "date_formats": ["%Q-%m-%d"]}, "is not a strptime pattern"),
    ({"field": "birth_date", "date_formats": ["%m/%Y"]}, "needs a year (%Y or %y), a month"),
    ({"field": "email", "lowercase": True}, "Extra inputs are not permitted"),
    ({"field": "email"}, "has no operation"),
    ({"field": "email", "ascii": True, "case": "title"}, "cannot be combined with case: title"),
    ({"field": "grades", "value_map": {"K": "KG", "yes": True}}, "YAML boolean; quote it"),
    ({"field": "grades", "value_map": {}}, "value_map is empty"),
])
def test_malformed_rules_are_refused_with_the_reason(rule, message):
    with pytest.raises(ValidationError) as exc:
        TransformRule.model_validate(rule)
    assert message in str(exc.value)


def test_regex_replacement_may_refer_to_named_groups_and_escape_backslashes():
    rule = TransformRule.model_validate({"field": "email", "regex_replace": {
        "pattern": r"(?P<user>[a-z]+)[(]x[)]", "replacement": r"\1\\"}})
    assert values(["ann(x)"], "email", [rule.model_dump(exclude_none=True, exclude_defaults=True)]) == ["ann\\"]


def test_a_relation_missing_the_field_is_named_in_the_error():
    con = duckdb.connect()
    con.execute("CREATE TEMP TABLE partial AS SELECT 'u1' AS sourced_id, 'x' AS email")
    with pytest.raises(ValueError, match=r"transforms.users\[0\] \(field 'given_name'\) names given_name"):
        apply_transforms(con, "partial", "users", [TransformRule(field="given_name", trim=True)])
