"""A full disk is said as such ("no space left on device while writing ..."), never as a library's
traceback, and a sync that hits one leaves the golden store as it was.

The sync tests put PASSPORT_HOME on a small tmpfs, which needs the right to mount (root in the dev
container and CI); elsewhere they are skipped. The recognition tests use /dev/full, which fails
every write with ENOSPC.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from passport_pipelines.artifacts.disk_space import DiskFullError, is_disk_full, writing
from passport_pipelines.cli.main import cli
from passport_pipelines.store.golden_store import GoldenStore
from tests.conftest import write_integration
from tests.district_files import make_district

DEV_FULL = Path("/dev/full")


@pytest.fixture
def small_disk(passport_home):
    """PASSPORT_HOME (with DAGSTER_HOME and the SQLite store in it) on a 24 MiB tmpfs."""
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(passport_home)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    (passport_home / "dagster").mkdir()
    try:
        yield passport_home
    finally:
        from passport_pipelines.resources.golden_store import close_stores

        close_stores()
        subprocess.run(["umount", "-l", str(passport_home)], check=True)


def _fill(disk: Path) -> None:
    with (disk / "filler").open("wb") as fh:
        try:
            while True:
                fh.write(bytes(1 << 20))
                fh.flush()
        except OSError:
            pass


def _sync() -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["sync", "lakeside"], catch_exceptions=False)
    return result.exit_code, result.output


@pytest.mark.skipif(not DEV_FULL.exists(), reason="no /dev/full")
def test_a_full_disk_is_recognised_however_the_library_words_it():
    with pytest.raises(OSError) as python_error:
        with DEV_FULL.open("wb", buffering=0) as fh:
            fh.write(b"x" * 4096)
    with pytest.raises(duckdb.Error) as duckdb_error:
        duckdb.connect().execute(f"COPY (SELECT range FROM range(100000)) TO '{DEV_FULL}' (FORMAT csv)")
    assert is_disk_full(python_error.value)
    assert is_disk_full(duckdb_error.value)
    assert not is_disk_full(PermissionError(13, "Permission denied"))


@pytest.mark.skipif(not DEV_FULL.exists(), reason="no /dev/full")
def test_writing_names_what_was_being_written_and_gives_the_space_back(tmp_path):
    partial = tmp_path / "run"
    partial.mkdir()
    (partial / "half-copied.csv").write_bytes(b"x" * 1000)
    with pytest.raises(DiskFullError) as error:
        with writing("the archive copy of source sis's drop", tmp_path / "run", release=partial):
            with DEV_FULL.open("wb", buffering=0) as fh:
                fh.write(b"x" * 4096)
    assert str(error.value) == f"no space left on device while writing the archive copy of source sis's drop " \
                               f"({tmp_path / 'run'})"
    assert not partial.exists()


@pytest.mark.slow
def test_a_full_disk_while_archiving_a_drop_fails_the_sync_cleanly(tmp_path, small_disk):
    drop = make_district(tmp_path / "drop", students=10)
    write_integration(tmp_path / "integrations", "lakeside", [{"name": "sis", "type": "csv", "path": str(drop)}])
    code, output = _sync()
    assert code == 0, output
    store = GoldenStore(f"sqlite:///{small_disk / 'passport.db'}")
    before = ([v.number for v in store.versions("lakeside")], store.count_records("lakeside", "2025-2026"))
    store.dispose()

    (drop / "padding.csv").write_bytes(b"x" * (32 << 20))  # more than the disk holds
    code, output = _sync()
    assert code == 1
    assert "no space left on device while writing the archive copy of source sis's drop" in output
    assert "nothing was committed" in output
    assert "Traceback" not in output and "sqlalchemy" not in output.lower()
    store = GoldenStore(f"sqlite:///{small_disk / 'passport.db'}")
    assert ([v.number for v in store.versions("lakeside")], store.count_records("lakeside", "2025-2026")) == before
    store.dispose()
    # The failed run's partial archive was removed: the space is back.
    runs = list((small_disk / "artifacts" / "originals" / "lakeside" / "2025-2026").iterdir())
    assert len(runs) == 1


@pytest.mark.slow
def test_a_disk_already_full_is_one_line_not_a_traceback(tmp_path, small_disk):
    drop = make_district(tmp_path / "drop", students=10)
    write_integration(tmp_path / "integrations", "lakeside", [{"name": "sis", "type": "csv", "path": str(drop)}])
    _fill(small_disk)
    code, output = _sync()
    assert code == 1
    assert output.startswith("error: no space left on device while writing"), output
    assert str(small_disk) in output
    assert "Traceback" not in output
