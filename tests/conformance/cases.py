"""Conformance cases written from the OneRoster 1.1 and 1.2 CSV binding documents.

For every rule the validator enforces, a minimal failing package (the valid minimal package of
``tests/oneroster_packages.py`` with one thing wrong) and the finding it must give: rule, severity, file,
line, column. Then the shapes real files take, which must pass: header-only files with and without a
final line break, CRLF, a BOM, every cell quoted, lower-case file names, an unknown file in a zip,
``TRUE``/``FALSE``, timestamps with and without a zone, non-ASCII names.

Each case builds its package with ``build(tmp_path) -> (path, schema)``, so any check that runs on a
drop (``passport validate``, a sync) can be run over the whole list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.oneroster_packages import (
    COLUMNS,
    GRADEBOOK_COLUMNS,
    ROSTER_FILES,
    manifest_lines,
    manifest_properties,
    manifest_text,
    write_package,
    zip_package,
)

DELTA_ROW = {"status": "active", "dateLastModified": "2025-08-01T12:00:00.000Z"}


@dataclass(frozen=True)
class Expect:
    """A finding the case must give. ``line`` is a line number, None (the finding names no line), or
    ``"manifest:<property>"``: the line of that property in the package's manifest."""

    rule: str
    severity: str
    file: str
    line: int | str | None
    column: str | None = None


@dataclass(frozen=True)
class Case:
    id: str
    version: str
    package: dict = field(default_factory=dict)  # write_package arguments
    expect: Expect | None = None  # None: the package is clean (no finding at all)
    ok: bool = True  # whether the drop passes (no error)
    edit: Callable[[Path], None] | None = None  # changes to the written folder
    zipped: bool = False

    def build(self, tmp_path: Path) -> tuple[Path, str]:
        folder = write_package(tmp_path / "pkg", self.version, **self.package)
        if self.edit is not None:
            self.edit(folder)
        path = zip_package(folder, tmp_path / "pkg.zip") if self.zipped else folder
        return path, f"oneroster-{self.version}"

    def line(self, folder: Path) -> int | None:
        line = self.expect.line
        if isinstance(line, str):
            return manifest_lines(folder)[line.split(":", 1)[1]]
        return line


def _header(version: str, name: str) -> str:
    return ",".join(COLUMNS[version].get(name) or GRADEBOOK_COLUMNS[version][name])


def _rename_lower(folder: Path) -> None:
    for path in folder.iterdir():
        path.rename(path.with_name(path.name.lower()))


def _add_file(name: str, text: str) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        (folder / name).write_text(text, encoding="utf-8")
    return edit


def _files(version: str) -> list[str]:
    return [*COLUMNS[version], *GRADEBOOK_COLUMNS[version]]


def _mode_cases() -> list[Case]:
    """Every file of each version: a bogus mode, and a blank one, fail naming the manifest line."""
    cases = []
    for version in ("1.1", "1.2"):
        for name in _files(version):
            for label, mode in (("bogus", "bogus"), ("blank", "")):
                cases.append(Case(f"{version}-mode-{label}-{name}", version, {"manifest": {f"file.{name}": mode}},
                                  Expect("manifest.mode", "error", "manifest.csv", f"manifest:file.{name}", "value"),
                                  ok=False))
    return cases


# The minimal 1.1 package's manifest with file.users given a second time, last.
_DUPLICATED = [*manifest_properties("1.1", {f: "bulk" for f in ROSTER_FILES["1.1"]}).items(), ("file.users", "delta")]

