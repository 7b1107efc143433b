"""Validation findings as Dagster metadata: a table of the first findings and totals per rule."""

from __future__ import annotations

import dagster as dg

from passport_pipelines.validation.oneroster.findings import SAMPLE_LIMIT, FindingsReport, Severity

_SCHEMA = dg.TableSchema(columns=[
    dg.TableColumn("source", "string"), dg.TableColumn("file", "string"), dg.TableColumn("line", "int"),
    dg.TableColumn("column", "string"), dg.TableColumn("value", "string"), dg.TableColumn("rule", "string"),
    dg.TableColumn("message", "string"),
])


def findings_metadata(reports: dict[str, FindingsReport], severities: tuple[Severity, ...]) -> dict:
    totals: dict[str, int] = {}
    records = []
    for source, report in reports.items():
        for severity in severities:
            for rule, n in report.totals(severity).items():
                totals[f"{source}: {rule}"] = totals.get(f"{source}: {rule}", 0) + n
            for f in report.samples(severity):
                records.append(dg.TableRecord({
                    "source": source, "file": f.file, "line": f.line, "column": f.column,
                    "value": f.value, "rule": f.rule, "message": f.message,
                }))
    return {
        "total": sum(totals.values()),
        "totals_by_rule": dg.MetadataValue.json(totals),
        "findings": dg.MetadataValue.table(records[:SAMPLE_LIMIT], schema=_SCHEMA),
    }
