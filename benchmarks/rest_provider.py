"""Benchmark: the OneRoster 1.2 REST provider (`passport serve`) under a synthetic district of N students.

Syncs the district (the synthetic generator and the real roster_sync job, as full_sync.py), builds the
app's snapshot (timed), starts `passport serve` in its own process on loopback, then C concurrent clients
each crawl /users with limit=L from the first page to the last. Prints records per second (all clients
together), page latency p50/p95, and the first and the deepest pages' latency (keyset pages: they match).
The crawl stops after --max-seconds whatever is left (bounded in time).

    .venv/bin/python benchmarks/rest_provider.py --students 1000000
    .venv/bin/python benchmarks/rest_provider.py --students 20000       # a quick run
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

# The synthetic district generator is test support (tests/synthetic/), run from the repository root.
REPO = Path(__file__).resolve().parents[1]

ROOT = "/ims/oneroster/rostering/v1p2"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sync(workdir: Path) -> float:
    import dagster as dg

    sys.path.insert(0, str(Path(__file__).parent))
    from full_sync import run

    with tempfile.TemporaryDirectory() as dagster_home:
        os.environ["DAGSTER_HOME"] = dagster_home
        Path(dagster_home, "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        with dg.DagsterInstance.get() as instance:
            seconds, _stages, _ = run("bench", instance)
    return seconds


def _crawl(url: str, token: str, limit: int, deadline: float, out: dict) -> None:
    import httpx

    latencies, records, offset, total = [], 0, 0, None
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=120) as http:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            response = http.get(f"{url}/users", params={"limit": limit, "offset": offset})
            latencies.append(time.perf_counter() - started)
            response.raise_for_status()
            # Records start {"sourcedId": (references start {"href":): counted without parsing a
            # megabyte of JSON per page, which would hold the other clients' threads up.
            got = response.content.count(b'{"sourcedId":')
            total = int(response.headers["X-Total-Count"])
            records += got
            offset += got
            if not got or offset >= total:
                break
    out.update(latencies=latencies, records=records, total=total, complete=total is not None and offset >= total)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--max-seconds", type=float, default=900.0, help="crawl time bound")
    parser.add_argument("--workdir", type=Path, help="keep files here (default: a temp folder)")
    parser.add_argument("--database-url", help="golden store (default: SQLite in the workdir)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="passport-rest-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    drop = workdir / "drop"
    os.environ["PASSPORT_HOME"] = str(workdir / "home")
    os.environ["PASSPORT_INTEGRATIONS_DIR"] = str(workdir / "integrations")
    os.environ["PASSPORT_DATABASE_URL"] = args.database_url or f"sqlite:///{workdir / 'home' / 'passport.db'}"
    (workdir / "integrations").mkdir(exist_ok=True)
    (workdir / "home").mkdir(exist_ok=True)
    if not (drop / "manifest.csv").exists():
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "tests.synthetic.district", str(drop),
                        "--students", str(args.students)],
                           env={**os.environ, "PYTHONPATH": str(REPO)}, check=True, capture_output=True)
        print(f"generated {args.students:,} students in {time.perf_counter() - t:.1f}s", file=sys.stderr)
    (workdir / "integrations" / "bench.yaml").write_text(yaml.safe_dump({
        "district": "bench", "name": "Benchmark USD", "school_years": ["2025-2026"],
        "sources": [{"name": "sis", "type": "csv", "path": str(drop)}],
        "destinations": [{"name": "app", "type": "oneroster-1.2-api", "client_id": "bench-app"}]}))

    from passport_pipelines import settings
    from passport_pipelines.config.loader import load_district
    from passport_pipelines.rest_provider.api_clients import ApiClients
    from passport_pipelines.rest_provider.app import Provider
    from passport_pipelines.rest_provider.served_version import served_version
    from passport_pipelines.store.golden_store import GoldenStore

    store = GoldenStore(settings.database_url())
    sync_s = 0.0
    if served_version(store, "bench", "2025-2026").in_production is None:
        sync_s = _sync(workdir)
        print(f"synced in {sync_s:.1f}s", file=sys.stderr)
    integration = load_district("bench")
    clients = ApiClients(store)
    if clients.get("bench-app") is not None:
        clients.remove("bench", "app")
    _client, secret = clients.add(integration, "app")
    provider = Provider(store)
    t = time.perf_counter()
    provider.snapshots.build(integration, served_version(store, "bench", "2025-2026").in_production,
                             integration.api_destinations)
    snapshot_s = time.perf_counter() - t
    provider.snapshots.close()
    print(f"snapshot built in {snapshot_s:.1f}s", file=sys.stderr)

    import httpx

    port = _port()
    server = subprocess.Popen([str(Path(sys.executable).with_name("passport")), "serve", "--port", str(port)],
                              stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                token = httpx.post(f"{base}/oauth2/token", auth=("bench-app", secret),
                                   data={"grant_type": "client_credentials"})
                break
            except httpx.TransportError:
                time.sleep(0.1)
        token.raise_for_status()
        access = token.json()["access_token"]
        url = f"{base}/bench/2025-2026{ROOT}"
        httpx.get(f"{url}/users", params={"limit": 1}, headers={"Authorization": f"Bearer {access}"},
                  timeout=600).raise_for_status()  # the server opens the snapshot once
        results = [{} for _ in range(args.clients)]
        deadline = time.monotonic() + args.max_seconds
        started = time.perf_counter()
        threads = [threading.Thread(target=_crawl, args=(url, access, args.limit, deadline, r)) for r in results]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wall = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)

    latencies = sorted(x for r in results for x in r["latencies"])
    per_client = [r["latencies"] for r in results]
    records = sum(r["records"] for r in results)
    first = statistics.median(x for lat in per_client for x in lat[:10])
    deep = statistics.median(x for lat in per_client for x in lat[-10:])
    out = {
        "students": args.students, "users": results[0]["total"], "clients": args.clients, "limit": args.limit,
        "sync_seconds": round(sync_s, 1), "snapshot_seconds": round(snapshot_s, 1),
        "crawl_seconds": round(wall, 2), "complete": all(r["complete"] for r in results),
        "records_per_second": round(records / wall), "pages": len(latencies),
        "p50_ms": round(1000 * statistics.median(latencies), 1),
        "p95_ms": round(1000 * latencies[int(0.95 * (len(latencies) - 1))], 1),
        "first_pages_ms": round(1000 * first, 1), "deepest_pages_ms": round(1000 * deep, 1),
    }
    if args.json:
        print(json.dumps(out))
    else:
        for key, value in out.items():
            print(f"{key:20} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
