"""Per-column rules of one file, each one vectorized SQL query over the whole column.

A rule is a condition that marks a bad cell; the query returns the first offending rows and
the total, so a million bad cells cost one scan and a hundred findings.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from passport_pipelines.sql.quoting import ident, lit, lit_list, text_list
from passport_pipelines.validation.oneroster.findings import SAMPLE_LIMIT, Finding, FindingsReport, Severity, mask
from passport_pipelines.validation.oneroster.reader import LINE
from passport_pipelines.validation.oneroster.spec import GRADES, Column, FileSpec

ID_PATTERN = r"[0-9A-Za-z./@_-]{1,255}"
NUMBER_PATTERN = r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?"
ID_LIST_PATTERN = rf"\s*{ID_PATTERN}(\s*,\s*{ID_PATTERN})*\s*,?\s*"
USER_IDS_PATTERN = r"\{[^{}:]+:[^{}]*\}(\s*,\s*\{[^{}:]+:[^{}]*\})*"


@dataclass(frozen=True)
class Rule:
    rule: str
    severity: Severity
    condition: str  # SQL over the column, written with {c}
    message: str


def rules_for(column: Column, mode: str) -> list[Rule]:
    rules: list[Rule] = []
    if column.required:
        rules.append(Rule("value.required", "error", "{c} IS NULL", f"{column.name} is required"))
    if column.name == "status":
        rules.extend(status_rules(mode))
        return rules
    if column.name == "dateLastModified":
        if mode == "delta":
            rules.append(Rule("delta.date_last_modified", "error", "{c} IS NULL",
                              "a delta file needs dateLastModified on every row"))
        rules.append(Rule("value.timestamp", "error", "{c} IS NOT NULL AND or_timestamp({c}) IS NULL",
                          "not a timestamp like 2025-08-01T12:00:00.000Z"))
        return rules
    kind = column.kind
    if kind == "id":
        rules.append(Rule("value.id_format", "warning", f"NOT regexp_full_match({{c}}, {lit(ID_PATTERN)})",
                          "ids should be 1-255 characters of letters, digits and . / @ _ -"))
    elif kind == "ids":
        rules.append(Rule("value.id_format", "warning",
                          f"NOT regexp_full_match({{c}}, {lit(ID_LIST_PATTERN)})",
                          "a list of ids, comma-separated in one cell, each of letters, digits and . / @ _ -"))
    elif kind == "date":
        rules.append(Rule("value.date", "error", "{c} IS NOT NULL AND or_date({c}) IS NULL",
                          "not a date (expected YYYY-MM-DD)"))
        rules.append(Rule("value.date_format", "warning",
                          r"NOT regexp_full_match({c}, '\d{4}-\d{2}-\d{2}') AND or_date({c}) IS NOT NULL",
                          "date is not written YYYY-MM-DD; it was read and normalized"))
    elif kind == "boolean":
        rules.append(Rule("value.boolean", "error", "{c} IS NOT NULL AND or_bool({c}) IS NULL",
                          "must be true or false"))
    elif kind == "enum":
        exact = lit_list(column.values)
        lowered = lit_list(v.lower() for v in column.values)
        rules.append(Rule("value.enum", "error", f"lower({{c}}) NOT IN ({lowered})",
                          f"must be one of: {', '.join(column.values)}"))
        rules.append(Rule("value.enum_case", "warning", f"{{c}} NOT IN ({exact}) AND lower({{c}}) IN ({lowered})",
                          "value differs from the spec's spelling only by case; normalized"))
    elif kind == "grades":
        grades = text_list(g.lower() for g in GRADES)
        rules.append(Rule("value.grades", "warning",
                          f"len(list_filter(string_split(or_list({{c}}), ','), lambda g: NOT list_contains({grades}, lower(g)))) > 0",
                          f"grades should be CEDS codes ({', '.join(GRADES)})"))
    elif kind == "user_ids":
        rules.append(Rule("value.user_ids", "error", f"NOT regexp_full_match({{c}}, {lit(USER_IDS_PATTERN)})",
                          "userIds must look like {type:id},{type:id}"))
    elif kind == "number":
        rules.append(Rule("value.number", "error", f"NOT regexp_full_match(trim({{c}}), {lit(NUMBER_PATTERN)})",
                          "must be a number, e.g. 87.5"))
    elif kind == "year":
        rules.append(Rule("value.year", "error", r"NOT regexp_full_match({c}, '\d{4}')",
                          "schoolYear must be the four-digit ending year, e.g. 2026"))
    return rules


def status_rules(mode: str) -> list[Rule]:
    """A row's status, the same in validate and sync. A delta row says active or tobedeleted. A bulk
    row should leave it blank (every row of a complete file is a record to deliver); a bulk row marked
    ``tobedeleted`` (or OneRoster 1.0's ``inactive``, read the same way) is not delivered: it is counted
    as tobedeleted, and deletes the record when it is on record. Any other status fails the drop."""
    rules: list[Rule] = []
    if mode == "delta":
        rules.append(Rule("delta.status", "error", "{c} IS NULL",
                          "a delta file needs status active or tobedeleted on every row"))
        rules.append(Rule("value.status_inactive", "warning", "lower({c}) = 'inactive'",
                          "OneRoster 1.0 status 'inactive' is read as tobedeleted"))
    else:
        rules.append(Rule("bulk.status", "warning", "lower({c}) = 'active'",
                          "status should be blank in a bulk file; an active row is delivered"))
        rules.append(Rule("bulk.tobedeleted", "warning", "lower({c}) IN ('tobedeleted', 'inactive')",
                          "a bulk row marked tobedeleted (or inactive) is not delivered: it is counted as "
                          "tobedeleted, and deletes the record if it is on record"))
    rules.append(Rule("value.enum", "error", "lower({c}) NOT IN ('active', 'tobedeleted', 'inactive')",
                      "status must be active or tobedeleted" + ("" if mode == "delta" else " (or blank)")))
    return rules


def check_values(con: duckdb.DuckDBPyConnection, relation: str, spec: FileSpec, mode: str,
                 report: FindingsReport) -> None:
    checks = [(column, rule, rule.condition.replace("{c}", ident(column.name)))
              for column in spec.columns for rule in rules_for(column, mode)]
    if not checks:
        return
    # One scan counts every rule; only the rules that fired are read again for their first rows.
    counts = con.execute(
        "SELECT " + ", ".join(f"count(*) FILTER (WHERE {cond})" for _, _, cond in checks) + f" FROM {relation}"
    ).fetchone()
    for (column, rule, condition), total in zip(checks, counts):
        if not total:
            continue
        rows = con.execute(
            f"SELECT {LINE}, {ident(column.name)} FROM {relation} WHERE {condition} ORDER BY {LINE} LIMIT {SAMPLE_LIMIT}"
        ).fetchall()
        findings = [Finding(spec.filename, line, column.name, mask(column.name, value), rule.rule,
                            rule.severity, rule.message) for line, value in rows]
        report.add_many(findings, total)


def check_keys(con: duckdb.DuckDBPyConnection, relation: str, spec: FileSpec, report: FindingsReport) -> None:
    """Duplicate keys (sourcedIds, and natural keys) make a file ambiguous: the drop fails."""
    keys = [spec.key, *spec.natural_keys]
    for key in keys:
        primary = key == spec.key
        cols = ", ".join(ident(k) for k in key)
        not_null = " AND ".join(f"{ident(k)} IS NOT NULL" for k in key)
        # Natural keys are about students (a student number is unique per school; staff may share).
        extra = " AND lower(role) = 'student'" if not primary and "role" in spec.names else ""
        dupes = con.execute(
            f"SELECT count(*) FROM (SELECT {cols} FROM {relation} WHERE {not_null}{extra} "
            f"GROUP BY ALL HAVING count(*) > 1)"
        ).fetchone()[0]
        if not dupes:
            continue
        rows = con.execute(
            f"SELECT {LINE}, concat_ws(' / ', {cols}), count(*) OVER () FROM ("
            f"  SELECT *, count(*) OVER (PARTITION BY {cols}) AS _n FROM {relation} WHERE {not_null}{extra}"
            f") WHERE _n > 1 ORDER BY {cols}, {LINE} LIMIT {SAMPLE_LIMIT}"
        ).fetchall()
        label = " + ".join(key)
        column = key[0] if len(key) == 1 else label
        message = (f"{label} is not unique in {spec.filename}" if primary
                   else f"two students share {label}")
        findings = [Finding(spec.filename, line, column, value if primary else mask("identifier", value),
                            "key.duplicate", "error", message) for line, value, _ in rows]
        report.add_many(findings, rows[0][2])
