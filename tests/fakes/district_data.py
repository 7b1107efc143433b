"""The one synthetic district every fake API serves: the same seeded district the CSV tests use,
read back from its OneRoster 1.1 CSV files into plain dicts that each fake reshapes into its
own API's form."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from passport_pipelines.synthetic.district import generate_oneroster_district

FILES = ("orgs", "academicSessions", "courses", "classes", "users", "enrollments", "demographics")


@dataclass
class DistrictData:
    folder: Path  # the CSV drop itself (OneRoster 1.1, bulk)
    tables: dict[str, list[dict[str, str]]]  # file name -> rows, blank cells as ""

    @property
    def users(self) -> list[dict[str, str]]:
        return self.tables["users"]

    def by_role(self, *roles: str) -> list[dict[str, str]]:
        return [u for u in self.users if u["role"] in roles]


def read_district(folder: Path) -> DistrictData:
    tables = {}
    for name in FILES:
        with (folder / f"{name}.csv").open(newline="", encoding="utf-8-sig") as fh:
            tables[name] = list(csv.DictReader(fh))
    return DistrictData(folder, tables)


def make_district_data(folder: Path, students: int = 60, seed: int = 11) -> DistrictData:
    """Generate the district's CSV drop into ``folder`` and read it back."""
    generate_oneroster_district(folder, students, seed=seed)
    return read_district(folder)
