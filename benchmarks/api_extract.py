"""Benchmark: the API connectors' extracts of a synthetic district of N students from their local fakes.

Generates the district's OneRoster CSV drop once, reads it into the rows every fake serves, then for
each source kind starts its fake (``tests/fakes/``), runs the connector's extract as a sync does
(``tests/canonical_tables.py::extract``, ``PASSPORT_HOME`` in a temp folder) and prints per source:
records, seconds, records/s, requests, retries and peak memory (RSS of this process, sampled during
the extract).

    .venv/bin/python benchmarks/api_extract.py --students 100000 --source google

The fake serves from the same process as the client, so the figures include the fake's own work
(JSON encoding, paging) and both share one interpreter: a real API is slower per request but the
client's share of the CPU is larger. A kind whose fake module is not there yet is skipped.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# kind -> (fake module, context manager starting it, function giving the integration-file source)
FAKES = {
    "powerschool": ("tests.fakes.powerschool_server", "start_powerschool_fake", "powerschool_source_config"),
    "oneroster": ("tests.fakes.oneroster_api_server", "start_oneroster_fake", "oneroster_source_config"),
    "xpress": ("tests.fakes.xpress_server", "start_xpress_fake", "xpress_source_config"),
    "google": ("tests.fakes.google_directory_server", "start_google_fake", "google_source_config"),
}


class PeakRss:
    """The highest RSS of this process while the block runs, sampled every ``interval`` seconds."""

    def __init__(self, interval: float = 0.05):
        self._process = psutil.Process()
        self._interval = interval
        self._stop = threading.Event()
        self.peak = 0

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._process.memory_info().rss)
            self._stop.wait(self._interval)

    def __enter__(self) -> "PeakRss":
        self.peak = self._process.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)


def run_kind(kind: str, data, workdir: Path) -> dict | None:
    module_name, start_name, config_name = FAKES[kind]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        # The fakes are written alongside their connectors: one not there (or not whole) yet is skipped.
        print(f"{kind}: skipped, its fake {module_name.replace('.', '/')}.py does not import ({exc})", file=sys.stderr)
        return None
    from passport_pipelines.config.loader import load_integration
    from tests.canonical_tables import extract

    with getattr(module, start_name)(data) as server:
        made = getattr(module, config_name)(server, name=kind)
        config, env = made if isinstance(made, tuple) else (made, {})
        os.environ.update(env)
        path = workdir / "integrations" / f"bench-{kind}.yaml"
        path.write_text(yaml.safe_dump({
            "district": f"bench-{kind}", "name": "Benchmark USD", "school_years": ["2025-2026"], "sources": [config],
            "destinations": [{"name": "oneroster_export", "type": "oneroster-1.1-csv"}]}), encoding="utf-8")
        integration = load_integration(path)
        before = psutil.Process().memory_info().rss
        with PeakRss() as rss:
            started = time.perf_counter()
            result = extract(integration, kind)
            seconds = time.perf_counter() - started
    records = sum(result.rows.values())
    print(f"{kind}: {records:,} records in {seconds:.1f}s ({records / seconds:,.0f}/s), {result.requests:,} requests",
          file=sys.stderr, flush=True)
    return {"source": kind, "records": records, "tables": result.rows, "seconds": round(seconds, 2),
            "records_per_s": round(records / seconds) if seconds else None, "requests": result.requests,
            "retries": result.retries, "rss_before_mb": round(before / 1e6), "peak_rss_mb": round(rss.peak / 1e6)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--source", default=",".join(FAKES), help=f"comma-separated, of {', '.join(FAKES)}")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--workdir", type=Path, help="keep files here (default: a temp folder, removed)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    kinds = [k.strip() for k in args.source.split(",") if k.strip()]
    unknown = sorted(set(kinds) - set(FAKES))
    if unknown:
        parser.error(f"unknown source kind(s): {', '.join(unknown)}")

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="passport-api-bench-"))
    for sub in ("home", "integrations"):
        (workdir / sub).mkdir(parents=True, exist_ok=True)
    os.environ["PASSPORT_HOME"] = str(workdir / "home")
    os.environ["PASSPORT_INTEGRATIONS_DIR"] = str(workdir / "integrations")
    os.environ.pop("PASSPORT_DATABASE_URL", None)
    try:
        from tests.fakes.district_data import read_district
        from tests.synthetic.district import generate_oneroster_district

        drop = workdir / "drop"
        t = time.perf_counter()
        if not (drop / "manifest.csv").exists():
            generate_oneroster_district(drop, args.students, seed=args.seed)
        data = read_district(drop)
        print(f"district of {args.students:,} students ready in {time.perf_counter() - t:.1f}s "
              f"({sum(len(rows) for rows in data.tables.values()):,} rows)", file=sys.stderr)
        results = [r for r in (run_kind(kind, data, workdir) for kind in kinds) if r is not None]
        peak = psutil.Process().memory_info().rss
        if args.json:
            print(json.dumps({"students": args.students, "sources": results}, indent=2))
        else:
            print(f"{'source':12} {'records':>10} {'seconds':>8} {'records/s':>10} {'requests':>9} {'retries':>8} "
                  f"{'peak RSS':>9}")
            for r in results:
                print(f"{r['source']:12} {r['records']:>10,} {r['seconds']:>8.2f} {r['records_per_s'] or 0:>10,} "
                      f"{r['requests']:>9,} {r['retries']:>8,} {r['peak_rss_mb']:>6,} MB")
            print(f"(RSS now {peak / 1e6:,.0f} MB; it includes the fakes' copy of the district)")
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
