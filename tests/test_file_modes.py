"""Everything the hub writes holds student data: files 0600 and folders 0700, whatever the umask of
the shell or service manager that started it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from passport_pipelines.file_modes import copy_privately, make_private
from tests.conftest import write_integration
from tests.district_files import edit_rows, make_district

UI_STYLE_RUN = """
import dagster as dg
from passport_pipelines.definitions import defs  # the code location, as a code server or run worker loads it
from passport_pipelines.jobs.partitions import sync_partition_key
from passport_pipelines.jobs.run_tags import COMMITTED_BY_TAG

with dg.DagsterInstance.get() as instance:
    result = defs.resolve_job_def("roster_sync").execute_in_process(
        instance=instance, partition_key=sync_partition_key("lakeside", "2025-2026"),
        tags={COMMITTED_BY_TAG: "ui"}, raise_on_error=False)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
"""


def _readable_by_others(*roots: Path) -> list[str]:
    found = []
    for root in roots:
        for path in [root, *root.rglob("*")]:
            mode = path.lstat().st_mode
            if not stat.S_ISLNK(mode) and mode & 0o077:
                found.append(f"{oct(mode & 0o777)} {path.relative_to(root.parent)}")
    return found


@pytest.mark.slow
def test_a_cli_sync_and_a_ui_style_run_under_umask_022_write_nothing_others_can_read(tmp_path):
    home, exports = tmp_path / "home", tmp_path / "exports" / "lakeside"
    drop = make_district(tmp_path / "drop", students=20)
    os.chmod(drop / "users.csv", 0o644)  # the district's own files are world-readable: copies must not be
    (tmp_path / "integrations").mkdir()
    write_integration(tmp_path / "integrations", "lakeside",
                      [{"name": "sis", "type": "csv", "path": str(drop), "mode": "full"}],
                      destinations=[{"name": "oneroster_export", "type": "oneroster-1.1-csv",
                                     "folder": str(exports)}])
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "PASSPORT_DATABASE_URL")}
    env.update(PASSPORT_HOME=str(home), PASSPORT_INTEGRATIONS_DIR=str(tmp_path / "integrations"))
    passport = str(Path(sys.executable).with_name("passport"))

    cli = subprocess.run([passport, "sync", "lakeside"], env=env, capture_output=True, text=True, umask=0o022)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    edit_rows(drop / "users.csv", lambda rows: [{**r, "givenName": "Renamed"} if i == 0 else r
                                                for i, r in enumerate(rows)])
    ui = subprocess.run([sys.executable, "-c", UI_STYLE_RUN], env={**env, "DAGSTER_HOME": str(home / "dagster")},
                        capture_output=True, text=True, umask=0o022)
    assert ui.returncode == 0, ui.stdout + ui.stderr

    # Both wrote: the store, archives, intermediate tables, reports, Dagster's run storage and logs,
    # and two exports.
    assert (home / "passport.db").is_file() and len(list(exports.glob("*.zip"))) == 2
    assert any((home / "dagster").rglob("*.db")) and any(home.rglob("validation_report.json"))
    assert _readable_by_others(home, exports) == []


def test_a_copied_drop_does_not_keep_its_world_readable_mode(tmp_path):
    source = tmp_path / "users.csv"
    source.write_text("sourcedId\n1\n")
    os.chmod(source, 0o644)
    os.utime(source, (1_700_000_000, 1_700_000_000))
    copy_privately(source, tmp_path / "copy.csv")
    copied = (tmp_path / "copy.csv").stat()
    assert copied.st_mode & 0o077 == 0 and copied.st_mtime == 1_700_000_000  # private, "as received"


def test_a_home_made_before_is_narrowed(tmp_path):
    old = tmp_path / "home"
    old.mkdir()
    os.chmod(old, 0o755)
    make_private(old)
    assert old.stat().st_mode & 0o777 == 0o700
