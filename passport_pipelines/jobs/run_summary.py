"""What a finished sync run did, read back from the Dagster instance and the golden store.

The same summary whether the run executed in the ``passport sync`` process or was queued and run by
the daemon: its materializations and check evaluations come from the run's event log, its version,
changes and deliveries from the golden store. Nothing here is a secret or a person's value: check
findings carry what the checks already withheld.
"""

from __future__ import annotations

import dagster as dg

from passport_pipelines.jobs.partitions import DISTRICT, SCHOOL_YEAR
from passport_pipelines.jobs.run_tags import (
    COMMITTED_BY_TAG,
    DISTRICT_TAG,
    SCHOOL_YEAR_TAG,
    STATUS_TAG,
    UNCHANGED_PREVIEW,
)
from passport_pipelines.normalize.row_accounting import left_out_by_entity, merge_accounts
from passport_pipelines.notifications.run_failure import first_line, root_cause
from passport_pipelines.store.golden_store import GoldenStore
from passport_pipelines.store.sync_holds import SyncHolds
from passport_pipelines.store.version_status import AWAITING, REJECTED

HELD = "held"
PREVIEWED = "previewed: nothing to change"
DONE = ("delivered", "unchanged", "already delivered")


def plain(value):
    """A metadata value as plain data (tables as lists of rows)."""
    inner = getattr(value, "value", value)
    if hasattr(inner, "records"):
        return [r.data for r in inner.records]
    return inner


def _events(instance: dg.DagsterInstance, run_id: str, kind: dg.DagsterEventType) -> list:
    return [r.event_log_entry for r in instance.get_records_for_run(run_id=run_id, of_type=kind).records]


def materializations(instance: dg.DagsterInstance, run_id: str) -> dict[str, dict]:
    """Asset key -> the metadata of its (last) materialization in the run."""
    out = {}
    for entry in _events(instance, run_id, dg.DagsterEventType.ASSET_MATERIALIZATION):
        mat = entry.asset_materialization
        if mat is not None:
            out[mat.asset_key.to_user_string()] = {k: plain(v) for k, v in mat.metadata.items()}
    return out


