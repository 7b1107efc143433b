"""How every write-back records its records, whatever it writes to (PowerSchool, Google Workspace):
each planned record's first row from its decision (``attempts.decide``), the allowed changes of each
record, and a record's row once the target answered or refused to take it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pyarrow as pa

from passport_pipelines.delivery.writeback.requests import NotSendable
from passport_pipelines.delivery.writeback.results import FAILED, SENT, SKIPPED

MAX_ATTEMPTS = 3
NOT_SENT_YET = "not sent yet: the write-back did not finish"


@dataclass
class RecordResult:
    ok: bool
    powerschool_id: str | None = None  # the record's id in the target (a created record's new id)
    message: str | None = None  # the target's reason, scrubbed


@dataclass
class WritebackOutcome:
    destination: str
    rows: list[dict] = field(default_factory=list)  # one per planned record, as recorded
    unavailable: str | None = None  # why the target failed as a whole (host, path, kind; no secret)
    failure_kind: str | None = None
    requests: int = 0

    @property
    def ok(self) -> bool:
        return self.unavailable is None


def rules_text(skipped: dict[str, str]) -> str:
    return ", ".join(f"{rule} ({field})" for field, rule in sorted(skipped.items()))


def first_rows(decisions: pa.Table, existing: dict[str, dict], system: str = "PowerSchool") -> list[dict]:
    """Each planned record as recorded before anything is sent (``system``: where it is written, for
    the messages)."""
    rows = []
    for d in decisions.to_pylist():
        skipped = dict(d["skipped"] or [])
        row = {"record_key": d["record_key"], "entity": d["entity"], "golden_id": d["golden_id"],
               "powerschool_id": d["powerschool_id"], "action": d["action"], "fields": list(d["fields"] or []),
               "skipped": skipped, "rule": None, "attempts": int(d["attempts"] or 0), "decision": d["decision"]}
        decision = d["decision"]
        if decision == "skip":
            blocked = d["blocked_rule"]
            detail = f"{blocked} ({d['blocked_fields'].replace(',', ', ')})" if blocked and d["blocked_fields"] \
                else blocked
            row.update(status=SKIPPED, attempts=0, rule=blocked,
                       message="not sent: " + "; ".join(x for x in (detail, rules_text(skipped)) if x))
        elif decision == "keep":
            row = {**existing[d["record_key"]], "decision": decision}
        elif decision == "inserted":
            row.update(status=SKIPPED, attempts=0, powerschool_id=d["prior_powerschool_id"], rule="already_inserted",
                       message=f"not sent: created as {system} id {d['prior_powerschool_id']} by an earlier "
                               f"write-back; never created twice (linked once {system}'s next read has it)")
        elif decision == "give_up":
            last = d["prior_message"] or ""
            row.update(status=FAILED, rule="gave_up", message=last if last.startswith("gave up") else
                       f"gave up after {row['attempts']} attempts; last: {last}")
        else:
            row.update(status=FAILED, message=NOT_SENT_YET)
        rows.append(row)
    return rows


def changes_by_record(allowed: pa.Table) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = defaultdict(dict)
    for key, name, value in zip(*(allowed.column(c).to_pylist() for c in ("record_key", "field", "value"))):
        out[key][name] = value
    return out


def answered(row: dict, result: RecordResult) -> list[dict]:
    row.update(status=SENT if result.ok else FAILED, attempts=row["attempts"] + 1, rule=None,
               message=None if result.ok else result.message,
               powerschool_id=result.powerschool_id or row["powerschool_id"])
    if row["skipped"] and result.ok:
        row["message"] = "sent without: " + rules_text(row["skipped"])
    return [row]


def not_sendable(row: dict, exc: NotSendable) -> list[dict]:
    row.update(status=exc.status, rule=exc.rule, message=f"not sent: {exc.message}")
    return [row]


