"""Tiny, valid OneRoster 1.1 / 1.2 CSV packages for tests, with any part overridable.

The columns are written out here from the OneRoster 1.1 / 1.2 CSV standard rather than taken from
the code's spec, so a test fails if the spec drifts from the standard.

    from tests.oneroster_packages import valid_rows, write_package, zip_package

    pkg = write_package(tmp_path / "pkg")                                  # valid 1.1 folder
    pkg = write_package(tmp_path / "pkg", "1.2")                           # valid 1.2 folder
    pkg = write_package(tmp_path / "pkg", files=["orgs"])                  # only orgs.csv (+ manifest)
    pkg = write_package(tmp_path / "pkg", cells={("users", 1, "grades"): "14"})
    pkg = write_package(tmp_path / "pkg", extra_rows={"users": [{"sourcedId": "stu-9"}]})
    pkg = write_package(tmp_path / "pkg", modes={"users": "delta"})       # rows get status + dateLastModified
    pkg = write_package(tmp_path / "pkg", manifest={"source.systemCode": "X", "file.courses": None})
    pkg = write_package(tmp_path / "pkg", raw={"users.csv": b"..."})       # a file byte for byte
    zipped = zip_package(pkg, tmp_path / "pkg.zip", subfolder="export")

Rows are dicts of column -> value; a column missing from a row is written blank. Line numbers
in findings count the header as line 1, so row ``i`` of a file is on line ``i + 2``.
"""

from __future__ import annotations

import copy
import csv
import io
import zipfile
from pathlib import Path
from typing import Iterable, Mapping

VERSIONS = ("1.1", "1.2")

_COMMON = ["sourcedId", "status", "dateLastModified"]
_RACE = ["americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican", "nativeHawaiianOrOtherPacificIslander",
         "white", "demographicRaceTwoOrMoreRaces", "hispanicOrLatinoEthnicity"]
_USERS_11 = [*_COMMON, "enabledUser", "orgSourcedIds", "role", "username", "userIds", "givenName", "familyName",
             "middleName", "identifier", "email", "sms", "phone", "agentSourcedIds", "grades", "password"]
_USERS_12 = [*_COMMON, "enabledUser", "username", "userIds", "givenName", "familyName", "middleName", "identifier",
             "email", "sms", "phone", "agentSourcedIds", "grades", "password", "userMasterIdentifier",
             "preferredGivenName", "preferredMiddleName", "preferredFamilyName", "primaryOrgSourcedId", "pronouns"]
_SHARED_COLUMNS = {
    "orgs": [*_COMMON, "name", "type", "identifier", "parentSourcedId"],
    "academicSessions": [*_COMMON, "title", "type", "startDate", "endDate", "parentSourcedId", "schoolYear"],
    "courses": [*_COMMON, "schoolYearSourcedId", "title", "courseCode", "grades", "orgSourcedId", "subjects",
                "subjectCodes"],
    "classes": [*_COMMON, "title", "grades", "courseSourcedId", "classCode", "classType", "location",
                "schoolSourcedId", "termSourcedIds", "subjects", "subjectCodes", "periods"],
    "enrollments": [*_COMMON, "classSourcedId", "schoolSourcedId", "userSourcedId", "role", "primary", "beginDate",
                    "endDate"],
    "demographics": [*_COMMON, "birthDate", "sex", *_RACE, "countryOfBirthCode", "stateOfBirthAbbreviation",
                     "cityOfBirth", "publicSchoolResidenceStatus"],
}

#: The standard header of each roster file, in order, per version.
COLUMNS: dict[str, dict[str, list[str]]] = {
    "1.1": {**_SHARED_COLUMNS, "users": _USERS_11},
    "1.2": {
        **_SHARED_COLUMNS,
        "users": _USERS_12,
        "roles": [*_COMMON, "userSourcedId", "roleType", "role", "beginDate", "endDate", "orgSourcedId",
                  "userProfileSourcedId"],
        "userProfiles": [*_COMMON, "userSourcedId", "profileType", "vendorId", "applicationId", "description",
                         "credentialType", "username", "password"],
    },
}
#: Every roster file of a version, in the order manifests list them.
ROSTER_FILES = {v: list(COLUMNS[v]) for v in VERSIONS}
GRADEBOOK_FILES = ("categories", "classResources", "courseResources", "lineItems", "resources", "results")

