"""What the integration rules did, as run metadata and the data-requirements check."""

from __future__ import annotations

from typing import Callable

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc

from passport_pipelines.store.golden_store import GoldenStore

_REQUIREMENT_SCHEMA = dg.TableSchema(columns=[
    dg.TableColumn("source", "string"), dg.TableColumn("entity_type", "string"), dg.TableColumn("field", "string"),
    dg.TableColumn("rule", "string"), dg.TableColumn("missing", "int"), dg.TableColumn("sample_ids", "string"),
])


def rules_metadata(rules: dict[str, dict]) -> dict:
    """Rows each filter left out, what went with them, and unmapped schools, per source."""
    filtered = {f"{source}: {rule}": n for source, r in rules.items() for rule, n in r.get("filters", {}).items()}
    out = {
        "rows_filtered_by_rule": dg.MetadataValue.json(filtered),
        "rows_left_out": dg.MetadataValue.json({s: r.get("left_out", {}) for s, r in rules.items() if r.get("left_out")}),
        "values_transformed": dg.MetadataValue.json({s: r.get("transforms", {}) for s, r in rules.items()
                                                     if r.get("transforms")}),
    }
    timing = {s: r["seconds"] for s, r in rules.items() if r.get("seconds")}
    if timing:
        out["rules_seconds"] = dg.MetadataValue.json(timing)
    unmapped = {s: r["unmapped_schools"] for s, r in rules.items() if r.get("unmapped_schools")}
    if unmapped:
        out["unmapped_schools"] = dg.MetadataValue.json(unmapped)
    return out


def requirements_check(name: str, rules: dict[str, dict]) -> dg.AssetCheckResult:
    records = [dg.TableRecord({"source": source, "entity_type": r["entity_type"], "field": r["field"],
                               "rule": r["rule"], "missing": r["missing"], "sample_ids": ", ".join(r["sample_ids"])})
               for source, report in rules.items() for r in report.get("requirements", [])]
    missing = sum(r.data["missing"] for r in records)
    return dg.AssetCheckResult(
        check_name=name, passed=missing == 0, severity=dg.AssetCheckSeverity.WARN,
        metadata={"rows_missing_a_required_field": missing,
                  "skipped": sum(r.data["missing"] for r in records if r.data["rule"] == "skip_if_missing"),
                  "requirements": dg.MetadataValue.table(records, schema=_REQUIREMENT_SCHEMA)},
    )


def taken_values(store: GoldenStore, district: str, school_year: str, integration
                 ) -> Callable[[str], Callable[[str], pa.Table | None]]:
    """For a source: the values of a users field already in use, for ``unique`` rules. Other
    sources' values are simply taken; this source's own come with the record that holds them
    (its id as the rules see it, before the prefix), so that a record keeps its username and a
    newcomer who sorts first does not take it."""
    def for_source(source: str) -> Callable[[str], pa.Table | None]:
        prefix = integration.source(source).sis_id_prefix or ""

        def taken(field: str) -> pa.Table | None:
            current = store.current_records(district, school_year, "users")
            if current.num_rows == 0 or field not in current.column_names:
                return None
            own = pc.equal(current["source"], source)
            ids = current["sourced_id"]
            if prefix:
                ids = pc.if_else(pc.starts_with(ids, prefix), pc.utf8_slice_codeunits(ids, len(prefix)), ids)
            return pa.table({
                "value": current[field],
                "sourced_id": pc.if_else(own, ids, pa.scalar(None, pa.string())),
            })
        return taken
    return for_source