RULE_CASES: list[Case] = [
    # --- the manifest ---------------------------------------------------------------------------------
    Case("manifest-missing", "1.1", {"omit": ["manifest.csv"]},
         Expect("manifest.missing", "error", "manifest.csv", None), ok=False),
    Case("manifest-header", "1.1", {"raw": {"manifest.csv": "name,value\r\noneroster.version,1.1\r\n"}},
         Expect("manifest.header", "error", "manifest.csv", 1), ok=False),
    Case("manifest-duplicate-property", "1.1", {"raw": {"manifest.csv": manifest_text(_DUPLICATED)}},
         Expect("manifest.duplicate_property", "error", "manifest.csv", len(_DUPLICATED) + 1, "value"), ok=False),
    Case("1.2-learning-objectives-is-no-file", "1.2", {"manifest": {"file.learningObjectives": "absent"}},
         Expect("manifest.unknown_property", "error", "manifest.csv", "manifest:file.learningObjectives", "value"),
         ok=False),
    Case("1.1-roles-is-a-1.2-file", "1.1", {"manifest": {"file.roles": "absent"}},
         Expect("manifest.unknown_property", "error", "manifest.csv", "manifest:file.roles", "value"), ok=False),
    Case("1.1-score-scales-is-a-1.2-file", "1.1", {"manifest": {"file.scoreScales": "absent"}},
         Expect("manifest.unknown_property", "error", "manifest.csv", "manifest:file.scoreScales", "value"),
         ok=False),
    Case("1.1-user-profiles-is-a-1.2-file", "1.1", {"manifest": {"file.userProfiles": "bulk"}},
         Expect("manifest.unknown_property", "error", "manifest.csv", "manifest:file.userProfiles", "value"),
         ok=False),
    Case("unknown-source-property", "1.2", {"manifest": {"source.vendor": "Acme"}},
         Expect("manifest.unknown_property", "error", "manifest.csv", "manifest:source.vendor", "value"),
         ok=False),
    Case("oneroster-version-unknown", "1.1", {"manifest": {"oneroster.version": "1.3"}},
         Expect("manifest.version", "error", "manifest.csv", "manifest:oneroster.version", "value"), ok=False),
    Case("manifest-version-not-1.0", "1.2", {"manifest": {"manifest.version": "2.0"}},
         Expect("manifest.version", "error", "manifest.csv", "manifest:manifest.version", "value"), ok=False),
    Case("manifest-version-missing", "1.1", {"manifest": {"manifest.version": None}},
         Expect("manifest.version", "error", "manifest.csv", None), ok=False),
    Case("declared-bulk-but-missing", "1.2", {"rows": {"roles": None}, "manifest": {"file.roles": "bulk"}},
         Expect("manifest.file_missing", "error", "manifest.csv", "manifest:file.roles", "value"), ok=False),
    Case("present-but-declared-absent", "1.1", {"manifest": {"file.courses": "absent"}},
         Expect("manifest.file_not_declared", "error", "manifest.csv", "manifest:file.courses", "value"), ok=False),
    Case("a-file-not-declared-is-read-as-absent", "1.2",
         {"rows": {"userProfiles": None}, "manifest": {"file.userProfiles": None}},
         Expect("manifest.file_undeclared", "warning", "manifest.csv", None)),
    Case("1.1-package-with-a-1.2-file", "1.1", {},
         Expect("package.other_version_file", "error", "roles.csv", None), ok=False,
         edit=_add_file("roles.csv", _header("1.2", "roles") + "\r\n")),
    # --- reading a file -------------------------------------------------------------------------------
    Case("empty-file", "1.1", {"files": ["orgs"], "raw": {"orgs.csv": b""}},
         Expect("file.empty", "error", "orgs.csv", 1), ok=False),
    Case("not-utf8", "1.1", {"files": ["orgs"], "cells": {("orgs", 1, "name"): "x"},
                             "raw": {"orgs.csv": (_header("1.1", "orgs") + "\r\ndist-1,,,Z\xf6e,district,,\r\n")
                                     .encode("latin-1")}},
         Expect("file.encoding", "error", "orgs.csv", 2), ok=False),
    Case("ragged-row", "1.1", {"files": ["orgs"], "raw": {"orgs.csv": _header("1.1", "orgs")
                                                           + "\r\ndist-1,,,D,district,,,extra\r\n"}},
         Expect("file.parse", "error", "orgs.csv", 2), ok=False),
    Case("required-column-missing", "1.1", {"files": ["orgs"], "headers": {"orgs": [
        "sourcedId", "status", "dateLastModified", "type", "identifier", "parentSourcedId"]}},
         Expect("header.missing_column", "error", "orgs.csv", 1, "name"), ok=False),
    Case("column-twice", "1.2", {"files": ["orgs"], "headers": {"orgs": [*_header("1.2", "orgs").split(","), "Name"]}},
         Expect("header.duplicate_column", "error", "orgs.csv", 1, "Name"), ok=False),
    Case("unknown-column", "1.1", {"files": ["orgs"], "cells": {("orgs", 0, "nickname"): "x"}},
         Expect("header.unknown_column", "warning", "orgs.csv", 1, "nickname")),
    Case("columns-out-of-order", "1.1", {"files": ["orgs"], "headers": {"orgs": [
        "sourcedId", "status", "dateLastModified", "type", "name", "identifier", "parentSourcedId"]}},
         Expect("header.layout", "warning", "orgs.csv", 1)),
    Case("optional-column-left-out", "1.2", {"files": ["orgs"], "headers": {"orgs": [
        "sourcedId", "status", "dateLastModified", "name", "type"]}},
         Expect("header.layout", "warning", "orgs.csv", 1)),
    # --- values ---------------------------------------------------------------------------------------
    Case("required-value-blank", "1.1", {"files": ["orgs"], "cells": {("orgs", 1, "name"): ""}},
         Expect("value.required", "error", "orgs.csv", 3, "name"), ok=False),
    Case("org-type", "1.2", {"files": ["orgs"], "cells": {("orgs", 1, "type"): "county"}},
         Expect("value.enum", "error", "orgs.csv", 3, "type"), ok=False),
    Case("session-type", "1.1", {"files": ["academicSessions"],
                                 "cells": {("academicSessions", 1, "type"): "quarter"}},
         Expect("value.enum", "error", "academicSessions.csv", 3, "type"), ok=False),
    Case("class-type", "1.2", {"cells": {("classes", 0, "classType"): "lab"}},
         Expect("value.enum", "error", "classes.csv", 2, "classType"), ok=False),
    Case("1.1-user-role", "1.1", {"cells": {("users", 0, "role"): "principal"}},
         Expect("value.enum", "error", "users.csv", 2, "role"), ok=False),
    Case("1.2-role-administrator-is-1.1-only", "1.2", {"cells": {("roles", 0, "role"): "administrator"}},
         Expect("value.enum", "error", "roles.csv", 2, "role"), ok=False),
    Case("1.2-role-type", "1.2", {"cells": {("roles", 0, "roleType"): "main"}},
         Expect("value.enum", "error", "roles.csv", 2, "roleType"), ok=False),
    Case("enrollment-role", "1.1", {"cells": {("enrollments", 1, "role"): "aide"}},
         Expect("value.enum", "error", "enrollments.csv", 3, "role"), ok=False),
    Case("1.2-sex", "1.2", {"cells": {("demographics", 0, "sex"): "f"}},
         Expect("value.enum", "error", "demographics.csv", 2, "sex"), ok=False),
    Case("enum-in-another-case", "1.1", {"cells": {("classes", 0, "classType"): "Scheduled"}},
         Expect("value.enum_case", "warning", "classes.csv", 2, "classType")),
    Case("boolean", "1.1", {"cells": {("users", 2, "enabledUser"): "yes"}},
         Expect("value.boolean", "error", "users.csv", 4, "enabledUser"), ok=False),
    Case("date", "1.2", {"files": ["academicSessions"], "cells": {("academicSessions", 0, "endDate"): "2026-13-01"}},
         Expect("value.date", "error", "academicSessions.csv", 2, "endDate"), ok=False),
    Case("date-not-iso", "1.1", {"cells": {("enrollments", 0, "beginDate"): "8/18/2025"}},
         Expect("value.date_format", "warning", "enrollments.csv", 2, "beginDate")),
    Case("school-year", "1.1", {"files": ["academicSessions"],
                                "cells": {("academicSessions", 0, "schoolYear"): "2025-26"}},
         Expect("value.year", "error", "academicSessions.csv", 2, "schoolYear"), ok=False),
    Case("timestamp", "1.2", {"files": ["orgs"], "modes": {"orgs": "delta"},
                              "cells": {("orgs", 0, "dateLastModified"): "yesterday"}},
         Expect("value.timestamp", "error", "orgs.csv", 2, "dateLastModified"), ok=False),
    Case("delta-without-status", "1.1", {"files": ["orgs"], "modes": {"orgs": "delta"},
                                         "cells": {("orgs", 1, "status"): None}},
         Expect("delta.status", "error", "orgs.csv", 3, "status"), ok=False),
    Case("delta-without-date", "1.2", {"files": ["orgs"], "modes": {"orgs": "delta"},
                                       "cells": {("orgs", 0, "dateLastModified"): None}},
         Expect("delta.date_last_modified", "error", "orgs.csv", 2, "dateLastModified"), ok=False),
    Case("delta-status-unknown", "1.1", {"files": ["orgs"], "modes": {"orgs": "delta"},
                                         "cells": {("orgs", 0, "status"): "deleted"}},
         Expect("value.enum", "error", "orgs.csv", 2, "status"), ok=False),
    Case("grades-not-ceds", "1.1", {"cells": {("users", 1, "grades"): "14"}},
         Expect("value.grades", "warning", "users.csv", 3, "grades")),
    Case("user-ids", "1.2", {"cells": {("users", 0, "userIds"): "SIS:1"}},
         Expect("value.user_ids", "error", "users.csv", 2, "userIds"), ok=False),
    Case("id-format", "1.1", {"files": ["orgs"], "cells": {("orgs", 1, "sourcedId"): "sch 1"}},
         Expect("value.id_format", "warning", "orgs.csv", 3, "sourcedId")),
    Case("number", "1.2", {"gradebook": True, "cells": {("results", 0, "score"): "A+"}},
         Expect("value.number", "error", "results.csv", 2, "score"), ok=False),
    Case("duplicate-sourced-id", "1.1", {"extra_rows": {"courses": [{"title": "Again"}]}},
         Expect("key.duplicate", "error", "courses.csv", 2, "sourcedId"), ok=False),
    Case("subject-codes-without-pairs", "1.2", {"cells": {("courses", 0, "subjectCodes"): "02052,05154"}},
         Expect("value.list_pair", "warning", "courses.csv", 2, "subjectCodes")),
    Case("reference-missing", "1.1", {"cells": {("enrollments", 2, "userSourcedId"): "stu-404"}},
         Expect("reference.missing", "filtered", "enrollments.csv", 4, "userSourcedId")),
    *_mode_cases(),
]