#: The gradebook and resources files per the CSV bindings (1.2 renames the line item's session
#: academicSessionSourcedId and adds its school; results gain textScore, classSourcedId and four flags).
_RESOURCES = [*_COMMON, "vendorResourceId", "title", "roles", "importance", "vendorId", "applicationId"]
GRADEBOOK_COLUMNS: dict[str, dict[str, list[str]]] = {
    "1.1": {
        "categories": [*_COMMON, "title"],
        "lineItems": [*_COMMON, "title", "description", "assignDate", "dueDate", "classSourcedId", "categorySourcedId",
                      "gradingPeriodSourcedId", "resultValueMin", "resultValueMax"],
        "results": [*_COMMON, "lineItemSourcedId", "studentSourcedId", "scoreStatus", "score", "scoreDate", "comment"],
        "resources": _RESOURCES,
        "classResources": [*_COMMON, "title", "classSourcedId", "resourceSourcedId"],
        "courseResources": [*_COMMON, "title", "courseSourcedId", "resourceSourcedId"],
    },
    "1.2": {
        "categories": [*_COMMON, "title", "weight"],
        "lineItems": [*_COMMON, "title", "description", "assignDate", "dueDate", "classSourcedId", "categorySourcedId",
                      "academicSessionSourcedId", "resultValueMin", "resultValueMax", "schoolSourcedId"],
        "results": [*_COMMON, "lineItemSourcedId", "studentSourcedId", "scoreStatus", "score", "scoreDate", "comment",
                    "textScore", "classSourcedId", "inProgress", "incomplete", "late", "missing"],
        "resources": _RESOURCES,
        "classResources": [*_COMMON, "title", "classSourcedId", "resourceSourcedId"],
        "courseResources": [*_COMMON, "title", "courseSourcedId", "resourceSourcedId"],
        "scoreScales": [*_COMMON, "title", "type", "orgSourcedId", "courseSourcedId", "classSourcedId",
                        "scoreScaleValue"],
        "lineItemScoreScales": [*_COMMON, "title", "lineItemSourcedId", "scoreScaleSourcedId"],
        "resultScoreScales": [*_COMMON, "title", "resultSourcedId", "scoreScaleSourcedId"],
        "lineItemLearningObjectiveIds": [*_COMMON, "lineItemSourcedId", "source", "learningObjectiveId"],
        "resultLearningObjectiveIds": [*_COMMON, "resultSourcedId", "source", "learningObjectiveId", "score",
                                       "textScore"],
        "userResources": [*_COMMON, "userSourcedId", "orgSourcedId", "classSourcedId", "resourceSourcedId"],
    },
}

DELTA_TIMESTAMP = "2025-08-01T12:00:00.000Z"

