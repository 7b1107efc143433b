"""Duplicate people found by a sync: who is merged unattended, and what goes to the review queue.

The records this sync adds or changes are compared with each other and with every current record
(``linkage.find_duplicates`` with ``compare_keys``). Pairs already decided (a pending or resolved
case, or a pair kept apart) are never offered again. Merges join golden records: every record of a
merged cluster takes one golden id, the one already on record (an existing person keeps the golden id
deliveries know), from the source ranked first, then the smallest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from passport_pipelines.config.reconciliation import Reconciliation
from passport_pipelines.reconciliation.linkage.engine import TWIN_ATTRIBUTES, find_duplicates
from passport_pipelines.reconciliation.sync_people import SyncPeople
from passport_pipelines.sql.quoting import lit
from passport_pipelines.store.duplicate_review import RECORD_KEY_SEPARATOR

ENTITY = "users"
CASE_COLUMNS = ("left_source", "left_sourced_id", "right_source", "right_sourced_id", "domain", "score", "agreed",
                "scores", "reason")
MERGE_COLUMNS = ("primary_source", "primary_sourced_id", "secondary_source", "secondary_sourced_id", "golden_id",
                 "domain", "score", "agreed", "scores", "reason")


@dataclass
class DuplicateFindings:
    """``links``: (source, sourced_id, golden_id, on_record) of records whose golden id changes;
    ``merges``: one row per record merged into another person (for the decision log);
    ``cases``: pairs for the review queue."""

    links: pa.Table
    merges: pa.Table
    cases: pa.Table
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    compared: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def attributes_needed(reconciliation: Reconciliation) -> list[str]:
    names = [a for d in reconciliation.domains_for(ENTITY) for a in d.attributes]
    return list(dict.fromkeys([*names, *reconciliation.distinguishing, *TWIN_ATTRIBUTES]))


def _split(key: str, side: str = "") -> str:
    """SQL: the (source, sourced_id) halves of a record key, as ``<side>_source, <side>_sourced_id``
    (``source, sourced_id`` without a side)."""
    prefix = f"{side}_" if side else ""
    source = f"split_part({key}, {lit(RECORD_KEY_SEPARATOR)}, 1)"
    return f"{source} AS {prefix}source, substr({key}, length({source}) + 2) AS {prefix}sourced_id"


def find_sync_duplicates(con: duckdb.DuckDBPyConnection, people: SyncPeople, reconciliation: Reconciliation,
                         known_pairs: pa.Table, source_order: list[str]) -> DuplicateFindings:
    """``people``: ``sync_people``; ``known_pairs``: (left_key, right_key) never to offer again."""
    domains = reconciliation.domains_for(ENTITY)
    if not domains or len(people.new_keys) == 0:
        return nothing_found()
    result = find_duplicates(people.prepared, domains, distinguishing=reconciliation.distinguishing,
                             compare_keys=people.new_keys)
    findings = findings_of_pairs(con, people.ids, result.pairs, result.clusters, known_pairs, source_order)
    findings.compared, findings.seconds = result.candidates, result.seconds
    return findings


def findings_of_pairs(con: duckdb.DuckDBPyConnection, ids: pa.Table, pairs: pa.Table, clusters: pa.Table,
                      known_pairs: pa.Table, source_order: list[str]) -> DuplicateFindings:
    """What the pairs a search found mean for the golden records: links, the merges that make them, and
    cases. ``ids``: (record_key, golden_id, on_record) of every current record; ``pairs`` and
    ``clusters`` as ``linkage.find_duplicates`` gives them; ``known_pairs``: (left_key, right_key)
    never to offer again; ``source_order`` ranks sources for the golden id a merged cluster keeps."""
    con.register("dup__ids", ids)
    # Source and sourced id from the key, for the few rows that need them.
    con.execute(f"CREATE OR REPLACE TEMP VIEW dup__people AS "
                f"SELECT record_key, {_split('record_key')}, golden_id, on_record FROM dup__ids")
    con.register("dup__pairs", pairs)
    con.register("dup__clusters", clusters)
    con.register("dup__known", known_pairs)
    rank = "CASE source " + " ".join(f"WHEN {lit(s)} THEN {i}" for i, s in enumerate(source_order)) + \
        f" ELSE {len(source_order)} END"
    try:
        # Pairs of one person already, or decided before, are not news.
        con.execute("""CREATE OR REPLACE TEMP TABLE dup__fresh AS
            SELECT p.* FROM dup__pairs AS p
            JOIN dup__people AS l ON l.record_key = p.left_key
            JOIN dup__people AS r ON r.record_key = p.right_key
            WHERE l.golden_id <> r.golden_id
              AND NOT EXISTS (SELECT 1 FROM dup__known AS k
                              WHERE k.left_key = p.left_key AND k.right_key = p.right_key)""")
        # Each merged cluster takes one golden id; every record holding any of its golden ids follows.
        con.execute(f"""CREATE OR REPLACE TEMP TABLE dup__target AS
            WITH members AS (
                SELECT c.cluster_key, p.golden_id, p.on_record, {rank} AS rank
                FROM dup__clusters AS c JOIN dup__people AS p ON p.record_key = c.record_key
                WHERE c.cluster_key IN (SELECT left_key FROM dup__fresh WHERE decision = 'merge'
                                        UNION SELECT right_key FROM dup__fresh WHERE decision = 'merge')
                   OR c.record_key IN (SELECT left_key FROM dup__fresh WHERE decision = 'merge'
                                       UNION SELECT right_key FROM dup__fresh WHERE decision = 'merge'))
            SELECT DISTINCT m.golden_id AS old_golden_id,
                   first(m2.golden_id ORDER BY NOT m2.on_record, m2.rank, m2.golden_id)
                       OVER (PARTITION BY m.cluster_key) AS golden_id
            FROM members AS m JOIN members AS m2 USING (cluster_key)""")
        links = con.execute("""
            SELECT p.source, p.sourced_id, t.golden_id, p.on_record
            FROM dup__people AS p JOIN dup__target AS t ON t.old_golden_id = p.golden_id
            WHERE p.golden_id <> t.golden_id ORDER BY p.source, p.sourced_id""").to_arrow_table()
        # The log names, for each record that moves, a record of the person it joins and the
        # strongest merge pair that made the move.
        merges = con.execute(f"""
            WITH moved AS (
                SELECT p.record_key, t.golden_id FROM dup__people AS p
                JOIN dup__target AS t ON t.old_golden_id = p.golden_id WHERE p.golden_id <> t.golden_id),
            primaries AS (
                SELECT t.golden_id, min(p.record_key) AS primary_key FROM dup__people AS p
                JOIN dup__target AS t ON t.golden_id = p.golden_id GROUP BY t.golden_id),
            evidence AS (
                SELECT m.record_key, f.* EXCLUDE (left_key, right_key)
                FROM moved AS m JOIN dup__fresh AS f
                  ON f.decision = 'merge' AND (f.left_key = m.record_key OR f.right_key = m.record_key)
                QUALIFY row_number() OVER (PARTITION BY m.record_key ORDER BY f.score DESC, f.domain) = 1)
            SELECT {_split('pr.primary_key', 'primary')}, {_split('m.record_key', 'secondary')},
                   m.golden_id, coalesce(e.domain, 'cluster') AS domain, coalesce(e.score, 0) AS score,
                   coalesce(e.agreed, []::VARCHAR[]) AS agreed, coalesce(e.scores, '{{}}') AS scores,
                   coalesce(e.reason, 'joined through another record of its cluster') AS reason
            FROM moved AS m JOIN primaries AS pr USING (golden_id)
            LEFT JOIN evidence AS e ON e.record_key = m.record_key
            ORDER BY 1, 2, 3, 4""").to_arrow_table()
        cases = con.execute(f"""
            SELECT {_split('left_key', 'left')}, {_split('right_key', 'right')}, domain, score, agreed, scores, reason
            FROM dup__fresh WHERE decision = 'review' ORDER BY left_key, right_key""").to_arrow_table()
    finally:
        con.execute("DROP VIEW IF EXISTS dup__people")
        for name in ("dup__ids", "dup__pairs", "dup__clusters", "dup__known"):
            con.unregister(name)
    counts: dict[str, dict[str, int]] = {}
    for domain in merges.column("domain").to_pylist():
        counts.setdefault(domain, {"merge": 0, "review": 0})["merge"] += 1
    for domain in cases.column("domain").to_pylist():
        counts.setdefault(domain, {"merge": 0, "review": 0})["review"] += 1
    return DuplicateFindings(links, merges, cases, counts)


def nothing_found() -> DuplicateFindings:
    def empty(names, types=None):
        return pa.table({n: pa.array([], (types or {}).get(n, pa.string())) for n in names})
    return DuplicateFindings(
        links=empty(("source", "sourced_id", "golden_id", "on_record"), {"on_record": pa.bool_()}),
        merges=empty(MERGE_COLUMNS, {"score": pa.float64(), "agreed": pa.list_(pa.string())}),
        cases=empty(CASE_COLUMNS, {"score": pa.float64(), "agreed": pa.list_(pa.string())}))


def relinked(ids: pa.Table, links: pa.Table) -> pa.Table:
    """``ids`` (record_key, golden_id, ...) with the golden ids ``links`` gives (source, sourced_id,
    golden_id): the people as they are once the sync's merges are committed."""
    golden = ids.column("golden_id").combine_chunks()
    if links.num_rows:
        link_keys = pc.binary_join_element_wise(links.column("source"), links.column("sourced_id"),
                                                RECORD_KEY_SEPARATOR)
        # The million record keys probed into the few linked ones.
        slots = pc.index_in(ids.column("record_key").combine_chunks(), value_set=link_keys)
        moved = pc.is_valid(slots)
        # replace_with_mask fills in position order: the links taken in the order of their records.
        linked = links.column("golden_id").combine_chunks().take(slots.filter(moved))
        golden = pc.replace_with_mask(golden, moved, linked)
    return ids.set_column(ids.column_names.index("golden_id"), "golden_id", golden)
