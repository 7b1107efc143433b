"""The check every export test applies: the zip passes our validator with no finding at all (no error, no
warning, no filtered row), and its manifest holds exactly the CSV binding's properties.

The binding's manifest properties come from ``tests/oneroster_packages.py`` (written out from the binding
documents), not from the code under test, so the export and the validator cannot drift together.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from passport_pipelines.validation.oneroster.validation import validate_package
from tests.oneroster_packages import GRADEBOOK_COLUMNS, ROSTER_FILES

# Besides one file.<name> per data file: what a OneRoster CSV manifest may hold.
OTHER_PROPERTIES = {"manifest.version", "oneroster.version", "source.systemName", "source.systemCode"}


def binding_files(version: str) -> set[str]:
    """The data files of the OneRoster ``version`` CSV binding (13 in 1.1, 21 in 1.2)."""
    return {*ROSTER_FILES[version], *GRADEBOOK_COLUMNS[version]}


def manifest_of(zip_path: Path) -> list[tuple[str, str]]:
    with zipfile.ZipFile(zip_path) as z:
        rows = list(csv.reader(io.TextIOWrapper(z.open("manifest.csv"), encoding="utf-8", newline="")))
    assert rows[0] == ["propertyName", "value"], rows[0]
    return [(r[0], r[1]) for r in rows[1:]]


def assert_conforms(zip_path: Path, version: str) -> None:
    """``zip_path`` is a OneRoster ``version`` package as the binding writes it, to the letter."""
    pairs = manifest_of(zip_path)
    names = [name for name, _ in pairs]
    assert len(names) == len(set(names)), f"a manifest property is given twice: {names}"
    files = {n[len("file."):] for n in names if n.startswith("file.")}
    assert files == binding_files(version), (
        f"manifest files differ from the {version} binding: extra {sorted(files - binding_files(version))}, "
        f"missing {sorted(binding_files(version) - files)}")
    assert {n for n in names if not n.startswith("file.")} <= OTHER_PROPERTIES
    props = dict(pairs)
    assert props["manifest.version"] == "1.0" and props["oneroster.version"] == version
    with zipfile.ZipFile(zip_path) as z:
        members = set(z.namelist())
    assert members == {"manifest.csv", *(f"{f}.csv" for f in files if props[f"file.{f}"] != "absent")}
    report = validate_package(zip_path, f"oneroster-{version}").report
    assert report.count() == 0, report.render(limit=20)