_ORGS = [
    {"sourcedId": "dist-1", "name": "Unified District", "type": "district", "identifier": "0600001"},
    {"sourcedId": "sch-1", "name": "Lincoln High", "type": "school", "identifier": "0600001001",
     "parentSourcedId": "dist-1"},
]
_SESSIONS = [
    {"sourcedId": "ay-2026", "title": "2025-2026", "type": "schoolYear", "startDate": "2025-08-18",
     "endDate": "2026-06-12", "schoolYear": "2026"},
    {"sourcedId": "term-1", "title": "Fall 2025", "type": "semester", "startDate": "2025-08-18",
     "endDate": "2025-12-19", "parentSourcedId": "ay-2026", "schoolYear": "2026"},
]
_COURSES = [
    {"sourcedId": "crs-1", "schoolYearSourcedId": "ay-2026", "title": "Algebra I", "courseCode": "MA101",
     "grades": "09,10", "orgSourcedId": "sch-1", "subjects": "Mathematics"},
]
_CLASSES = [
    {"sourcedId": "cls-1", "title": "Algebra I - P1", "grades": "09", "courseSourcedId": "crs-1",
     "classCode": "MA101-1", "classType": "scheduled", "location": "Room 12", "schoolSourcedId": "sch-1",
     "termSourcedIds": "term-1", "subjects": "Mathematics", "periods": "1"},
]
_ENROLLMENTS = [
    {"sourcedId": "enr-1", "classSourcedId": "cls-1", "schoolSourcedId": "sch-1", "userSourcedId": "tch-1",
     "role": "teacher", "primary": "true", "beginDate": "2025-08-18", "endDate": "2025-12-19"},
    {"sourcedId": "enr-2", "classSourcedId": "cls-1", "schoolSourcedId": "sch-1", "userSourcedId": "stu-1",
     "role": "student", "primary": "false"},
    {"sourcedId": "enr-3", "classSourcedId": "cls-1", "schoolSourcedId": "sch-1", "userSourcedId": "stu-2",
     "role": "student", "primary": "false"},
]
_DEMOGRAPHICS = [
    {"sourcedId": "stu-1", "birthDate": "2010-05-23", "sex": "female", **{r: "false" for r in _RACE},
     "white": "true", "countryOfBirthCode": "US", "stateOfBirthAbbreviation": "CA", "cityOfBirth": "Fresno"},
]
_PEOPLE = [
    # (sourcedId, role, username, given, family, identifier, grades, agents)
    ("tch-1", "teacher", "ada.king", "Ada", "King", "T100", "", ""),
    ("stu-1", "student", "ben.ortiz", "Ben", "Ortiz", "S001", "09", "par-1"),
    ("stu-2", "student", "cleo.ng", "Cleo", "Ng", "S002", "10", "par-1"),
    ("par-1", "parent", "dana.ortiz", "Dana", "Ortiz", "", "", "stu-1,stu-2"),
]


def _users(version: str) -> list[dict[str, str]]:
    users = []
    for sid, role, username, given, family, identifier, grades, agents in _PEOPLE:
        row = {"sourcedId": sid, "enabledUser": "true", "username": username, "userIds": f"{{SIS:{sid}}}",
               "givenName": given, "familyName": family, "identifier": identifier,
               "email": f"{username}@example.org", "agentSourcedIds": agents, "grades": grades}
        if version == "1.1":
            row.update(orgSourcedIds="sch-1", role=role)
        else:
            row.update(primaryOrgSourcedId="sch-1")
        users.append({k: v for k, v in row.items() if v})
    return users


def _roles() -> list[dict[str, str]]:
    return [{"sourcedId": f"rol-{sid}", "userSourcedId": sid, "roleType": "primary", "role": role,
             "orgSourcedId": "sch-1"} for sid, role, *_ in _PEOPLE]


def valid_rows(version: str = "1.1") -> dict[str, list[dict[str, str]]]:
    """A fresh copy of the minimal valid package's rows, file name -> rows (safe to mutate)."""
    if version not in VERSIONS:
        raise ValueError(f"unknown OneRoster version {version!r}")
    rows = {
        "orgs": _ORGS, "academicSessions": _SESSIONS, "courses": _COURSES, "classes": _CLASSES,
        "users": _users(version), "enrollments": _ENROLLMENTS, "demographics": _DEMOGRAPHICS,
    }
    if version == "1.2":
        rows["roles"] = _roles()
        rows["userProfiles"] = [{"sourcedId": "prof-1", "userSourcedId": "stu-1", "profileType": "reading",
                                 "vendorId": "vendor-1", "credentialType": "username", "username": "ben.o"}]
    return copy.deepcopy(rows)


