"""Validation findings: what is wrong, where, and how bad.

A million-row drop can hold a million errors, so findings are kept per rule as a total plus
the first rows (file, line, column, value): enough to fix the file, small enough for run
metadata. Values of columns that hold personal data are masked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Iterable, Literal

Severity = Literal["error", "filtered", "warning"]
SAMPLE_LIMIT = 100

# Columns whose values are student/staff personal data: never echoed into reports.
PII_COLUMNS = frozenset({
    "givenName", "familyName", "middleName", "preferredGivenName", "preferredMiddleName", "preferredFamilyName",
    "email", "sms", "phone", "username", "password", "birthDate", "identifier", "userIds",
    "userMasterIdentifier", "cityOfBirth", "pronouns",
    # Passport Basic Identity (people.csv) and SSO Credentials (credentials.csv).
    "given_name", "family_name", "middle_name", "student_number", "state_id", "login",
    # A student's result (results.csv, resultLearningObjectiveIds.csv).
    "score", "textScore", "comment",
})
# Columns holding secrets (an SSO password): not even their length is told.
SECRET_COLUMNS = frozenset({"password"})
_QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")
WITHHELD = "details withheld: the file holds secrets, and they would quote it"
WITHHELD_HEADER = ("a header cell that is not a column of the file is ignored; its text is withheld, since the file "
                   "holds secrets (is the header row missing?)")


@dataclass(frozen=True)
class Finding:
    file: str
    line: int | None
    column: str | None
    value: str | None
    rule: str
    severity: Severity
    message: str

    def as_row(self) -> dict:
        return {
            "severity": self.severity, "rule": self.rule, "file": self.file, "line": self.line,
            "column": self.column, "value": self.value, "message": self.message,
        }


def mask(column: str | None, value: str | None) -> str | None:
    if value is None or column not in PII_COLUMNS | SECRET_COLUMNS:
        return value
    if column in SECRET_COLUMNS:
        return "<secret withheld>"
    return f"<{len(value)} characters withheld>"


@dataclass
class RuleTally:
    rule: str
    severity: Severity
    total: int = 0
    samples: list[Finding] = field(default_factory=list)


@dataclass
class FindingsReport:
    """All findings of one drop, grouped by rule."""

    tallies: dict[tuple[str, str], RuleTally] = field(default_factory=dict)

    def add(self, finding: Finding, count: int = 1) -> None:
        key = (finding.severity, finding.rule)
        tally = self.tallies.setdefault(key, RuleTally(finding.rule, finding.severity))
        tally.total += count
        if len(tally.samples) < SAMPLE_LIMIT:
            tally.samples.append(finding)

    def add_many(self, findings: list[Finding], total: int) -> None:
        """Record ``total`` occurrences of which ``findings`` are the first ones."""
        if total <= 0:
            return
        first, rest = findings[0], findings[1:]
        self.add(first, count=total)
        key = (first.severity, first.rule)
        tally = self.tallies[key]
        room = SAMPLE_LIMIT - len(tally.samples)
        tally.samples.extend(rest[:max(room, 0)])

    def count(self, severity: Severity | None = None) -> int:
        return sum(t.total for t in self.tallies.values() if severity is None or t.severity == severity)

    @property
    def has_errors(self) -> bool:
        return self.count("error") > 0

    def totals(self, severity: Severity | None = None) -> dict[str, int]:
        return {t.rule: t.total for t in self.tallies.values() if severity is None or t.severity == severity}

    def samples(self, severity: Severity | None = None, limit: int = SAMPLE_LIMIT) -> list[Finding]:
        rows = [f for t in self.tallies.values() if severity is None or t.severity == severity for f in t.samples]
        rows.sort(key=lambda f: (f.file, f.line or 0, f.rule))
        return rows[:limit]

    def to_dict(self) -> dict:
        return {
            "errors": self.count("error"),
            "filtered": self.count("filtered"),
            "warnings": self.count("warning"),
            "totals_by_rule": {f"{t.severity}:{t.rule}": t.total for t in self.tallies.values()},
            "findings": [f.as_row() for f in self.samples(limit=10 * SAMPLE_LIMIT)],
        }

    def to_json(self) -> list[dict]:
        """Every tally, exactly: for storing a report and reading it back unchanged."""
        return [{"rule": t.rule, "severity": t.severity, "total": t.total,
                 "samples": [f.as_row() for f in t.samples]} for t in self.tallies.values()]

    @classmethod
    def from_json(cls, data: list[dict]) -> "FindingsReport":
        report = cls()
        for t in data:
            tally = RuleTally(t["rule"], t["severity"], t["total"])
            tally.samples = [Finding(r["file"], r["line"], r["column"], r["value"], r["rule"], r["severity"],
                                     r["message"]) for r in t["samples"]]
            report.tallies[(t["severity"], t["rule"])] = tally
        return report

    def render(self, limit: int = 50) -> str:
        lines = [
            f"{self.count('error')} error(s), {self.count('filtered')} row(s) filtered, "
            f"{self.count('warning')} warning(s)"
        ]
        for t in sorted(self.tallies.values(), key=lambda t: ({"error": 0, "filtered": 1, "warning": 2}[t.severity], t.rule)):
            lines.append(f"  {t.severity:8} {t.rule}: {t.total}")
        for f in self.samples(limit=limit):
            where = f.file + (f":{f.line}" if f.line else "")
            col = f" column {f.column}" if f.column else ""
            val = f" value {f.value!r}" if f.value is not None else ""
            lines.append(f"  {where}{col}{val}: [{f.rule}] {f.message}")
        return "\n".join(lines)


def _names_known(text: str, known: frozenset[str]) -> bool:
    return all(part.strip() in known for part in text.split(" + "))


def _without_file_text(finding: Finding, known: frozenset[str]) -> Finding:
    column = finding.column if finding.column is None or _names_known(finding.column, known) else None
    quoted = [a or b for a, b in _QUOTED.findall(finding.message)]
    message = finding.message
    if column != finding.column or not all(_names_known(q, known) for q in quoted):
        message = WITHHELD_HEADER if finding.rule == "header.unknown_column" else WITHHELD
    return replace(finding, column=column, value=None, message=message)


def withhold_file_text(report: FindingsReport, known_names: Iterable[str]) -> FindingsReport:
    """The report of a drop that holds secrets, as it may be shown: every finding keeps its file,
    line, rule and severity, but no value from the file, and a column or message only when all it
    names are the schema's own names (``known_names``). A header row is file content too: a file
    without one has a row of data, password included, where the header should be."""
    known = frozenset(known_names)
    out = FindingsReport()
    for key, tally in report.tallies.items():
        out.tallies[key] = RuleTally(tally.rule, tally.severity, tally.total,
                                     [_without_file_text(f, known) for f in tally.samples])
    return out
