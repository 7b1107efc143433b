"""How big a drop may be: documented defaults, overridable per source with ``limits:``; over a limit
is a finding, found before memory grows."""

from __future__ import annotations

import tracemalloc
import uuid
from pathlib import Path

import pytest
from pydantic import ValidationError

from passport_pipelines import settings
from passport_pipelines.config.integration import Integration
from passport_pipelines.config.package_limits import DEFAULT_LIMITS, GIB, MIB, PackageLimits
from passport_pipelines.config.sources import CsvFolderSource
from passport_pipelines.store.golden_store import GoldenStore
from passport_pipelines.validation.extract import extract_source
from passport_pipelines.validation.oneroster.validation import validate_package
from tests.malformed_drops import build, users_bytes
from tests.oneroster_packages import header_for, valid_rows, write_package, zip_package


@pytest.fixture(autouse=True)
def _one_duckdb_thread(monkeypatch):
    monkeypatch.setenv("PASSPORT_DUCKDB_THREADS", "1")


def _sync_extract(tmp_path: Path, path: Path, limits: dict):
    integration = Integration.model_validate({
        "district": "lakeside", "name": "Lakeside", "school_years": ["2025-2026"],
        "sources": [{"name": "sis", "type": "csv", "path": str(path), "limits": limits}],
        "file": tmp_path / "lakeside.yaml",
    })
    store = GoldenStore(settings.database_url())
    try:
        return extract_source(integration, integration.source("sis"), school_year="2025-2026",
                              run_id=uuid.uuid4().hex, store=store)
    finally:
        store.dispose()


def test_defaults_fit_a_million_student_district():
    # About 1 GB of CSV in some ten files, no cell over a few KB.
    assert DEFAULT_LIMITS == PackageLimits(max_total_size=4 * GIB, max_files=1000, max_compression_ratio=200,
                                           max_field_size=1 * MIB, max_header_size=1 * MIB)
    assert CsvFolderSource(name="sis", type="csv", path="x").limits.package_limits() == DEFAULT_LIMITS


def test_limits_are_read_with_units():
    source = CsvFolderSource.model_validate({"name": "sis", "type": "csv", "path": "x", "limits": {
        "max_total_size": "8GiB", "max_files": 50, "max_compression_ratio": 500, "max_field_size": "64 KiB",
        "max_header_size": 4096}})
    assert source.limits.package_limits() == PackageLimits(max_total_size=8 * GIB, max_files=50,
                                                           max_compression_ratio=500, max_field_size=64 << 10,
                                                           max_header_size=4096)


@pytest.mark.parametrize("limits", [{"max_total": "1GB"}, {"max_field_size": "lots"}, {"max_files": 0}])
def test_unknown_or_bad_limits_are_refused(limits):
    with pytest.raises(ValidationError):
        CsvFolderSource.model_validate({"name": "sis", "type": "csv", "path": "x", "limits": limits})


def test_a_cell_over_the_default_limit_is_found_without_scanning_the_whole_file(tmp_path):
    path, _ = build("huge_field", tmp_path)  # a 48 MiB cell
    tracemalloc.start()
    try:
        drop = validate_package(path, "oneroster-1.1")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    [finding] = drop.report.samples()
    assert (finding.rule, finding.file, finding.line, finding.column) == ("value.too_large", "users.csv", 4,
                                                                          "familyName")
    assert "at least" in finding.message and "limits.max_field_size (1 MiB)" in finding.message
    assert finding.value is None
    # The file itself is in memory (48 MiB); the scan stops a few MiB into the cell.
    assert peak < 48 * MIB + 32 * MIB, f"{peak >> 20} MiB"


def test_a_cell_over_a_lower_limit_of_the_source(tmp_path, passport_home, sqlite_store):
    rows = valid_rows()["users"]
    rows[1]["userIds"] = "{SIS:" + "x" * 3000 + "}"  # stu-1, line 3: 3 KB
    pkg = write_package(tmp_path / "pkg", files=["users"], raw={"users.csv": users_bytes(rows)})
    assert validate_package(pkg, "oneroster-1.1").ok
    extract, report = _sync_extract(tmp_path, pkg, {"max_field_size": "2KiB"})
    assert not extract.ok
    [finding] = report.samples()
    assert (finding.rule, finding.line, finding.column) == ("value.too_large", 3, "userIds")
    assert finding.message.startswith("the cell is 2.94 KiB, more than limits.max_field_size (2 KiB)")


def test_a_header_over_the_limit_is_a_finding(tmp_path, passport_home, sqlite_store):
    rows = [{**r, **{f"metadata.extension_{i:03d}": "" for i in range(100)}} for r in valid_rows()["users"]]
    pkg = write_package(tmp_path / "pkg", files=["users"], raw={"users.csv": users_bytes(rows)})
    assert len(header_for("1.1", "users", rows)) > 100
    extract, report = _sync_extract(tmp_path, pkg, {"max_header_size": "1KiB"})
    [finding] = report.samples()
    assert (finding.rule, finding.file, finding.line) == ("header.too_large", "users.csv", 1)
    assert "limits.max_header_size (1 KiB)" in finding.message


def test_a_folder_over_the_total_size_is_not_copied(tmp_path, passport_home, sqlite_store):
    pkg = write_package(tmp_path / "pkg")
    extract, report = _sync_extract(tmp_path, pkg, {"max_total_size": 2000})
    [finding] = report.samples()
    assert (finding.rule, finding.file) == ("package.too_large", "pkg")
    assert "more than limits.max_total_size (1.95 KiB)" in finding.message
    assert not any(Path(extract.archive).glob("*.csv"))


def test_a_zip_over_the_total_size_is_not_copied(tmp_path, passport_home, sqlite_store):
    zipped = zip_package(write_package(tmp_path / "pkg"), tmp_path / "drop.zip")
    extract, report = _sync_extract(tmp_path, zipped, {"max_total_size": 1000})
    assert report.totals() == {"package.too_large": 1}
    assert not (Path(extract.archive) / "drop.zip").exists()


def test_more_csv_files_than_the_limit(tmp_path):
    pkg = write_package(tmp_path / "pkg", files=["orgs"])
    drop = validate_package(pkg, "oneroster-1.1", limits=PackageLimits(max_files=1))
    assert drop.report.totals() == {"package.too_many_files": 1}
