"""The duplicate-detection engine (passport_pipelines.reconciliation.linkage): normalization, domains in priority
order, fuzzy thresholds, the twin guard, incremental runs, clusters and the cluster guard, and
explanations that never carry student data."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from passport_pipelines.config.reconciliation import DEFAULT_PERSON_DOMAINS, MatchDomain
from passport_pipelines.reconciliation.linkage import CLUSTERS_SCHEMA, PAIRS_SCHEMA, find_duplicates
from passport_pipelines.reconciliation.linkage.encoding import BLANK, encode, encode_into
from passport_pipelines.reconciliation.linkage.normalization import normalize
from passport_pipelines.reconciliation.linkage.records import prepare
from passport_pipelines.reconciliation.linkage.revision import revise
from tests.synthetic.people import generate

ATTRIBUTES = ("given_name", "family_name", "email", "birth_date", "state_id", "phone")
NAME_AND_EMAIL = list(DEFAULT_PERSON_DOMAINS)
NAME_DOB = MatchDomain(name="name_dob", attributes=["given_name", "family_name", "birth_date"], match="fuzzy",
                       threshold=0.9)


def people(*rows: dict) -> pa.Table:
    """Records from dicts: record_key plus any attributes (the others null), source 'sis' unless given."""
    return pa.table({"record_key": pa.array([r["record_key"] for r in rows], pa.string()),
                     "source": pa.array([r.get("source", "sis") for r in rows], pa.string()),
                     **{a: pa.array([r.get(a) for r in rows], pa.string()) for a in ATTRIBUTES}})


def pairs(result) -> dict[tuple[str, str], dict]:
    return {(p["left_key"], p["right_key"]): p for p in result.pairs.to_pylist()}


def test_equal_after_normalization_is_a_merge_with_its_explanation():
    result = find_duplicates(people(
        {"record_key": "a", "given_name": "José  María", "family_name": "O'Brien-Núñez", "email": "JM.OBrien@X.org "},
        {"record_key": "b", "given_name": " jose maria", "family_name": "obrien nunez", "email": "jm.obrien@x.org",
         "source": "google"},
    ), NAME_AND_EMAIL)
    assert result.pairs.schema == PAIRS_SCHEMA and result.clusters.schema == CLUSTERS_SCHEMA
    pair = pairs(result)[("a", "b")]
    assert pair["domain"] == "name_and_email" and pair["resolution"] == "unattended"
    assert pair["decision"] == "merge" and pair["score"] == 1.0
    assert pair["agreed"] == ["given_name", "family_name", "email"]
    assert json.loads(pair["scores"]) == {"given_name": 1, "family_name": 1, "email": 1}
    assert pair["reason"] == "domain name_and_email unattended"
    assert result.clusters.to_pylist() == [{"record_key": "a", "cluster_key": "a"},
                                           {"record_key": "b", "cluster_key": "a"}]
    assert result.counts == {"name_and_email": {"merge": 1, "review": 0}}


@pytest.mark.parametrize("kind,raw,expected", [
    ("name", "  Ødegaard-Lindqvist ", "odegaard lindqvist"),
    ("name", "D'Angelo   St. John", "dangelo st john"),
    ("name", "STRAẞE", "strasse"),
    ("name", " - ' . ", None),
    ("email", "Zoë.Smith+1@Example.ORG", "zoesmith1@exampleorg"),
    ("code", "123-45 678", "12345678"),
    ("date", "2010-05-12", "20100512"),
    ("name", "", None),
])
def test_normalization(kind, raw, expected):
    assert normalize(pa.array([raw, None], pa.string()), kind).to_pylist() == [expected, None]


def test_blank_never_matches():
    blank = [{"record_key": k, "given_name": g, "family_name": f, "email": e, "birth_date": d}
             for k, g, f, e, d in [("a", "Ann", "Lee", None, "2010-01-01"), ("b", "Ann", "Lee", " ", "2010-01-01"),
                                   ("c", "Ann", "Lee", "--", None), ("d", None, None, None, None),
                                   ("e", " ", "", "...", None), ("f", "Ann", "Lee", None, "2010-07-09")]]
    result = find_duplicates(people(*blank), NAME_AND_EMAIL)
    assert result.pairs.num_rows == 0 and result.clusters.num_rows == 0
    # A fuzzy domain needs every attribute on both sides too: 'c' has no birth date.
    result = find_duplicates(people(*blank), [NAME_DOB])
    assert set(pairs(result)) == {("a", "b")}
    # Candidates made by one domain (a-f: same names and birth year) are not matched on blanks by another.
    result = find_duplicates(people(*blank), [NAME_DOB, *NAME_AND_EMAIL])
    assert {k: p["domain"] for k, p in pairs(result).items()} == {("a", "b"): "name_dob"}


def test_a_pair_is_reported_once_under_the_first_domain_it_satisfies():
    table = people(
        {"record_key": "a", "given_name": "Ann", "family_name": "Lee", "email": "ann@x.org", "state_id": "S1"},
        {"record_key": "b", "given_name": "Ann", "family_name": "Lee", "email": "ann@x.org", "state_id": "S1"},
        {"record_key": "c", "given_name": "Bo", "family_name": "Kim", "email": "bo@x.org", "state_id": "S2"},
        {"record_key": "d", "given_name": "Bob", "family_name": "Kim", "email": None, "state_id": "S2"},
    )
    state = MatchDomain(name="state_id", attributes=["state_id"])
    result = find_duplicates(table, [*NAME_AND_EMAIL, state])
    assert {k: p["domain"] for k, p in pairs(result).items()} == {("a", "b"): "name_and_email", ("c", "d"): "state_id"}
    assert result.counts == {"name_and_email": {"merge": 1, "review": 0}, "state_id": {"merge": 1, "review": 0}}
    result = find_duplicates(table, [state, *NAME_AND_EMAIL])
    assert {k: p["domain"] for k, p in pairs(result).items()} == {("a", "b"): "state_id", ("c", "d"): "state_id"}
    assert result.counts["name_and_email"] == {"merge": 0, "review": 0}


def test_fuzzy_threshold_is_inclusive():
    # Same given name (1.0) and a birth date with one digit mistyped (0.8): mean exactly 0.9.
    table = people({"record_key": "a", "given_name": "Ann", "birth_date": "2010-05-12"},
                   {"record_key": "b", "given_name": "ann", "birth_date": "2010-05-13"})

    def domain(t):
        return MatchDomain(name="d", attributes=["given_name", "birth_date"], match="fuzzy", threshold=t)

    at = pairs(find_duplicates(table, [domain(0.9)], distinguishing=()))
    assert at[("a", "b")]["score"] == pytest.approx(0.9)
    assert json.loads(at[("a", "b")]["scores"]) == {"given_name": 1, "birth_date": 0.8}
    assert at[("a", "b")]["agreed"] == ["given_name"]
    assert at[("a", "b")]["decision"] == "merge"
    assert find_duplicates(table, [domain(0.9001)], distinguishing=()).pairs.num_rows == 0


def test_fuzzy_names_typos_and_swapped_names():
    table = people(
        {"record_key": "a", "given_name": "Jonathan", "family_name": "Smith", "birth_date": "2011-02-03"},
        {"record_key": "b", "given_name": "Jonathan", "family_name": "Smyth", "birth_date": "2011-02-03"},
        {"record_key": "c", "given_name": "Smith", "family_name": "Jonathan", "birth_date": "2011-02-03"},
        {"record_key": "d", "given_name": "Jonathan", "family_name": "Brown", "birth_date": "2011-02-03"},
    )
    found = pairs(find_duplicates(table, [NAME_DOB]))
    assert found[("a", "b")]["decision"] == "merge"
    assert 0.9 < found[("a", "b")]["score"] < 1
    assert found[("a", "c")]["decision"] == "merge" and found[("a", "c")]["score"] == 1.0
    assert found[("a", "c")]["reason"] == "domain name_dob unattended, given_name and family_name swapped"
    assert not any("d" in k for k in found)


def test_twins_are_held_for_review_never_merged():
    # Same family name, birth date and guardian e-mail; given names similar enough for a fuzzy domain.
    table = people(
        {"record_key": "t1", "given_name": "Aiden", "family_name": "Park", "email": "park@home.org",
         "birth_date": "2015-06-01"},
        {"record_key": "t2", "given_name": "Aidan", "family_name": "Park", "email": "park@home.org",
         "birth_date": "2015-06-01"},
    )
    (pair,) = pairs(find_duplicates(table, [*NAME_AND_EMAIL, NAME_DOB])).values()
    assert pair["domain"] == "name_dob" and pair["decision"] == "review"
    assert pair["reason"] == "twin guard: same family_name and birth_date, different given_name"
    # ... whatever the distinguishing attributes are.
    result = find_duplicates(table, [NAME_DOB], distinguishing=())
    assert result.pairs.column("decision").to_pylist() == ["review"]
    assert result.clusters.num_rows == 0


def test_a_difference_on_a_distinguishing_attribute_goes_to_review():
    table = people(
        {"record_key": "a", "given_name": "Ann", "family_name": "Lee", "email": "lee@home.org",
         "birth_date": "2012-01-01", "state_id": "111"},
        {"record_key": "b", "given_name": "Ann", "family_name": "Lee", "email": "lee@home.org",
         "birth_date": "2014-03-09", "state_id": "222"},
        {"record_key": "c", "given_name": "Bo", "family_name": "Kim", "email": "kim@home.org", "state_id": "333"},
        {"record_key": "d", "given_name": "Bo", "family_name": "Kim", "email": "kim@home.org", "state_id": "33-3",
         "birth_date": "2011-01-01"},
    )
    found = pairs(find_duplicates(table, NAME_AND_EMAIL))
    assert found[("a", "b")]["decision"] == "review"
    assert found[("a", "b")]["reason"] == "differs on birth_date, state_id"
    assert found[("a", "b")]["domain"] == "name_and_email" and found[("a", "b")]["resolution"] == "unattended"
    # A value on one side only is no difference; "33-3" is "333" after normalization.
    assert found[("c", "d")]["decision"] == "merge"
    assert find_duplicates(table, NAME_AND_EMAIL).counts == {"name_and_email": {"merge": 1, "review": 1}}
    # Other distinguishing attributes, other decisions.
    found = pairs(find_duplicates(table, NAME_AND_EMAIL, distinguishing=("state_id",)))
    assert found[("a", "b")]["reason"] == "differs on state_id"
    assert pairs(find_duplicates(table, NAME_AND_EMAIL, distinguishing=()))[("a", "b")]["decision"] == "merge"


def test_a_manual_domain_sends_its_pairs_to_review():
    table = people({"record_key": "a", "given_name": "Ann", "family_name": "Lee", "email": "a@x.org"},
                   {"record_key": "b", "given_name": "Ann", "family_name": "Lee", "email": "a@x.org",
                    "birth_date": "2012-01-01"},
                   {"record_key": "c", "given_name": "Ann", "family_name": "Lee", "email": "a@x.org",
                    "birth_date": "2013-01-01"})
    manual = MatchDomain(name="by_hand", attributes=["given_name", "family_name", "email"], resolution="manual")
    result = find_duplicates(table, [manual])
    found = pairs(result)
    assert {p["decision"] for p in found.values()} == {"review"}
    assert found[("a", "b")]["reason"] == "domain by_hand manual"
    assert found[("b", "c")]["reason"] == "domain by_hand manual; differs on birth_date"
    assert result.counts == {"by_hand": {"merge": 0, "review": 3}}
    assert result.clusters.num_rows == 0


def test_cluster_guard_drops_the_weakest_link():
    # b has no birth date: a-b and b-c are safe pairs, but together they would put a and c (different
    # birth dates) in one cluster.
    rows = [{"record_key": "a", "given_name": "Ann", "family_name": "Lee", "email": "a@x.org",
             "birth_date": "2012-01-01"},
            {"record_key": "b", "given_name": "Ann", "family_name": "Lee", "email": "a@x.org", "phone": "555"},
            {"record_key": "c", "given_name": "Ann", "family_name": "Lee", "email": "a@x.org",
             "birth_date": "2013-01-01", "phone": "555"}]
    result = find_duplicates(people(*rows), NAME_AND_EMAIL)
    found = pairs(result)
    assert found[("a", "c")]["reason"] == "differs on birth_date"
    # Equal domain and score: the link with the smaller keys (a-b) is the stronger one and stays.
    assert found[("a", "b")]["decision"] == "merge"
    assert found[("b", "c")]["decision"] == "review"
    assert found[("b", "c")]["reason"] == "cluster guard: would join records that differ on birth_date"
    assert result.clusters.to_pylist() == [{"record_key": "a", "cluster_key": "a"},
                                           {"record_key": "b", "cluster_key": "a"}]
    assert result.counts == {"name_and_email": {"merge": 1, "review": 2}}
    # An earlier domain makes b-c the stronger link: a-b is the one dropped.
    phone = MatchDomain(name="phone", attributes=["phone"])
    found = pairs(find_duplicates(people(*rows), [phone, *NAME_AND_EMAIL]))
    assert found[("b", "c")]["decision"] == "merge" and found[("b", "c")]["domain"] == "phone"
    assert found[("a", "b")]["decision"] == "review"


def test_incremental_only_pairs_touching_compare_keys_and_the_same_decisions():
    district = generate(3000, seed=3, duplicate_rate=0.05, twin_rate=0.02)
    domains = [*NAME_AND_EMAIL, NAME_DOB]
    full = pairs(find_duplicates(district.records, domains))
    keys = district.records.column("record_key").to_pylist()
    changed = set(np.random.default_rng(0).choice(keys, 300, replace=False).tolist())
    incremental = find_duplicates(district.records, domains, compare_keys=pa.array(sorted(changed)))
    got = pairs(incremental)
    assert got and all(a in changed or b in changed for a, b in got)
    expected = {k: p for k, p in full.items() if k[0] in changed or k[1] in changed}
    assert got.keys() == expected.keys()
    assert all(got[k]["domain"] == expected[k]["domain"] and got[k]["score"] == expected[k]["score"] for k in got)
    # Keys the records do not have are ignored; no key at all, no pair.
    assert find_duplicates(district.records, domains, compare_keys=pa.array(["nope"], pa.string())).pairs.num_rows == 0


def test_synthetic_district_finds_duplicates_and_merges_no_twins():
    district = generate(4000, seed=11, duplicate_rate=0.05, twin_rate=0.02)
    domains = [*NAME_AND_EMAIL, MatchDomain(name="state_id", attributes=["state_id"]),
               MatchDomain(name="name_dob", attributes=["given_name", "family_name", "birth_date"], match="fuzzy",
                           threshold=0.94)]
    result = find_duplicates(district.records, domains)
    found = set(pairs(result))
    true = district.duplicate_pairs
    precision, recall = len(found & true) / len(found), len(found & true) / len(true)
    assert precision > 0.97 and recall > 0.97
    cluster_of = dict(zip(result.clusters["record_key"].to_pylist(), result.clusters["cluster_key"].to_pylist()))
    assert district.twin_pairs
    assert not [p for p in district.twin_pairs if p[0] in cluster_of and cluster_of[p[0]] == cluster_of.get(p[1])]


def test_explanations_never_carry_values():
    rows = [{"record_key": "r1", "given_name": "Quetzalli", "family_name": "Xochitl", "email": "qx@zz.org",
             "birth_date": "2013-04-05", "state_id": "998877"},
            {"record_key": "r2", "given_name": "Quetzali", "family_name": "Xochitl", "email": "qx@zz.org",
             "birth_date": "2013-04-05", "state_id": "998878"}]
    result = find_duplicates(people(*rows), [*NAME_AND_EMAIL, NAME_DOB])
    (pair,) = result.pairs.to_pylist()
    text = json.dumps({k: v for k, v in pair.items() if k not in ("left_key", "right_key")}).lower()
    for value in ("quetzal", "xochitl", "qx", "2013", "998877", "998878"):
        assert value not in text
    assert pair["reason"] == "differs on state_id; twin guard: same family_name and birth_date, different given_name"


def test_pandas_input_and_clear_errors():
    frame = pd.DataFrame({"record_key": ["b", "a"], "source": ["x", "y"], "given_name": ["Al", "al"],
                          "family_name": ["Ng", "NG"], "email": ["n@x.org", "N@x.org"]})
    assert list(pairs(find_duplicates(frame, NAME_AND_EMAIL))) == [("a", "b")]
    with pytest.raises(ValueError, match="no column for domain attribute.*email"):
        find_duplicates(frame.drop(columns="email"), NAME_AND_EMAIL)
    with pytest.raises(ValueError, match="record_key must be unique: 1 record"):
        find_duplicates(frame.assign(record_key=["a", "a"]), NAME_AND_EMAIL)
    with pytest.raises(ValueError, match="record_key is null"):
        find_duplicates(frame.assign(record_key=["a", None]), NAME_AND_EMAIL)
    with pytest.raises(ValueError, match="domain names must be unique: name_and_email"):
        find_duplicates(frame, NAME_AND_EMAIL * 2)
    empty = find_duplicates(frame.iloc[:0], NAME_AND_EMAIL)
    assert empty.pairs.num_rows == 0 and empty.counts == {"name_and_email": {"merge": 0, "review": 0}}


def test_non_string_columns_are_read_as_text():
    table = pa.table({"record_key": ["a", "b"], "given_name": ["Al", "Al"], "family_name": ["Ng", "Ng"],
                      "birth_date": pa.array([date(2010, 1, 2), date(2010, 1, 2)], pa.date32()),
                      "state_id": pa.array([12, 12], pa.int64())})
    domain = MatchDomain(name="d", attributes=["state_id", "birth_date"])
    assert pairs(find_duplicates(table, [domain]))[("a", "b")]["decision"] == "merge"


# ------------------------------------------------------------------ prepared records kept between runs

DOMAINS_ALL = [*NAME_AND_EMAIL, MatchDomain(name="state_id", attributes=["state_id"]), NAME_DOB]
KEPT_ATTRIBUTES = ["given_name", "family_name", "email", "birth_date", "state_id", "sex"]


def assert_same_result(expected, got):
    assert got.pairs.equals(expected.pairs)
    assert got.clusters.equals(expected.clusters)
    assert (got.counts, got.candidates, got.oversized_blocks) == (expected.counts, expected.candidates,
                                                                   expected.oversized_blocks)


def test_records_prepared_in_any_order_find_the_same():
    records = generate(3000, seed=5, duplicate_rate=0.05, twin_rate=0.02).records
    shuffled = records.take(np.random.default_rng(1).permutation(records.num_rows))
    prepared = prepare(shuffled, [], KEPT_ATTRIBUTES, key_order=False)
    assert not prepared.key_ordered and prepared.keys.equals(shuffled.column("record_key").combine_chunks())
    some = pa.array(np.random.default_rng(2).choice(records.column("record_key").to_pylist(), 200, replace=False))
    for compare_keys in (None, some):
        assert_same_result(find_duplicates(records, DOMAINS_ALL, compare_keys=compare_keys),
                           find_duplicates(prepared, DOMAINS_ALL, compare_keys=compare_keys))
    with pytest.raises(ValueError, match="record_key must be unique: 1 record"):
        prepare(pa.table({"record_key": ["a", "b", "a"], "email": ["x", "y", "z"]}), ["email"], [], key_order=False)
    with pytest.raises(ValueError, match="no attribute phone"):
        find_duplicates(prepared, [MatchDomain(name="p", attributes=["phone"])])


def test_revised_records_find_what_records_prepared_from_scratch_find():
    """The next run's records from the last run's prepared ones: some gone, some changed (into
    duplicates of others, typos, blanks), some new; the same pairs as preparing them all again."""
    before = generate(3000, seed=9, duplicate_rate=0.05, twin_rate=0.02).records
    rng = np.random.default_rng(4)
    n = before.num_rows
    columns = {a: np.array(before.column(a).to_pylist(), dtype=object) for a in KEPT_ATTRIBUTES}
    changed_rows = rng.choice(n, 300, replace=False)
    like = rng.choice(n, 300)  # each changed record takes names and e-mail of another: a duplicate now
    changed = {}
    for a in ("given_name", "family_name", "email"):
        columns[a][changed_rows] = columns[a][like]
        changed[a] = (changed_rows, pa.array(columns[a][changed_rows], pa.string()))
    typo_rows = changed_rows[:100]  # and a birth date that differs, or none
    columns["birth_date"][typo_rows] = np.where(np.arange(100) % 2, None, "2012-12-21")
    changed["birth_date"] = (typo_rows, pa.array(columns["birth_date"][typo_rows], pa.string()))
    keep = np.ones(n, dtype=bool)
    keep[rng.choice(np.setdiff1d(np.arange(n), changed_rows), 200, replace=False)] = False
    source = rng.choice(n, 250)  # new records: copies of people, with a typo in the given name or new values
    added = {"record_key": [f"new-{k}" for k in range(250)]}
    for a in KEPT_ATTRIBUTES:
        added[a] = columns[a][source].copy()
    added["given_name"][::3] = [g[:-1] + "x" if g else g for g in added["given_name"][::3]]
    added["email"][1::3] = [f"someone{k}@example.org" for k in range(len(added["email"][1::3]))]
    added = pa.table({k: pa.array(list(v), pa.string()) for k, v in added.items()})
    after = pa.concat_tables([
        pa.table({"record_key": before.column("record_key"),
                  **{a: pa.array(columns[a], pa.string()) for a in KEPT_ATTRIBUTES}}).filter(pa.array(keep)),
        added])
    compare_keys = pa.concat_arrays([before.column("record_key").combine_chunks().take(pa.array(changed_rows)),
                                     added.column("record_key").combine_chunks()])

    revised = revise(prepare(before, [], KEPT_ATTRIBUTES, key_order=False), keep=keep, changed=changed, added=added)
    assert revised.keys.equals(after.column("record_key").combine_chunks())
    expected = find_duplicates(after, DOMAINS_ALL, compare_keys=compare_keys)
    assert expected.merges and expected.reviews  # the changes made pairs of both kinds
    assert_same_result(expected, find_duplicates(revised, DOMAINS_ALL, compare_keys=compare_keys))
    with pytest.raises(ValueError, match="added record"):
        revise(revised, added=added)  # the same keys again


def test_values_coded_into_a_kept_vocabulary():
    base = encode(pa.array(["Ann", "Bob", None, "ann "]), "name")
    codes, uniques = encode_into(base, pa.array(["ANN", "Cy", None, " ", "Cy", "bob"]))
    assert uniques.to_pylist() == ["ann", "bob", "cy"]
    assert codes.tolist() == [base.codes[0], 2, BLANK, BLANK, 2, base.codes[1]]
