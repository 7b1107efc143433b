"""The Dagster UI, looked at in headless Chromium: the sync's asset graph and a partition's checks.

Needs a browser, so it is left out of the default run. Run it with

    PASSPORT_UI_SMOKE=1 .venv/bin/pytest tests/test_ui_smoke.py

with Debian's Chromium installed (`apt-get install chromium`; or point PASSPORT_CHROMIUM at another
Chromium). It syncs the demo district (held on its second sync), starts `passport ui` on a free port,
and has Chromium render the pages; the screenshots are kept in the test's temporary folder.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
LOCATION = "passport_pipelines.definitions"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("PASSPORT_UI_SMOKE") != "1", reason="needs a browser: PASSPORT_UI_SMOKE=1"),
]


def _chromium() -> str:
    found = os.environ.get("PASSPORT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("no Chromium: apt-get install chromium (or set PASSPORT_CHROMIUM)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _render(chromium: str, url: str, screenshot: Path, profile: Path) -> str:
    """The page's DOM after its scripts ran (and a screenshot of it)."""
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--window-size=1600,1000", "--virtual-time-budget=25000"]
    subprocess.run([chromium, *flags, f"--screenshot={screenshot}", url], capture_output=True, timeout=120)
    dom = subprocess.run([chromium, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    return dom.stdout


@pytest.fixture
def ui(tmp_path):
    """The demo district synced twice (the second held), and `passport ui` serving its instance."""
    home = tmp_path / "home"
    integrations = tmp_path / "integrations"
    integrations.mkdir()
    drop = tmp_path / "drop"
    shutil.copytree(REPO / "demo" / "oneroster-1.1", drop)
    doc = yaml.safe_load((REPO / "integrations" / "demo-unified.yaml").read_text())
    doc["sources"][0]["path"] = str(drop)
    for source in doc["sources"][1:]:  # the other demo drops, where the repository has them
        source["path"] = str((REPO / "integrations" / source["path"]).resolve())
    doc["schedule"] = {"school_year_start": None}
    (integrations / "demo-unified.yaml").write_text(yaml.safe_dump(doc))
    env = {**os.environ, "PASSPORT_HOME": str(home), "PASSPORT_INTEGRATIONS_DIR": str(integrations),
           "DAGSTER_HOME": str(home / "dagster")}
    env.pop("PASSPORT_DATABASE_URL", None)
    passport = str(BIN / "passport")
    subprocess.run([passport, "sync", "demo-unified"], env=env, check=True, capture_output=True)
    users = (drop / "users.csv").read_text().splitlines()
    (drop / "users.csv").write_text("\n".join(users[: len(users) // 3]) + "\n")  # most people gone: held
    held = subprocess.run([passport, "sync", "demo-unified"], env=env, capture_output=True, text=True)
    assert held.returncode == 3, held.stdout + held.stderr
    port = _free_port()
    log = (tmp_path / "ui.log").open("w")
    server = subprocess.Popen([passport, "ui", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/server_info", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "ui.log").read_text()[-3000:]
            time.sleep(1)
        time.sleep(5)  # the code location loaded
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()


def test_the_asset_graph_and_a_partitions_checks_render(ui, tmp_path):
    chromium = _chromium()
    profile = tmp_path / "chromium-profile"
    graph = _render(chromium, f"{ui}/locations/{LOCATION}/asset-groups/roster_sync", tmp_path / "graph.png", profile)
    assert "xpress_extracts" in graph and "sis_writeback" in graph
    assert "Join the Dagster community" not in graph  # no newsletter prompt on an offline district server
    listed = _render(chromium, f"{ui}/locations/{LOCATION}/asset-groups/roster_sync/list", tmp_path / "list.png",
                     profile)
    for asset in ("integration_settings", "source_extracts", "normalized_rosters", "roster_changes",
                  "golden_records", "oneroster_exports"):
        assert asset in listed, asset
    checks = _render(chromium, f"{ui}/assets/roster_changes?view=checks", tmp_path / "checks.png", profile)
    assert "sync_hold" in checks
    assert (tmp_path / "graph.png").stat().st_size > 10_000 and (tmp_path / "checks.png").stat().st_size > 10_000
