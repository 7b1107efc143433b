"""The one synthetic district every fake API serves: the same seeded district the CSV tests use,
read back from its OneRoster 1.1 CSV files into plain dicts that each fake reshapes into its
own API's form."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from tests.synthetic.district import generate_oneroster_district

FILES = ("orgs", "academicSessions", "courses", "classes", "users", "enrollments", "demographics")
# Read when the drop has them (``make_district_data(..., gradebook=True)``).
GRADEBOOK_FILES = ("categories", "lineItems", "results", "resources", "courseResources", "classResources")


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
    for name in FILES + GRADEBOOK_FILES:
        path = folder / f"{name}.csv"
        if name in GRADEBOOK_FILES and not path.exists():
            tables[name] = []
            continue
        with path.open(newline="", encoding="utf-8-sig") as fh:
            tables[name] = list(csv.DictReader(fh))
    return DistrictData(folder, tables)


def make_district_data(folder: Path, students: int = 60, seed: int = 11, gradebook: bool = False) -> DistrictData:
    """Generate the district's CSV drop into ``folder`` (with its gradebook and resources files when asked)
    and read it back."""
    generate_oneroster_district(folder, students, seed=seed, gradebook=gradebook)
    return read_district(folder)


def make_district_years(folder: Path, years: tuple[str, ...], students: int = 60,
                        seed: int = 11) -> dict[str, DistrictData]:
    """The same district's OneRoster drop of each school year, in ``folder/<year>``: the same
    people (one seed), each year with its own sessions (``ay-2025`` for 2024-2025, ...) and dates."""
    out = {}
    for year in years:
        generate_oneroster_district(folder / year, students, seed=seed, school_year=year)
        out[year] = read_district(folder / year)
    return out


def ending_year(data: DistrictData) -> str:
    return next(s["schoolYear"] for s in data.tables["academicSessions"] if s["type"] == "schoolYear")


def served_years(current: DistrictData, *earlier: DistrictData) -> DistrictData:
    """What an SIS serves when it holds several years: the current year's orgs, people and
    demographics, and every year's sessions, courses, classes and enrollments. A year's drop
    numbers its courses, classes and enrollments from 1 as every other year's does, so the
    earlier years' ids get the prefix ``y<ending year>-`` (an SIS's ids are unique across years);
    enrollments of people the SIS no longer has are left out."""
    tables = {name: list(rows) for name, rows in current.tables.items()}
    people = {u["sourcedId"] for u in current.users}
    for data in earlier:
        prefix = f"y{ending_year(data)}-"
        t = data.tables
        tables["academicSessions"] += t["academicSessions"]
        tables["courses"] += [{**c, "sourcedId": prefix + c["sourcedId"]} for c in t["courses"]]
        tables["classes"] += [{**c, "sourcedId": prefix + c["sourcedId"],
                               "courseSourcedId": prefix + c["courseSourcedId"]} for c in t["classes"]]
        tables["enrollments"] += [{**e, "sourcedId": prefix + e["sourcedId"],
                                   "classSourcedId": prefix + e["classSourcedId"]}
                                  for e in t["enrollments"] if e["userSourcedId"] in people]
    return DistrictData(current.folder, tables)
