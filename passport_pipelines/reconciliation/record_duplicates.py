"""Duplicate orgs, academic sessions, courses and classes across sources: the same school, course or class
carried by two sources under their own ids, found by the integration's exact domains of uniqueness and
merged into one golden record (or queued for review).

For each of these entities that has domains, in reference order (orgs, sessions, courses, classes), the
records current once the sync is committed (on record, less what it deletes, plus what it adds or
changes) are compared on each domain's attributes:

- text compared case-folded and trimmed, accents stripped, punctuation a space, whitespace collapsed;
  codes (``identifier``, ``course_code``, ``class_code``) on their letters and digits; lists (grades,
  subjects, terms) as sets; a blank value never matches;
- a reference (a course's ``org_sourced_id``, a class's ``course_sourced_id`` or ``term_sourced_ids``)
  as the golden record it points at, after this sync's merges of the entities before it: two sources'
  course records of one school match on "title + school" even though each names the school by its
  own id, as soon as the two school records are one golden school.

Two records match when every attribute of a domain is equal; a pair belongs to the first domain it
matches. Records of one source never pair (a source's ids are its own identity), nor do records of
one golden record already, nor a pair once queued or kept apart; and since merging is transitive, a
merge that would bring two records of one source into one golden record (through a third source's) is
refused and queued for review instead (the cluster guard, strongest link first). More than ``MAX_GROUP`` records on
one value is not a duplicate but a domain too weak for the data: those groups are skipped and counted.
Every record is compared each sync (these entities are small: a district's classes number in the
tens of thousands), so a domain added later, or a merge of what records point at, finds pairs of
records that did not change. What a match means (links, the merges that make them, review cases) is
worked out as for people (``sync_duplicates.findings_of_pairs``): a merged cluster keeps the golden
id already on record, from the source ranked first.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from passport_pipelines.config.reconciliation import RECORD_ENTITIES, MatchDomain, Reconciliation
from passport_pipelines.model import entities
from passport_pipelines.reconciliation.linkage.result import CLUSTERS_SCHEMA
from passport_pipelines.reconciliation.sync_duplicates import DuplicateFindings, findings_of_pairs, nothing_found
from passport_pipelines.sql.engine import connect
from passport_pipelines.sql.quoting import ident, lit
from passport_pipelines.store.duplicate_review import (
    DUPLICATES_FOLDER,
    RECORD_KEY_SEPARATOR,
    DuplicateReview,
    write_findings_files,
)
from passport_pipelines.store.golden_store import GoldenStore
from passport_pipelines.store.rekeyed_decisions import rekeyed_maps, rekeyed_pairs

MAX_GROUP = 100
CODE_COLUMNS = frozenset({"identifier", "course_code", "class_code"})
LIST_COLUMNS = frozenset({"grades", "subjects", "subject_codes", "periods"})
PAIR_COLUMNS = ("left_key", "right_key", "rank", "domain", "resolution", "decision", "score", "agreed", "scores",
                "reason")
CLUSTER_GUARD = "cluster guard: would join two records of one source"


@dataclass
class RecordDuplicates:
    """What the search found per entity, and what it looked at (for the run's metadata)."""

    findings: dict[str, DuplicateFindings]
    summary: dict[str, dict]


def searched_entities(reconciliation: Reconciliation) -> list[str]:
    return [e for e in RECORD_ENTITIES if reconciliation.domains_for(e)]


def find_record_duplicates(con: duckdb.DuckDBPyConnection, store: GoldenStore, *, district: str, school_year: str,
                           change_folders: list[Path], reconciliation: Reconciliation, source_order: list[str],
                           known_pairs: dict[str, pa.Table]) -> RecordDuplicates:
    """The duplicates of every record entity that has domains; ``known_pairs``: entity -> (left_key,
    right_key) never to offer again."""
    searched = searched_entities(reconciliation)
    findings: dict[str, DuplicateFindings] = {}
    summary: dict[str, dict] = {}
    # Golden ids the references of later entities translate through: every entity a domain points at.
    referenced = {r.entity for e in searched for d in reconciliation.domains_for(e) for r in entities.REFERENCES[e]
                  if r.column in d.attributes}
    for entity in RECORD_ENTITIES:
        if entity not in searched and entity not in referenced:
            continue
        started = time.perf_counter()
        domains = reconciliation.domains_for(entity)
        attributes = list(dict.fromkeys(a for d in domains for a in d.attributes))
        _current_after_sync(con, store, entity, attributes, district=district, school_year=school_year,
                            folders=change_folders)
        found = nothing_found()
        if domains:
            _normalized(con, entity, attributes)
            pairs, oversized = _pairs(con, entity, domains)
            ids = _ids(con, entity)
            pairs, clusters = _guarded_clusters(_drop_known(pairs, known_pairs.get(entity, _no_pairs())), ids)
            found = findings_of_pairs(con, ids, pairs, clusters, _no_pairs(), source_order)
            found.compared = pairs.num_rows
            found.seconds = {"total": round(time.perf_counter() - started, 3)}
            findings[entity] = found
            summary[entity] = {"records": con.execute(f"SELECT count(*) FROM after__{entity}").fetchone()[0],
                               "pairs": pairs.num_rows, "merged": found.merges.num_rows,
                               "new_cases": found.cases.num_rows, "by_domain": found.counts,
                               "oversized_groups": oversized, "seconds": found.seconds["total"]}
        _key_map(con, entity, found.links)
    return RecordDuplicates(findings, summary)


def _no_pairs() -> pa.Table:
    return pa.table({"left_key": pa.array([], pa.string()), "right_key": pa.array([], pa.string())})


def _parquet(folders: list[Path], name: str) -> str | None:
    files = [f / f"{name}.parquet" for f in folders if (f / f"{name}.parquet").exists()]
    if not files:
        return None
    return "read_parquet([" + ", ".join(lit(str(f)) for f in files) + "], union_by_name = true)"


def _current_after_sync(con: duckdb.DuckDBPyConnection, store: GoldenStore, entity: str, attributes: list[str], *,
                        district: str, school_year: str, folders: list[Path]) -> None:
    """``after__<entity>``: source, sourced_id, golden_id, on_record and the attributes of every record
    current once the sync is committed."""
    cols = ["golden_id", "source", "sourced_id", *attributes]
    con.register(f"stored__{entity}", store.current_records(district, school_year, entity, columns=cols))
    picked = ", ".join(ident(c) for c in ["source", "sourced_id", "golden_id", *attributes])
    upserts, deletes = _parquet(folders, f"upserts__{entity}"), _parquet(folders, f"deletes__{entity}")
    changed = (f"SELECT {picked}, change <> 'added' AS on_record FROM {upserts}" if upserts else None)
    gone = [f"SELECT source, sourced_id FROM {q}" for q in (upserts, deletes) if q]
    kept = f"SELECT {picked}, true AS on_record FROM stored__{entity} AS s"
    if gone:
        kept += (f" WHERE NOT EXISTS (SELECT 1 FROM ({' UNION ALL '.join(gone)}) AS g "
                 "WHERE g.source = s.source AND g.sourced_id = s.sourced_id)")
    con.execute(f"CREATE OR REPLACE TEMP TABLE after__{entity} AS {kept}"
                + (f" UNION ALL {changed}" if changed else ""))
    con.unregister(f"stored__{entity}")


def _text(expr: str, column: str) -> str:
    """SQL of a value as compared: codes on letters and digits, text on words; blank is NULL."""
    folded = f"strip_accents(lower(CAST({expr} AS VARCHAR)))"
    if column in CODE_COLUMNS:
        return f"nullif(regexp_replace({folded}, '[^a-z0-9]+', '', 'g'), '')"
    return f"nullif(trim(regexp_replace({folded}, '[^a-z0-9]+', ' ', 'g')), '')"


def _normalized(con: duckdb.DuckDBPyConnection, entity: str, attributes: list[str]) -> None:
    """``norm__<entity>``: record_key, source, golden_id and each attribute as compared."""
    refs = {r.column: r for r in entities.REFERENCES[entity]}
    select, joins = [], []
    for i, col in enumerate(attributes):
        ref, c = refs.get(col), ident(col)
        if ref is not None and ref.is_list:
            alias = f"l{i}"  # each id as its golden record, as a set
            joins.append(f"LEFT JOIN (SELECT x.source, x.sourced_id, string_agg(DISTINCT k.golden_id, ',' "
                         f"ORDER BY k.golden_id) AS v FROM (SELECT source, sourced_id, unnest(string_split({c}, ',')) "
                         f"AS id FROM after__{entity}) AS x JOIN keys__{ref.entity} AS k ON k.source = x.source "
                         f"AND k.sourced_id = trim(x.id) GROUP BY x.source, x.sourced_id) AS {alias} "
                         f"ON {alias}.source = a.source AND {alias}.sourced_id = a.sourced_id")
            select.append(f"{alias}.v AS {c}")
        elif ref is not None:
            alias = f"r{i}"  # the golden record it points at (a dangling one matches nothing)
            target = f"keys__{ref.entity}" if ref.entity != entity else f"own_keys__{entity}"
            joins.append(f"LEFT JOIN {target} AS {alias} ON {alias}.source = a.source AND {alias}.sourced_id = a.{c}")
            select.append(f"{alias}.golden_id AS {c}")
        elif col in LIST_COLUMNS:
            select.append(f"nullif(array_to_string(list_sort(list_distinct(list_filter(list_transform("
                          f"string_split(a.{c}, ','), v -> {_text('v', col)}), v -> v IS NOT NULL))), ','), '') AS {c}")
        else:
            select.append(f"{_text(f'a.{c}', col)} AS {c}")
    # A reference to the entity itself (a session's parent) goes through its records as they are.
    con.execute(f"CREATE OR REPLACE TEMP VIEW own_keys__{entity} AS SELECT source, sourced_id, golden_id "
                f"FROM after__{entity}")
    key = f"a.source || {lit(RECORD_KEY_SEPARATOR)} || a.sourced_id"
    con.execute(f"CREATE OR REPLACE TEMP TABLE norm__{entity} AS SELECT {key} AS record_key, a.source, a.golden_id"
                f"{''.join(', ' + s for s in select)} FROM after__{entity} AS a {' '.join(joins)}")


def _pairs(con: duckdb.DuckDBPyConnection, entity: str, domains: list[MatchDomain]) -> tuple[pa.Table, int]:
    """Pairs of records of two sources and two golden records equal on a domain (its first one), and how
    many groups were skipped as too large."""
    parts, oversized = [], 0
    for rank, domain in enumerate(domains):
        cols = [ident(a) for a in domain.attributes]
        key = "concat_ws(chr(31), " + ", ".join(cols) + ")"
        con.execute(f"""CREATE OR REPLACE TEMP TABLE keyed__{rank} AS
            SELECT record_key, source, golden_id, {key} AS k FROM norm__{entity}
            WHERE {' AND '.join(f'{c} IS NOT NULL' for c in cols)}""")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE groups__{rank} AS
            SELECT k, count(*) AS n FROM keyed__{rank} GROUP BY k
            HAVING count(DISTINCT source) > 1 AND count(DISTINCT golden_id) > 1""")
        oversized += con.execute(f"SELECT count(*) FROM groups__{rank} WHERE n > {MAX_GROUP}").fetchone()[0]
        decision = "merge" if domain.resolution == "unattended" else "review"
        reason = (f"domain {domain.name} manual: same " if decision == "review" else "same ") + \
            ", ".join(domain.attributes)
        scores = json.dumps({a: 1.0 for a in domain.attributes})
        agreed = "[" + ", ".join(lit(a) for a in domain.attributes) + "]::VARCHAR[]"
        parts.append(f"""SELECT l.record_key AS left_key, r.record_key AS right_key, {rank} AS rank,
                   {lit(domain.name)} AS domain, {lit(domain.resolution)} AS resolution, {lit(decision)} AS decision,
                   1.0 AS score, {agreed} AS agreed, {lit(scores)} AS scores, {lit(reason)} AS reason
            FROM keyed__{rank} AS l JOIN keyed__{rank} AS r
              ON r.k = l.k AND l.record_key < r.record_key AND l.source <> r.source AND l.golden_id <> r.golden_id
            WHERE l.k IN (SELECT k FROM groups__{rank} WHERE n <= {MAX_GROUP})""")
    pairs = con.execute(f"""
        SELECT {', '.join(PAIR_COLUMNS)} FROM ({' UNION ALL '.join(parts)})
        QUALIFY row_number() OVER (PARTITION BY left_key, right_key ORDER BY rank) = 1
        ORDER BY rank, left_key, right_key""").to_arrow_table()
    return pairs, oversized


def _drop_known(pairs: pa.Table, known: pa.Table) -> pa.Table:
    """The pairs never queued nor kept apart before: a known pair is neither news nor a merge."""
    if known.num_rows == 0 or pairs.num_rows == 0:
        return pairs
    sep = RECORD_KEY_SEPARATOR * 2
    seen = pc.binary_join_element_wise(known.column("left_key"), known.column("right_key"), sep)
    mine = pc.binary_join_element_wise(pairs.column("left_key"), pairs.column("right_key"), sep)
    return pairs.filter(pc.invert(pc.is_in(mine, value_set=seen)))


def _components(size: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(size, size))
    return connected_components(graph, directed=False)[1]


def _guarded_clusters(pairs: pa.Table, ids: pa.Table) -> tuple[pa.Table, pa.Table]:
    """The pairs (a merge the cluster guard refuses becomes a review) and ``(record_key, cluster_key)`` of
    the records the merges join: connected components, each named by its smallest record key."""
    merging = np.flatnonzero(pc.equal(pairs.column("decision"), "merge").to_numpy(zero_copy_only=False))
    if len(merging) == 0:
        return pairs.drop(["rank"]), CLUSTERS_SCHEMA.empty_table()
    merge = pairs.take(pa.array(merging))  # strongest first: pairs come ordered by domain, then keys
    left, right = merge.column("left_key").combine_chunks(), merge.column("right_key").combine_chunks()
    keys = pc.unique(pa.concat_arrays([left, right])).sort()
    a = pc.index_in(left, value_set=keys).to_numpy()
    b = pc.index_in(right, value_set=keys).to_numpy()
    record_keys, all_golden = ids.column("record_key").combine_chunks(), ids.column("golden_id").combine_chunks()
    golden = all_golden.take(pc.index_in(keys, value_set=record_keys))
    labels = _components(len(keys), a, b)
    refused = _refused_links(labels, a, b, golden, record_keys, all_golden)
    if refused:
        kept = np.ones(len(a), dtype=bool)
        kept[refused] = False
        decision = pairs.column("decision").to_numpy(zero_copy_only=False).astype(object)
        reason = pairs.column("reason").to_numpy(zero_copy_only=False).astype(object)
        decision[merging[refused]], reason[merging[refused]] = "review", CLUSTER_GUARD
        pairs = pairs.set_column(pairs.column_names.index("decision"), "decision", pa.array(decision, pa.string()))
        pairs = pairs.set_column(pairs.column_names.index("reason"), "reason", pa.array(reason, pa.string()))
        a, b = a[kept], b[kept]
        labels = _components(len(keys), a, b)
    members = np.unique(np.concatenate([a, b]))
    smallest = np.full(len(keys), len(keys), dtype=np.int64)
    np.minimum.at(smallest, labels[members], members)  # keys are sorted: the smallest position, the smallest key
    clusters = pa.table({"record_key": keys.take(pa.array(members)),
                         "cluster_key": keys.take(pa.array(smallest[labels[members]]))}, schema=CLUSTERS_SCHEMA)
    return pairs.drop(["rank"]), clusters


def _refused_links(labels: np.ndarray, left: np.ndarray, right: np.ndarray, golden: pa.Array,
                   all_keys: pa.Array, all_golden: pa.Array) -> list[int]:
    """The merge links that would make one golden record of two records of one source. A record stands
    for every record its golden id holds; only the components where a source repeats across golden ids
    are replayed, link by link, strongest first (those are rare and small)."""
    in_merges = pc.is_in(all_golden, value_set=golden)
    mates = pa.table({"golden_id": all_golden.filter(in_merges),
                      "source": pc.list_element(pc.split_pattern(all_keys.filter(in_merges), RECORD_KEY_SEPARATOR,
                                                                 max_splits=1), 0)})
    nodes = pa.table({"golden_id": golden, "label": pa.array(labels)})
    per_source = nodes.join(mates, "golden_id").group_by(["label", "source"]).aggregate(
        [("golden_id", "count_distinct")])
    bad = set(per_source.filter(pc.greater(per_source.column("golden_id_count_distinct"), 1))
              .column("label").to_pylist())
    if not bad:
        return []
    sources: dict[str, set[str]] = {}
    for g, s in zip(mates.column("golden_id").to_pylist(), mates.column("source").to_pylist()):
        sources.setdefault(g, set()).add(s)
    golden_of = golden.to_pylist()
    parent: dict[str, str] = {}  # union-find over golden ids: a golden record is one node already

    def root(g: str) -> str:
        while parent.setdefault(g, g) != g:
            parent[g] = parent[parent[g]]
            g = parent[g]
        return g

    held: dict[str, set[str]] = {}
    refused = []
    for link in (i for i in range(len(left)) if labels[left[i]] in bad):
        ra, rb = root(golden_of[left[link]]), root(golden_of[right[link]])
        if ra == rb:
            continue
        sa, sb = held.setdefault(ra, set(sources[ra])), held.setdefault(rb, set(sources[rb]))
        if sa & sb:
            refused.append(link)
            continue
        parent[rb] = ra
        held[ra] = sa | sb
    return refused


def _ids(con: duckdb.DuckDBPyConnection, entity: str) -> pa.Table:
    return con.execute(f"SELECT source || {lit(RECORD_KEY_SEPARATOR)} || sourced_id AS record_key, golden_id, "
                       f"on_record FROM after__{entity}").to_arrow_table()


def _key_map(con: duckdb.DuckDBPyConnection, entity: str, links: pa.Table) -> None:
    """``keys__<entity>``: (source, sourced_id, golden_id) once the sync and its merges are committed."""
    con.register("record_links", links.select(["source", "sourced_id", "golden_id"]))
    try:
        con.execute(f"""CREATE OR REPLACE TEMP TABLE keys__{entity} AS
            SELECT a.source, a.sourced_id, coalesce(l.golden_id, a.golden_id) AS golden_id
            FROM after__{entity} AS a LEFT JOIN record_links AS l ON l.source = a.source AND l.sourced_id = a.sourced_id""")
    finally:
        con.unregister("record_links")


def search_record_duplicates(change_folder: Path, folders: list[Path], reconciliation: Reconciliation,
                             source_order: list[str], district: str, school_year: str,
                             store: GoldenStore) -> tuple[str, dict]:
    """The sync's duplicate records (``find_record_duplicates``), written beside the change set in
    ``__duplicates/<entity>/`` for the commit to apply. Returns that folder and the counts that join
    the run's ``duplicates``."""
    started = time.perf_counter()
    review = DuplicateReview(store)
    moved = rekeyed_maps(folders)  # records a change of their source's identity re-keys
    known = {e: rekeyed_pairs(review.known_pairs(district, school_year, entity=e), moved.get(e))
             for e in searched_entities(reconciliation)}
    con = connect()
    try:
        found = find_record_duplicates(con, store, district=district, school_year=school_year, change_folders=folders,
                                       reconciliation=reconciliation, source_order=source_order, known_pairs=known)
    finally:
        con.close()
    folder = change_folder / DUPLICATES_FOLDER
    for entity, findings in found.findings.items():
        write_findings_files(folder / entity, findings)
    return str(folder), {"records": found.summary, "records_seconds": round(time.perf_counter() - started, 2)}