def gradebook_rows(version: str = "1.1") -> dict[str, list[dict[str, str]]]:
    """Rows of every gradebook and resources file of ``version`` for the minimal package: a category,
    two line items of cls-1, a result per student on each, a resource given to the class and course
    (and, in 1.2, to stu-1), a letter-grade scale with its links and a learning objective."""
    session = "academicSessionSourcedId" if version == "1.2" else "gradingPeriodSourcedId"
    line_items = [
        {"sourcedId": f"li-{n}", "title": title, "description": "Chapter 1", "assignDate": "2025-09-01",
         "dueDate": "2025-09-08", "classSourcedId": "cls-1", "categorySourcedId": "cat-1", session: "term-1",
         "resultValueMin": "0", "resultValueMax": "100", **({"schoolSourcedId": "sch-1"} if version == "1.2" else {})}
        for n, title in ((1, "Unit 1 quiz"), (2, "Unit 1 test"))]
    results = [{"sourcedId": f"res-{n}-{student}", "lineItemSourcedId": f"li-{n}", "studentSourcedId": student,
                "scoreStatus": "fully graded", "score": score, "scoreDate": "2025-09-09", "comment": "Well done"}
               for n in (1, 2) for student, score in (("stu-1", "87.5"), ("stu-2", "92"))]
    rows: dict[str, list[dict[str, str]]] = {
        "categories": [{"sourcedId": "cat-1", "title": "Quizzes", **({"weight": "20"} if version == "1.2" else {})}],
        "lineItems": line_items,
        "results": results,
        "resources": [{"sourcedId": "rsc-1", "vendorResourceId": "algebra-book", "title": "Algebra I e-book",
                       "roles": "student,teacher", "importance": "primary", "vendorId": "publisher-1"}],
        "classResources": [{"sourcedId": "clr-1", "title": "E-book", "classSourcedId": "cls-1",
                            "resourceSourcedId": "rsc-1"}],
        "courseResources": [{"sourcedId": "crr-1", "title": "E-book", "courseSourcedId": "crs-1",
                             "resourceSourcedId": "rsc-1"}],
    }
    if version == "1.2":
        for r in results:
            r.update(textScore="B+", classSourcedId="cls-1", late="false")
        rows.update({
            "scoreScales": [{"sourcedId": "scl-1", "title": "Letters", "type": "letter", "orgSourcedId": "sch-1",
                             "courseSourcedId": "crs-1", "classSourcedId": "cls-1",
                             "scoreScaleValue": "{A:90},{B:80},{C:70}"}],
            "lineItemScoreScales": [{"sourcedId": "lss-1", "lineItemSourcedId": "li-1", "scoreScaleSourcedId": "scl-1"}],
            "resultScoreScales": [{"sourcedId": "rss-1", "resultSourcedId": "res-1-stu-1",
                                   "scoreScaleSourcedId": "scl-1"}],
            "lineItemLearningObjectiveIds": [{"sourcedId": "llo-1", "lineItemSourcedId": "li-1", "source": "case",
                                              "learningObjectiveId": "CCSS.MATH.HSA.REI.B.3"}],
            "resultLearningObjectiveIds": [{"sourcedId": "rlo-1", "resultSourcedId": "res-1-stu-1", "source": "case",
                                            "learningObjectiveId": "CCSS.MATH.HSA.REI.B.3", "score": "3",
                                            "textScore": "meets"}],
            "userResources": [{"sourcedId": "urs-1", "userSourcedId": "stu-1", "classSourcedId": "cls-1",
                               "resourceSourcedId": "rsc-1"}],
        })
    return copy.deepcopy(rows)


def csv_text(header: list[str], rows: Iterable[Mapping[str, object]], *, quote_all: bool = False) -> str:
    """A CSV file: ``header``, then each row's values in header order (missing → blank)."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in header])
    return out.getvalue()


def manifest_properties(version: str, modes: Mapping[str, str]) -> dict[str, str]:
    """The standard manifest: every roster and gradebook file with its mode (absent unless given)."""
    props = {"manifest.version": "1.0", "oneroster.version": version}
    for name in (*ROSTER_FILES[version], *GRADEBOOK_FILES, *GRADEBOOK_COLUMNS[version]):
        props[f"file.{name}"] = modes.get(name, "absent")
    props["source.systemName"] = "Test SIS"
    return props


def manifest_text(properties: Mapping[str, str] | Iterable[tuple[str, str]]) -> str:
    """manifest.csv for these properties, in order (pairs allow a property twice)."""
    pairs = properties.items() if isinstance(properties, Mapping) else properties
    return csv_text(["propertyName", "value"], [{"propertyName": k, "value": v} for k, v in pairs])


def manifest_lines(folder: Path) -> dict[str, int]:
    """property -> its line in the package's manifest.csv (header = line 1)."""
    text = (Path(folder) / "manifest.csv").read_text(encoding="utf-8-sig")
    return {row[0]: line for line, row in enumerate(csv.reader(io.StringIO(text)), start=1) if row and line > 1}


def header_for(version: str, name: str, rows: Iterable[Mapping[str, object]]) -> list[str]:
    """The standard header of ``name``, plus any other columns the rows use (e.g. metadata.*)."""
    header = list(COLUMNS[version].get(name) or GRADEBOOK_COLUMNS[version][name])
    for row in rows:
        header += [c for c in row if c not in header]
    return header