SHAPE_CASES: list[Case] = [
    Case("1.1-minimal", "1.1"),
    Case("1.2-minimal", "1.2"),
    Case("1.1-with-every-gradebook-file", "1.1", {"gradebook": True}),
    Case("1.2-with-all-21-files", "1.2", {"gradebook": True}),
    Case("header-only-with-final-newline", "1.1",
         {"raw": {"demographics.csv": _header("1.1", "demographics") + "\n"}}),
    Case("header-only-without-final-newline", "1.1",
         {"raw": {"demographics.csv": _header("1.1", "demographics")}}),
    Case("header-only-crlf-with-bom", "1.2",
         {"raw": {"demographics.csv": b"\xef\xbb\xbf" + (_header("1.2", "demographics") + "\r\n").encode()}}),
    Case("header-only-with-bom-without-final-newline", "1.2",
         {"raw": {"demographics.csv": b"\xef\xbb\xbf" + _header("1.2", "demographics").encode()}}),
    Case("header-only-every-cell-quoted-without-final-newline", "1.1",
         {"raw": {"demographics.csv": ",".join(f'"{c}"' for c in _header("1.1", "demographics").split(","))}}),
    Case("crlf-and-bom-everywhere", "1.2", {"bom": True}),
    Case("lf-line-endings", "1.1", {"raw": {"orgs.csv": _header("1.1", "orgs") + "\ndist-1,,,D,district,,\n"
                                            "sch-1,,,Lincoln High,school,,dist-1\n"}}),
    Case("every-cell-quoted", "1.1", {"quote_all": True}),
    Case("every-cell-quoted-1.2-zip", "1.2", {"quote_all": True}, zipped=True),
    Case("lower-case-file-names", "1.2", {}, edit=_rename_lower),
    Case("unknown-file-in-a-zip", "1.1", {}, Expect("package.unknown_file", "warning", "notes.csv", None),
         edit=_add_file("notes.csv", "anything,at,all\r\n"), zipped=True),
    Case("readme-in-a-zip-is-not-a-csv", "1.1", {}, edit=_add_file("README.txt", "exported by SIS"), zipped=True),
    Case("true-false-in-capitals", "1.1", {"cells": {("users", 0, "enabledUser"): "TRUE",
                                                     ("enrollments", 0, "primary"): "FALSE",
                                                     ("demographics", 0, "white"): "True"}}),
    Case("timestamps-with-zone", "1.2", {"files": ["orgs"], "modes": {"orgs": "delta"},
                                         "cells": {("orgs", 0, "dateLastModified"): "2025-08-01T12:00:00Z",
                                                   ("orgs", 1, "dateLastModified"): "2025-08-01T08:00:00-04:00"}}),
    Case("timestamps-without-zone", "1.1", {"files": ["orgs"], "modes": {"orgs": "delta"},
                                            "cells": {("orgs", 0, "dateLastModified"): "2025-08-01T12:00:00",
                                                      ("orgs", 1, "dateLastModified"): "2017-05-06 08:01:05"}}),
    Case("non-ascii-names", "1.2", {"cells": {("users", 0, "givenName"): "Zoë", ("users", 0, "familyName"): "Ñúñez",
                                              ("users", 1, "givenName"): "太郎", ("users", 1, "familyName"): "山田",
                                              ("orgs", 1, "name"): "École Saint-Éloi"}}),
    Case("status-in-a-bulk-file", "1.1", {"files": ["orgs"], "cells": {("orgs", 0, "status"): "active"}},
         Expect("bulk.status", "warning", "orgs.csv", 2, "status")),
]

CASES = RULE_CASES + SHAPE_CASES