def check_evaluations(instance: dg.DagsterInstance, run_id: str) -> dict[str, dict]:
    """Check name -> passed, severity and metadata of its evaluation in the run."""
    out = {}
    for entry in _events(instance, run_id, dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = entry.dagster_event.event_specific_data
        out[evaluation.check_name] = {
            "passed": evaluation.passed, "severity": evaluation.severity.value,
            "description": evaluation.description,
            "metadata": {k: plain(v) for k, v in evaluation.metadata.items()}}
    return out


def step_errors(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    errors = []
    for entry in _events(instance, run_id, dg.DagsterEventType.STEP_FAILURE):
        data = entry.dagster_event.step_failure_data
        if data is not None and data.error is not None:
            errors.append(f"{entry.dagster_event.step_key}: {first_line(root_cause(data.error).message, 2000)}")
    return errors


def partition_of_run(run: dg.DagsterRun) -> tuple[str | None, str | None]:
    tags = run.tags
    return (tags.get(f"dagster/partition/{DISTRICT}") or tags.get(DISTRICT_TAG),
            tags.get(f"dagster/partition/{SCHOOL_YEAR}") or tags.get(SCHOOL_YEAR_TAG))


def _rule_counts(normalized: dict, requirements: dict) -> dict[str, dict]:
    """Per source, what its integration rules left out and found missing (``normalize/rules/counts.py``), from
    the run's ``normalized_rosters`` metadata and ``data_requirements`` check."""
    out: dict[str, dict] = {}
    for key, n in (normalized.get("rows_filtered_by_rule") or {}).items():
        source, _, rule = key.partition(": ")
        if n:
            out.setdefault(source, {}).setdefault("filtered", {})[rule] = n
    for row in requirements.get("metadata", {}).get("requirements") or []:
        if row.get("missing"):
            out.setdefault(row["source"], {}).setdefault("missing", {})[
                f"{row['entity_type']}.{row['field']} ({row['rule']})"] = row["missing"]
    return out


FIRST_FINDINGS = 20


def check_failures(check: dict) -> dict:
    """A failed check's total, totals per rule and first findings (file, line, column, rule, message,
    value with personal data masked), whatever the check: file findings (validation) or failure
    cases of the canonical schema (``file`` is then the source and canonical table, ``line`` the row)."""
    meta = check.get("metadata", {})
    findings = [{"file": r["file"], "line": r["line"], "column": r["column"], "rule": r["rule"],
                 "message": r["message"], "value": r.get("value")}  # masked by the check that found it
                for r in meta.get("findings") or []]
    findings += [{"file": f"{r['source']} {r['entity']}", "line": r["index"], "column": r["column"],
                  "rule": r["check"], "message": f"{r['entity']}.{r['column']} fails {r['check']}",
                  "value": r["failure_case"]}
                 for r in meta.get("failures") or []]
    total = next((meta[k] for k in ("total", "failure_cases", "rows_missing_a_required_field") if k in meta),
                 len(findings))
    return {"total": int(total), "totals_by_rule": meta.get("totals_by_rule") or {},
            "findings": findings[:FIRST_FINDINGS]}


def summarize_run(instance: dg.DagsterInstance, run_id: str, store: GoldenStore) -> dict:
    """The sync's outcome: version, status, changes, rows left out, deliveries, duplicates, the
    checks that failed with their findings, and step errors."""
    run = instance.get_run_by_id(run_id)
    district, school_year = partition_of_run(run)
    assets = materializations(instance, run_id)
    checks = check_evaluations(instance, run_id)
    failed_checks = [name for name, c in checks.items() if not c["passed"] and c["severity"] == "ERROR"]
    version = SyncHolds(store).for_run(run_id)
    errors = step_errors(instance, run_id)
    if version is not None and (version.status in AWAITING or version.status == REJECTED):
        status = HELD
    elif version is not None:
        status = version.status
    elif run.tags.get(STATUS_TAG) == UNCHANGED_PREVIEW:
        status = PREVIEWED
    else:
        status = "failed validation" if failed_checks else "failed"
    hold = checks.get("sync_hold", {})
    references = checks.get("references_resolve", {}).get("metadata", {})
    filtered: dict[str, int] = {}
    for files in (references.get("filtered_by_file") or {}).values():
        for file, n in files.items():
            filtered[file] = filtered.get(file, 0) + n
    rules = _rule_counts(assets.get("normalized_rosters", {}), checks.get("data_requirements", {}))
    accounting = merge_accounts(assets.get("normalized_rosters", {}).get("rows_accounted") or {})
    queue = assets.get("duplicate_review_queue", {})
    deliveries = [d for d in store.deliveries(version.id)] if version is not None and status != HELD else []
    return {
        "district": district,
        "school_year": school_year,
        "run_id": run_id,
        "version": version.number if version else None,
        "committed_by": version.committed_by if version else run.tags.get(COMMITTED_BY_TAG),
        "status": status,
        "changes": version.changes if version else {},
        "filtered": filtered,
        # Every row read, per entity: delivered, or counted with why not (``normalize/row_accounting.py``).
        "accounting": accounting,
        "left_out": left_out_by_entity(accounting),
        "filtered_by_rule": {e: a["filtered"] for e, a in accounting.items() if a["filtered"]},
        "deliveries": [d["path"] for d in deliveries if d.get("path") and d["status"] in DONE],
        "duplicates": ({"pending": queue.get("pending", 0), "new_cases": queue.get("new_cases", 0),
                        "merged": queue.get("merged_this_sync", 0)} if queue else {}),
        "rules": rules,
        "sso_credentials": assets.get("golden_records", {}).get("sso_credentials") or {},
        "failed_checks": failed_checks,
        "failures": {name: check_failures(checks[name]) for name in failed_checks},
        "hold_reasons": hold.get("metadata", {}).get("reasons", []) if status == HELD else [],
        "errors": errors,
        "checks": checks,
    }
