"""Small synthetic OneRoster drops, edited in place by tests to simulate what districts send."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.oneroster_packages import GRADEBOOK_COLUMNS, ROSTER_FILES
from tests.synthetic.district import generate_oneroster_district


def make_district(folder: Path, students: int = 40, reference_errors: int = 0, seed: int = 7) -> Path:
    generate_oneroster_district(folder, students, seed=seed, reference_errors=reference_errors)
    return folder


def read_rows(path: Path) -> tuple[list[str], list[dict]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def write_rows(path: Path, header: list[str], rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def edit_rows(path: Path, edit) -> None:
    """``edit(rows) -> rows`` on a CSV file of the drop."""
    header, rows = read_rows(path)
    write_rows(path, header, edit(rows))


def write_manifest(folder: Path, modes: dict[str, str], version: str = "1.1") -> None:
    """manifest.csv declaring every file of ``version`` (as the CSV bindings ask): ``modes``, else absent."""
    files = [*ROSTER_FILES[version], *GRADEBOOK_COLUMNS[version]]
    lines = ["propertyName,value", "manifest.version,1.0", f"oneroster.version,{version}"]
    lines += [f"file.{f},{modes.get(f, 'absent')}" for f in files]
    (folder / "manifest.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
