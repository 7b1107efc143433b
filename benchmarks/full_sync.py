"""Benchmark: a synthetic OneRoster district of N students through the real roster_sync job.

Prints time per stage, rows/s, peak memory (RSS of this process), the ratio of a full sync to a plain
multi-threaded ``pyarrow.csv`` read of the same files, and an unchanged re-sync against the first.

    .venv/bin/python benchmarks/full_sync.py --students 1000000

Targets (2 cores): full sync <= 15x the plain read, peak memory <= 8 GB, unchanged re-sync <= 25% of the
first sync. With ``--changed-percent P`` a third sync changes P% of the users (their phone): duplicate
detection (part of roster_changes, timed in its ``duplicates`` metadata) compares only those, and must take
at most 10% of the first sync's detection, which must take at most 60 s at 1,000,000 students.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

# The synthetic district generator is test support (tests/synthetic/), run from the repository root.
REPO = Path(__file__).resolve().parents[1]

SAMPLER: "MemorySampler | None" = None
PEAKS: dict[str, dict[str, float]] = {}  # run id -> stage -> peak RSS (GB) while the stage ran
STAGES = ["source_extracts", "normalized_rosters", "roster_changes", "golden_records", "duplicate_review_queue",
          "oneroster_exports"]


def plain_read_seconds(drop: Path) -> tuple[float, int]:
    """pyarrow.csv reading every CSV, in a child process so its memory does not count here."""
    code = (
        "import sys, time, pyarrow.csv as c, pathlib\n"
        "t = time.perf_counter(); n = 0\n"
        "for p in sorted(pathlib.Path(sys.argv[1]).glob('*.csv')): n += c.read_csv(p).num_rows\n"
        "print(time.perf_counter() - t, n)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(drop)], check=True, capture_output=True, text=True).stdout
    seconds, rows = out.split()
    return float(seconds), int(rows)


def stage_windows(instance, run_id: str) -> dict[str, list[tuple[float, float]]]:
    """(start, end) of each stage's step and of its asset checks' own steps (``<stage>_<check>``, which may
    run after later stages), from the run's event log."""
    starts, ends = {}, {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type_value == "STEP_START":
            starts[event.step_key] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            ends[event.step_key] = entry.timestamp
    windows: dict[str, list[tuple[float, float]]] = {}
    for step in starts.keys() & ends.keys():
        stage = next((s for s in STAGES if step == s or step.startswith(s + "_")), None)
        if stage is not None:
            windows.setdefault(stage, []).append((starts[step], ends[step]))
    return {s: windows[s] for s in STAGES if s in windows}


class MemorySampler:
    """Resident memory of this process, sampled every 0.1 s (wall-clock stamped), to give each stage its
    own peak: the run's steps all run in this process."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE")
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            with open("/proc/self/statm") as f:
                self.samples.append((time.time(), int(f.read().split()[1]) * self._page))

    def peak_gb(self, start: float, end: float) -> float:
        inside = [rss for t, rss in self.samples if start <= t <= end]
        return round(max(inside, default=0) / 1e9, 2)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def change_users(drop: Path, percent: float) -> int:
    """Give every (100/percent)-th user a new phone number, in place; returns how many changed."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    path = drop / "users.csv"
    names = pcsv.read_csv(path, read_options=pcsv.ReadOptions(skip_rows_after_names=10**9)).column_names
    table = pcsv.read_csv(path, convert_options=pcsv.ConvertOptions(
        column_types={n: pa.string() for n in names}, strings_can_be_null=False))
    hit = pa.array(np.arange(table.num_rows) % max(1, round(100 / percent)) == 0)
    numbers = pc.cast(pa.array(np.arange(table.num_rows)), pa.string())
    phone = pc.if_else(hit, pc.binary_join_element_wise("555-", numbers, ""), table.column("phone"))
    table = table.set_column(names.index("phone"), "phone", phone)
    pcsv.write_csv(table, path, pcsv.WriteOptions(quoting_style="needed"))
    return int(pc.sum(hit).as_py())


def write_delta_drop(drop: Path, delta: Path, percent: float) -> int:
    """An incremental OneRoster drop, as an SIS exports one: ``users.csv`` with ``percent``% of the users of
    ``drop``, each with a new phone, ``status=active`` and a ``dateLastModified``; every other file
    absent. Returns how many users it holds."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    path = drop / "users.csv"
    names = pcsv.read_csv(path, read_options=pcsv.ReadOptions(skip_rows_after_names=10**9)).column_names
    table = pcsv.read_csv(path, convert_options=pcsv.ConvertOptions(
        column_types={n: pa.string() for n in names}, strings_can_be_null=False))
    step = max(1, round(100 / percent))
    table = table.take(pa.array(np.arange(0, table.num_rows, step)))
    numbers = pc.cast(pa.array(np.arange(table.num_rows)), pa.string())
    table = table.set_column(names.index("phone"), "phone", pc.binary_join_element_wise("555-", numbers, ""))
    table = table.set_column(names.index("status"), "status", pa.array(["active"] * table.num_rows))
    table = table.set_column(names.index("dateLastModified"), "dateLastModified",
                             pa.array(["2026-01-05T08:00:00.000Z"] * table.num_rows))
    delta.mkdir(parents=True, exist_ok=True)
    pcsv.write_csv(table, delta / "users.csv", pcsv.WriteOptions(quoting_style="needed"))
    files = ["academicSessions", "categories", "classes", "classResources", "courses", "courseResources",
             "demographics", "enrollments", "lineItems", "orgs", "resources", "results", "users"]
    rows = ["propertyName,value", "manifest.version,1.0", "oneroster.version,1.1"]
    rows += [f"file.{f},{'delta' if f == 'users' else 'absent'}" for f in files]
    (delta / "manifest.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return table.num_rows


def duplicates_metadata(instance) -> dict:
    import dagster as dg

    event = instance.get_latest_materialization_event(dg.AssetKey("roster_changes"))
    value = event.asset_materialization.metadata.get("duplicates")
    return value.value if value is not None else {}


def run(district: str, instance):
    import dagster as dg

    from passport_pipelines.definitions import defs
    from passport_pipelines.jobs.partitions import register_sync_partition, sync_partition_key
    from passport_pipelines.jobs.run_tags import COMMITTED_BY_TAG
    from passport_pipelines.jobs.sync_jobs import ROSTER_SYNC

    register_sync_partition(instance, district, "2025-2026")
    started = time.perf_counter()
    result = defs.resolve_job_def(ROSTER_SYNC).execute_in_process(
        instance=instance, partition_key=sync_partition_key(district, "2025-2026"),
        tags={COMMITTED_BY_TAG: "benchmark"},
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        raise_on_error=True,
    )
    total = time.perf_counter() - started
    assert result.success
    del dg
    windows = stage_windows(instance, result.run_id)
    seconds = {s: sum(end - start for start, end in steps) for s, steps in windows.items()}
    if SAMPLER is not None:
        PEAKS[result.run_id] = {s: max(SAMPLER.peak_gb(start, end) for start, end in steps)
                                for s, steps in windows.items()}
    return total, seconds, result


def _detection(meta: dict) -> str:
    if not meta:
        return "not run"
    seconds = dict(meta.get("seconds", {}))
    people, cache_write = seconds.pop("people", 0.0), seconds.pop("cache_write", 0.0)
    cache = meta.get("cache", {}).get("read", "?")
    return (f"{meta['total_seconds']:.2f}s: people {people:.2f}s (cache: {cache}), "
            f"engine {sum(seconds.values()):.2f}s, cache written {cache_write:.2f}s "
            f"({meta['people']:,} people, {meta['compared']:,} pairs compared, "
            f"{meta['merged']} merged, {meta['new_cases']} to review); engine steps {seconds}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, help="keep files here (default: a temp folder, removed)")
    parser.add_argument("--database-url", help="golden store (default: SQLite in the workdir)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--changed-percent", type=float, default=0.0,
                        help="then change this share of the users and sync again (incremental duplicate detection)")
    parser.add_argument("--incremental-percent", type=float, default=0.0,
                        help="then sync an incremental drop (users.csv delta) changing this share of the users")
    parser.add_argument("--rules", action="store_true",
                        help="give the source one of every integration rule (benchmarks/rules_cost.py's set)")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="passport-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    drop = workdir / "drop"
    os.environ["PASSPORT_HOME"] = str(workdir / "home")
    os.environ["PASSPORT_INTEGRATIONS_DIR"] = str(workdir / "integrations")
    if args.database_url:
        os.environ["PASSPORT_DATABASE_URL"] = args.database_url
    (workdir / "integrations").mkdir(exist_ok=True)
    try:
        if not (drop / "manifest.csv").exists():
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "tests.synthetic.district", str(drop),
                            "--students", str(args.students)],
                           env={**os.environ, "PYTHONPATH": str(REPO)}, check=True, capture_output=True)
            print(f"generated {args.students:,} students in {time.perf_counter() - t:.1f}s", file=sys.stderr)
        source, extra = {"name": "sis", "type": "csv", "path": str(drop)}, {}
        if args.rules:
            sys.path.insert(0, str(Path(__file__).parent))
            from rules_cost import RULES, district_schools

            source, extra = {**source, **RULES}, {"schools": district_schools(drop)}
        def integration(source: dict) -> None:
            (workdir / "integrations" / "bench.yaml").write_text(yaml.safe_dump({
                "district": "bench", "name": "Benchmark USD", "school_years": ["2025-2026"], **extra,
                "sources": [source], "destinations": [{"name": "oneroster_export", "type": "oneroster-1.1-csv"}],
            }))
        integration(source)
        read_s, rows = plain_read_seconds(drop)
        size_mb = sum(p.stat().st_size for p in drop.glob("*.csv")) / 1e6

        import dagster as dg

        with tempfile.TemporaryDirectory() as dagster_home:
            os.environ["DAGSTER_HOME"] = dagster_home
            Path(dagster_home, "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
            global SAMPLER
            SAMPLER = MemorySampler() if Path("/proc/self/statm").exists() else None
            with dg.DagsterInstance.get() as instance:
                first_s, first_stages, first_result = run("bench", instance)
                first_peaks = PEAKS.get(first_result.run_id, {})
                first_duplicates = duplicates_metadata(instance)
                peak_first = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
                again_s, again_stages, _ = run("bench", instance)
                changed = changed_s = changed_duplicates = changed_stages = None
                delta_users = delta_s = delta_stages = None
                if args.incremental_percent:
                    # The same source, now read incrementally from a delta drop, as an SIS sends one.
                    delta_users = write_delta_drop(drop, workdir / "delta", args.incremental_percent)
                    integration({**source, "path": str(workdir / "delta"), "mode": "incremental"})
                    delta_s, delta_stages, _ = run("bench", instance)
                    integration(source)
                if args.changed_percent:
                    changed = change_users(drop, args.changed_percent)
                    changed_s, changed_stages, _ = run("bench", instance)
                    changed_duplicates = duplicates_metadata(instance)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
        if SAMPLER is not None:
            SAMPLER.stop()

        report = {
            "students": args.students, "rows": rows, "csv_mb": round(size_mb, 1),
            "plain_read_s": round(read_s, 2),
            "full_sync_s": round(first_s, 2), "full_sync_stages_s": {k: round(v, 2) for k, v in first_stages.items()},
            "full_sync_stage_peak_rss_gb": first_peaks,
            "full_sync_rows_per_s": round(rows / first_s),
            "full_sync_vs_plain_read": round(first_s / read_s, 1),
            "unchanged_resync_s": round(again_s, 2),
            "unchanged_resync_stages_s": {k: round(v, 2) for k, v in again_stages.items()},
            "unchanged_resync_vs_full": round(again_s / first_s, 2),
            "peak_rss_gb_first_sync": round(peak_first, 2), "peak_rss_gb": round(peak, 2),
            "duplicates_first_sync": first_duplicates,
            "changed_users": changed, "changed_sync_s": round(changed_s, 2) if changed_s else None,
            "changed_sync_stages_s": {k: round(v, 2) for k, v in (changed_stages or {}).items()},
            "duplicates_changed_sync": changed_duplicates,
            "incremental_users": delta_users, "incremental_sync_s": round(delta_s, 2) if delta_s else None,
            "incremental_vs_full": round(delta_s / first_s, 3) if delta_s else None,
            "incremental_sync_stages_s": {k: round(v, 2) for k, v in (delta_stages or {}).items()},
        }
        if args.json:
            print(json.dumps(report, indent=2))
        else:
            print(f"district: {args.students:,} students, {rows:,} rows, {size_mb:,.0f} MB of CSV")
            print(f"plain pyarrow.csv read: {read_s:.2f}s")
            print(f"full sync: {first_s:.2f}s ({rows / first_s:,.0f} rows/s), {first_s / read_s:.1f}x the plain read")
            for stage, s in first_stages.items():
                peak_gb = f"   peak {first_peaks[stage]:.2f} GB" if stage in first_peaks else ""
                print(f"  {stage:20} {s:8.2f}s{peak_gb}")
            print(f"unchanged re-sync: {again_s:.2f}s ({again_s / first_s:.0%} of the first sync)")
            for stage, s in again_stages.items():
                print(f"  {stage:20} {s:8.2f}s")
            if delta_s:
                print(f"incremental sync ({delta_users:,} users in a delta drop): {delta_s:.2f}s "
                      f"({delta_s / first_s:.1%} of the first sync)")
                for stage, s in delta_stages.items():
                    print(f"  {stage:20} {s:8.2f}s")
            print(f"peak memory (RSS): {peak:.2f} GB")
            print(f"duplicate detection, first sync: {_detection(first_duplicates)}")
            if changed:
                print(f"sync after changing {changed:,} users: {changed_s:.2f}s; "
                      f"duplicate detection: {_detection(changed_duplicates)}")
                for stage, s in changed_stages.items():
                    print(f"  {stage:20} {s:8.2f}s")
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
