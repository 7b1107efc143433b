"""What a write-back did, for people: counts, the records that need a look, lines for the history.

Only ids, field names, rule names, counts and PowerSchool's scrubbed reasons: never a value.
"""

from __future__ import annotations

from collections import Counter

from passport_pipelines.delivery.writeback.results import FAILED, SENT, SKIPPED, STATUSES, WritebackResults
from passport_pipelines.store.golden_store import GoldenStore

PROBLEM_ROWS = 20
_VERB = {("student", "UPDATE"): "students updated", ("student", "INSERT"): "students created",
         ("contact", "UPDATE"): "contacts updated", ("contact", "INSERT"): "contacts created",
         ("account", "INSERT"): "accounts created", ("account", "UPDATE"): "accounts updated",
         ("account", "SUSPEND"): "accounts suspended"}
_SYSTEM = {"student": "PowerSchool", "contact": "PowerSchool", "account": "Google"}


def counts(rows: list[dict]) -> dict:
    """``{"student": {"UPDATE": {"sent": n, "failed": n, "skipped": n}, "INSERT": {...}}, "contact": {...}}``."""
    out: dict = {}
    for r in rows:
        by_status = out.setdefault(r["entity"], {}).setdefault(r["action"], dict.fromkeys(STATUSES, 0))
        by_status[r["status"]] += 1
    return out


def totals(rows: list[dict]) -> dict[str, int]:
    found = Counter(r["status"] for r in rows)
    return {s: found.get(s, 0) for s in STATUSES}


def skipped_by_rule(rows: list[dict]) -> dict[str, int]:
    """How often each rule kept something out of a request: changes (a record may have several) and
    whole skipped records."""
    found: Counter = Counter()
    for r in rows:
        found.update((r.get("skipped") or {}).values())
        if r["status"] == SKIPPED and r.get("rule"):
            found[r["rule"]] += 1
    return dict(sorted(found.items()))


def problems(rows: list[dict], limit: int = PROBLEM_ROWS) -> list[dict]:
    """The first failed and skipped records (failed first), as table rows of ids and reasons."""
    picked = sorted((r for r in rows if r["status"] != SENT), key=lambda r: (r["status"] != FAILED, r["record_key"]))
    return [{"entity": r["entity"], "action": r["action"], "golden_id": r["golden_id"],
             "powerschool_id": r["powerschool_id"] or "", "status": r["status"], "attempts": int(r["attempts"]),
             "rule": r.get("rule") or ", ".join(sorted(set((r.get("skipped") or {}).values()))),
             "reason": r["message"] or ""} for r in picked[:limit]]


def summary_line(destination: str, rows: list[dict]) -> str:
    """e.g. ``write-back sis: 3 students updated, 1 students created, 1 contacts created; 1 failed, 2 skipped``
    (``accounts created / updated / suspended`` for Google Workspace)."""
    sent = Counter((r["entity"], r["action"]) for r in rows if r["status"] == SENT)
    done = ", ".join(f"{n} {_VERB[k]}" for k, n in sorted(sent.items(), key=lambda kv: _order(kv[0])) if n)
    t = totals(rows)
    rest = ", ".join(f"{t[s]} {s}" for s in (FAILED, SKIPPED) if t[s])
    return f"write-back {destination}: " + "; ".join(x for x in (done or "nothing sent", rest) if x)


def _order(key: tuple[str, str]) -> int:
    return list(_VERB).index(key)


def history_lines(store: GoldenStore, version_id: int) -> list[str]:
    """What ``passport history`` prints under a version: one line per write-back destination, then
    one line per failed record (ids and reasons only)."""
    by_destination: dict[str, list[dict]] = {}
    for r in WritebackResults(store).for_version(version_id):
        by_destination.setdefault(r["destination"], []).append(r)
    lines = []
    for destination, rows in sorted(by_destination.items()):
        lines.append(summary_line(destination, rows))
        for p in problems(rows, limit=5):
            if p["status"] == FAILED:
                system = _SYSTEM.get(p["entity"], "target")
                lines.append(f"  failed {p['entity']} {p['action']} {p['golden_id']}"
                             f"{f' ({system} ' + p['powerschool_id'] + ')' if p['powerschool_id'] else ''}, "
                             f"attempt {p['attempts']}: {p['reason']}")
    return lines


def history_json(store: GoldenStore, version_id: int) -> list[dict]:
    """The same for ``passport history --json``: per destination, counts and the failed records."""
    by_destination: dict[str, list[dict]] = {}
    for r in WritebackResults(store).for_version(version_id):
        by_destination.setdefault(r["destination"], []).append(r)
    return [{"destination": d, "counts": counts(rows), "totals": totals(rows),
             "skipped_by_rule": skipped_by_rule(rows), "problems": problems(rows)}
            for d, rows in sorted(by_destination.items())]