def write_package(
    dest: Path,
    version: str = "1.1",
    *,
    files: Iterable[str] | None = None,
    rows: Mapping[str, list[Mapping[str, object]] | None] | None = None,
    extra_rows: Mapping[str, list[Mapping[str, object]]] | None = None,
    cells: Mapping[tuple[str, int, str], object] | None = None,
    headers: Mapping[str, list[str]] | None = None,
    modes: Mapping[str, str] | None = None,
    manifest: Mapping[str, str | None] | None = None,
    raw: Mapping[str, bytes | str] | None = None,
    omit: Iterable[str] = (),
    quote_all: bool = False,
    bom: bool = False,
    gradebook: bool = False,
) -> Path:
    """Write a OneRoster package folder at ``dest`` (created) and return it.

    - ``gradebook``: also every gradebook and resources file of the version (``gradebook_rows``).
    - ``files``: write only these roster files (the others are left out and declared absent);
      a package of one file validates much faster when a test is about that file alone.
    - ``rows``: replace a file's rows; ``None`` leaves the file out (and declares it absent).
    - ``extra_rows``: rows appended to a file, each laid over a copy of that file's first row,
      so only what differs needs saying.
    - ``cells``: ``{(file, row_index, column): value}`` set after the above.
    - ``headers``: the exact header of a file (values are looked up by these names; a header
      name that is not a key of the rows is written blank).
    - ``modes``: file -> bulk/delta. Files default to bulk. Rows of a delta file get
      ``status=active`` and ``dateLastModified`` unless the row sets those keys (even to None).
    - ``manifest``: property overrides laid over the standard manifest; a None value removes
      the property. ``raw`` writes files byte for byte (``manifest.csv`` too), ``omit`` leaves
      the named files (e.g. ``"manifest.csv"``) out, ``bom`` starts every file with a UTF-8 BOM.
    """
    data = valid_rows(version)
    if gradebook:
        data.update(gradebook_rows(version))
    if files is not None:
        keep = set(files)
        unknown = keep - set(data) - set(GRADEBOOK_COLUMNS[version])
        if unknown:
            raise ValueError(f"not OneRoster {version} roster files: {sorted(unknown)}")
        data = {name: file_rows for name, file_rows in data.items() if name in keep}
    for name, replacement in (rows or {}).items():
        if replacement is None:
            data.pop(name, None)
        else:
            data[name] = [dict(r) for r in replacement]
    for name, extra in (extra_rows or {}).items():
        base = data[name][0]
        data[name] += [{**base, **r} for r in extra]
    for (name, index, column), value in (cells or {}).items():
        data[name][index][column] = value
    modes = {name: (modes or {}).get(name, "bulk") for name in data}
    for name, mode in modes.items():
        if mode.lower() == "delta":
            for row in data[name]:
                row.setdefault("status", "active")
                row.setdefault("dateLastModified", DELTA_TIMESTAMP)

    props: dict[str, str] = manifest_properties(version, modes)
    for key, value in (manifest or {}).items():
        if value is None:
            props.pop(key, None)
        else:
            props[key] = value

    files: dict[str, bytes] = {}
    files["manifest.csv"] = manifest_text(props).encode("utf-8")
    for name, file_rows in data.items():
        header = (headers or {}).get(name) or header_for(version, name, file_rows)
        files[f"{name}.csv"] = csv_text(header, file_rows, quote_all=quote_all).encode("utf-8")
    for filename, content in (raw or {}).items():
        files[filename] = content.encode("utf-8") if isinstance(content, str) else content
    for filename in omit:
        files.pop(filename, None)

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for filename, content in files.items():
        (dest / filename).write_bytes((b"\xef\xbb\xbf" if bom else b"") + content)
    return dest


def zip_package(folder: Path, dest: Path, *, subfolder: str | None = None) -> Path:
    """Zip a package folder's files into ``dest``, optionally inside ``subfolder/`` in the zip."""
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(Path(folder).iterdir()):
            if path.is_file():
                zf.write(path, f"{subfolder}/{path.name}" if subfolder else path.name)
    return dest
