"""Benchmark: how fast the duplicate-detection engine runs on a large district.

Generates a synthetic district (``tests/synthetic/people.py``: one record per student in the SIS, ~2% of
them with a second record, 1% twins) and times ``find_duplicates`` with the default domain
(name_and_email, exact) plus one fuzzy domain (given name, family name and birth date >= 0.9):

- full: every record against every other;
- incremental: ``compare_keys`` = a random 1% of the records (new or changed records against each
  other and against all the others);
- incremental from kept records: the same 1%, with a new e-mail each, applied with ``revise`` to the
  records prepared by the last run (what a sync does with its cache, ``reconciliation/people_cache.py``)
  instead of preparing every record again; the time includes ``revise``.

Prints seconds (with the engine's time per step), candidate pairs, pairs found, and the peak RSS
during each call (sampled with psutil) and of the whole process.

    .venv/bin/python benchmarks/linkage_speed.py --people 1000000

Targets on a 2-core machine: full <= 60 s, incremental <= 6 s.
"""

from __future__ import annotations

import argparse
import resource
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import pyarrow as pa

from passport_pipelines.config.reconciliation import DEFAULT_PERSON_DOMAINS, MatchDomain
from passport_pipelines.reconciliation.linkage import find_duplicates
from passport_pipelines.reconciliation.linkage.engine import TWIN_ATTRIBUTES
from passport_pipelines.reconciliation.linkage.records import prepare
from passport_pipelines.reconciliation.linkage.revision import revise

# The synthetic district generator is test support (tests/synthetic/), imported from the repository root.
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DOMAINS = [
    *DEFAULT_PERSON_DOMAINS,
    MatchDomain(name="name_and_birth_date", attributes=["given_name", "family_name", "birth_date"],
                match="fuzzy", threshold=0.9),
]


class PeakRss:
    """The highest resident set size seen while the block runs (sampled every 20 ms)."""

    def __enter__(self) -> "PeakRss":
        self.peak = psutil.Process().memory_info().rss
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


def timed(label: str, records, before=None, **kwargs) -> None:
    """``before()``: work done first, timed with the call (its seconds shown as a step)."""
    with PeakRss() as rss:
        start = time.perf_counter()
        if before is not None:
            records = before()
        ready = time.perf_counter()
        result = find_duplicates(records, DOMAINS, **kwargs)
        seconds = time.perf_counter() - start
    steps = ", ".join(f"{k} {v:.2f}" for k, v in {**({"revise": ready - start} if before else {}),
                                                   **result.seconds}.items())
    print(f"{label}: {seconds:.2f} s  (steps: {steps})")
    print(f"  {result.candidates:,} candidate pairs; {result.pairs.num_rows:,} pairs: {result.merges:,} merge, "
          f"{result.reviews:,} review; {result.clusters.num_rows:,} records in clusters; "
          f"peak RSS during the call {rss.peak / 2**30:.2f} GiB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--compare-fraction", type=float, default=0.01)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    from tests.synthetic.people import generate

    district = generate(args.people, seed=args.seed, duplicate_rate=0.02)
    records = district.records
    print(f"synthetic district: {args.people:,} people, {records.num_rows:,} records "
          f"({len(district.duplicate_pairs):,} duplicate pairs, {len(district.twin_pairs):,} twin pairs), "
          f"generated in {time.perf_counter() - start:.1f} s; {psutil.cpu_count()} cores")
    for d in DOMAINS:
        print(f"  domain {d.name}: {d.match}{f' >= {d.threshold}' if d.threshold else ''} on {', '.join(d.attributes)}")

    timed("full", records)
    rng = np.random.default_rng(args.seed)
    sample = rng.choice(records.num_rows, int(records.num_rows * args.compare_fraction), replace=False)
    compare_keys = records.column("record_key").take(np.sort(sample)).combine_chunks()
    timed(f"incremental ({len(compare_keys):,} compare_keys)", records, compare_keys=compare_keys)

    # The last run's prepared records (as a sync's cache keeps them), then 1% of them changed.
    attributes = [a for a in dict.fromkeys([*(a for d in DOMAINS for a in d.attributes), "birth_date", "state_id",
                                            *TWIN_ATTRIBUTES]) if a in records.column_names]
    kept = prepare(records, [], attributes, key_order=False)
    rows = np.sort(sample)
    changed = {a: (rows, records.column(a).take(rows)) for a in attributes}
    changed["email"] = (rows, pa.array([f"changed{k}@example.org" for k in range(len(rows))], pa.string()))
    timed(f"incremental from kept records ({len(compare_keys):,} changed)", None,
          before=lambda: revise(kept, changed=changed), compare_keys=compare_keys)
    print(f"peak RSS of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
