"""What a write-back sends now, given what earlier write-backs of the district's year did.

Each planned record (``record_key``) gets one decision:

- ``skip``     — nothing of it may be sent: every change was refused by a field rule, or a record rule
                 blocked it (the guard); recorded ``skipped`` with the rules;
- ``keep``     — this version's write-back already sent it (a retry of the same version): its row stays;
- ``inserted`` — an INSERT already sent by an earlier write-back, whose record PowerSchool's next
                 read has not linked to the golden person yet: never created twice; recorded ``skipped``;
- ``give_up``  — it failed ``max_attempts`` times and its golden record has not changed since the
                 last attempt: not sent again, recorded ``failed`` (still listed, every version);
- ``send``     — everything else, with the attempts so far: a record that failed before is retried;
                 once its golden record changes, its count starts again.

Decided in DuckDB over the whole plan at once.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from passport_pipelines.delivery.writeback.rules import Guarded

PRIOR_SCHEMA = pa.schema([("record_key", pa.string()), ("golden_id", pa.string()), ("version_id", pa.int64()),
                          ("status", pa.string()), ("attempts", pa.int64()), ("message", pa.string()),
                          ("powerschool_id", pa.string())])
INSERTED_SCHEMA = pa.schema([("record_key", pa.string()), ("version_id", pa.int64()),
                             ("powerschool_id", pa.string())])
CHANGED_SCHEMA = pa.schema([("golden_id", pa.string()), ("changed_in", pa.int64())])

DECISION_SCHEMA = pa.schema([
    ("record_key", pa.string()), ("entity", pa.string()), ("golden_id", pa.string()),
    ("powerschool_id", pa.string()), ("action", pa.string()), ("fields", pa.list_(pa.string())),
    ("skipped", pa.map_(pa.string(), pa.string())), ("blocked_rule", pa.string()), ("blocked_fields", pa.string()),
    ("decision", pa.string()), ("attempts", pa.int64()), ("prior_message", pa.string()),
    ("prior_powerschool_id", pa.string()), ("prior_version_id", pa.int64()),
])


def decide(plan_changes: pa.Table, guarded: Guarded, prior: pa.Table, inserted: pa.Table, changed: pa.Table, *,
           version_id: int, max_attempts: int) -> pa.Table:
    """One row per planned record (DECISION_SCHEMA). ``prior``: the latest result of each record key
    (PRIOR_SCHEMA); ``inserted``: INSERTs sent before (INSERTED_SCHEMA); ``changed``: the last version
    that changed each golden person (CHANGED_SCHEMA). ``attempts``: the attempts the record has had
    before this write-back (the count that carries on)."""
    con = duckdb.connect()
    try:
        con.register("plan_changes", plan_changes)
        con.register("allowed", guarded.allowed)
        con.register("skipped", guarded.skipped)
        con.register("blocked", guarded.blocked)
        con.register("prior", prior.cast(PRIOR_SCHEMA))
        con.register("inserted", inserted.cast(INSERTED_SCHEMA))
        con.register("changed", changed.cast(CHANGED_SCHEMA))
        table = con.execute(f"""
            WITH records AS (
                SELECT record_key, any_value(entity) AS entity, any_value(golden_id) AS golden_id,
                       any_value(powerschool_id) AS powerschool_id, any_value(action) AS action
                FROM plan_changes GROUP BY record_key),
            sent_fields AS (SELECT record_key, list(field ORDER BY field) AS fields FROM allowed GROUP BY record_key),
            refused AS (SELECT record_key, map(list(field ORDER BY field), list(rule ORDER BY field)) AS skipped
                        FROM skipped GROUP BY record_key),
            first_insert AS (SELECT record_key, arg_min(powerschool_id, version_id) AS powerschool_id,
                                    min(version_id) AS version_id
                             FROM inserted WHERE version_id < {int(version_id)} GROUP BY record_key),
            counted AS (
                SELECT r.*, coalesce(f.fields, []::VARCHAR[]) AS fields,
                       coalesce(x.skipped, map([]::VARCHAR[], []::VARCHAR[])) AS skipped,
                       b.rule AS blocked_rule, b.fields AS blocked_fields,
                       p.version_id AS prior_version_id, p.status AS prior_status, p.message AS prior_message,
                       p.powerschool_id AS prior_powerschool_id, i.powerschool_id AS inserted_id,
                       p.status = 'failed' AND coalesce(c.changed_in, 0) <= p.version_id AS failed_unchanged,
                       CASE WHEN p.status = 'failed' AND coalesce(c.changed_in, 0) <= p.version_id
                            THEN p.attempts ELSE 0 END AS attempts
                FROM records AS r
                LEFT JOIN sent_fields AS f USING (record_key)
                LEFT JOIN refused AS x USING (record_key)
                LEFT JOIN blocked AS b USING (record_key)
                LEFT JOIN prior AS p USING (record_key)
                LEFT JOIN first_insert AS i USING (record_key)
                LEFT JOIN changed AS c ON c.golden_id = r.golden_id)
            SELECT record_key, entity, golden_id, powerschool_id, action, fields, skipped, blocked_rule, blocked_fields,
                   CASE WHEN blocked_rule IS NOT NULL OR len(fields) = 0 THEN 'skip'
                        WHEN prior_version_id = {int(version_id)} AND prior_status = 'sent' THEN 'keep'
                        WHEN inserted_id IS NOT NULL THEN 'inserted'
                        WHEN failed_unchanged AND attempts >= {int(max_attempts)} THEN 'give_up'
                        ELSE 'send' END AS decision,
                   attempts, prior_message, coalesce(inserted_id, prior_powerschool_id) AS prior_powerschool_id,
                   prior_version_id
            FROM counted ORDER BY entity DESC, action, golden_id, powerschool_id""").to_arrow_table()
    finally:
        con.close()
    return table.cast(DECISION_SCHEMA)
