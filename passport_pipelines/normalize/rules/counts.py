"""What a source's integration rules did, in numbers a person reads after the sync: rows each filter
left out, and rows missing a required field (reported or skipped). Kept with the version (its
``sources`` entry), so ``passport sync`` and ``passport history`` show them, not only the run's
metadata. Counts and rule names only: never an id or a value."""

from __future__ import annotations


def rule_counts(report: dict) -> dict:
    """``{"filtered": {"student: active_only": 3}, "missing": {"student.email (report_if_missing)": 2}}``
    from a ``RulesReport`` as a dict; rules that did nothing are left out, and so is an empty result."""
    filtered = {rule: n for rule, n in (report.get("filters") or {}).items() if n}
    missing = {f"{r['entity_type']}.{r['field']} ({r['rule']})": r["missing"]
               for r in report.get("requirements") or [] if r.get("missing")}
    return {k: v for k, v in (("filtered", filtered), ("missing", missing)) if v}


def rule_lines(per_source: dict[str, dict]) -> list[str]:
    """One line per source that a rule touched, e.g. ``sis: filtered student: active_only 3; missing
    student.email (report_if_missing) 2``."""
    lines = []
    for source, counts in sorted(per_source.items()):
        parts = []
        if counts.get("filtered"):
            parts.append("filtered " + ", ".join(f"{rule} {n}" for rule, n in counts["filtered"].items()))
        if counts.get("missing"):
            parts.append("missing " + ", ".join(f"{field} {n}" for field, n in counts["missing"].items()))
        if parts:
            lines.append(f"{source}: " + "; ".join(parts))
    return lines
