"""``unique: true``: colliding values (usernames) get a numeric suffix 2, 3, ..., set-based in DuckDB.

Values compare case-insensitively (``John.Smith`` and ``john.smith`` are one username to every
directory). Precedence among rows that want the same value:

1. a row that held this value before, plain or suffixed (``taken`` says so), keeps it, so
   that a username does not move to a newcomer who sorts first;
2. then rows by ``sourced_id``: the first one keeps the plain value;
3. the others get the smallest free suffix, in the same order. Where no suffix of a value is
   used yet (nearly always) that is plain arithmetic on the row's rank. Otherwise suffixes are
   looked for in a window of numbers per value (widened when all are taken) and a new value is
   checked against everything used so far, including another value's suffixes (``ab1`` + ``2``
   and ``ab`` + ``12``): the loop ends when no row is left without a free value. Two values
   whose suffixes compete for one string go round by round; a value that does not settles first.
"""

from __future__ import annotations

from typing import Callable

import duckdb
import pyarrow as pa

from passport_pipelines.sql.quoting import ident

MAX_ROUNDS = 200
# A value ending in a digit, cheaper than a regular expression over a million values.
_ENDS_IN_DIGIT = "(right(key, 1) BETWEEN '0' AND '9')"


def _taken_table(con: duckdb.DuckDBPyConnection, taken: pa.Array | pa.ChunkedArray | pa.Table | None) -> None:
    """``__u_taken(key, value, sourced_id)``. ``taken`` is an array of values other records use,
    or a table with ``value`` and optionally ``sourced_id`` (the record of this table that held
    the value last time; NULL for values other records hold)."""
    if taken is None:
        table = pa.table({"value": pa.array([], pa.string()), "sourced_id": pa.array([], pa.string())})
    elif isinstance(taken, pa.Table):
        if "value" not in taken.column_names:
            raise ValueError("taken values: a table needs a 'value' column")
        table = taken if "sourced_id" in taken.column_names else taken.append_column(
            "sourced_id", pa.nulls(taken.num_rows, pa.string()))
    else:
        table = pa.table({"value": taken, "sourced_id": pa.nulls(len(taken), pa.string())})
    con.register("__u_taken_arrow", table.select(["value", "sourced_id"]))
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE __u_taken AS SELECT lower(CAST(value AS VARCHAR)) AS key, "
                    "CAST(value AS VARCHAR) AS value, CAST(sourced_id AS VARCHAR) AS sourced_id "
                    "FROM __u_taken_arrow WHERE coalesce(trim(CAST(value AS VARCHAR)), '') <> ''")
    finally:
        con.unregister("__u_taken_arrow")


def resolve_unique(con: duckdb.DuckDBPyConnection, table: str, field: str, eligible: str,
                   taken: pa.Array | pa.ChunkedArray | pa.Table | None) -> str:
    """Make ``table.field`` unique among the rows where ``eligible`` (SQL) holds, against the
    other rows' values and ``taken``. Returns a table ``(rid, value)``: the value of each row
    (by ``table``'s rowid) that takes another, or keeps one it held before."""
    f = ident(field)
    _taken_table(con, taken)
    run = con.execute
    rows = run(f"CREATE OR REPLACE TEMP TABLE __u_rows AS SELECT rowid AS rid, sourced_id AS sid, {f} AS v, "
               f"lower({f}) AS key FROM {table} WHERE {f} IS NOT NULL AND ({eligible})").fetchone()[0]
    run(f"CREATE OR REPLACE TEMP TABLE __u_used AS SELECT DISTINCT key FROM ("
        f"SELECT lower({f}) AS key FROM {table} WHERE {f} IS NOT NULL AND NOT ({eligible}) "
        f"UNION ALL SELECT key FROM __u_taken WHERE sourced_id IS NULL)")
    # 1. The value the record held before, when it is still this value, plain or suffixed.
    run("""CREATE OR REPLACE TEMP TABLE __u_held AS
           SELECT rid, sid, v || substr(t.key, length(r.key) + 1) AS value, t.key AS key FROM __u_rows r
           JOIN __u_taken t ON t.sourced_id = r.sid AND starts_with(t.key, r.key)
           AND regexp_full_match(substr(t.key, length(r.key) + 1), '([1-9][0-9]*)?')
           AND t.key NOT IN (SELECT key FROM __u_used)""")
    # A value two records held, or a record that held two values (rare): the first of each, in
    # this order. The others, nearly all on a later sync, need no ranking: two sorts of a
    # million rows are spared.
    run("CREATE OR REPLACE TEMP TABLE __u_twice AS "
        "SELECT rid FROM __u_held WHERE key IN (SELECT key FROM __u_held GROUP BY key HAVING count(*) > 1) "
        "OR rid IN (SELECT rid FROM __u_held GROUP BY rid HAVING count(*) > 1)")
    run("""CREATE OR REPLACE TEMP TABLE __u_done AS
           SELECT rid, value, key FROM __u_held WHERE rid NOT IN (SELECT rid FROM __u_twice)
           UNION ALL
           SELECT rid, value, key FROM __u_held WHERE rid IN (SELECT rid FROM __u_twice)
           QUALIFY row_number() OVER (PARTITION BY key ORDER BY sid, rid) = 1
                 AND row_number() OVER (PARTITION BY rid ORDER BY key) = 1""")
    run("INSERT INTO __u_used SELECT key FROM __u_done")
    # 2. The first row (by sourced_id) of each value keeps it, unless it is used already: it
    # stays as it is (most rows), the others are ranked among the rows that wait for this value.
    # Only values wanted by more than one row, or used already, need a rank: where they are a
    # minority (as in most districts), the others are left out before the sort; where most rows
    # share their value with another, all are sorted (picking them out would cost more).
    run("CREATE OR REPLACE TEMP TABLE __u_shared AS SELECT key, count(*) AS n FROM __u_rows GROUP BY key HAVING n > 1")
    shared = run("SELECT coalesce(sum(n), 0) FROM __u_shared").fetchone()[0]
    wanted = ("true" if 2 * shared > rows else
              "(key IN (SELECT key FROM __u_shared) OR key IN (SELECT key FROM __u_used))")
    # 3. Most values are settled at once: the row of rank n gets suffix n + 1 (its candidate),
    # which is its smallest free suffix whenever none of the value's suffixes 2 .. rank + 1 is
    # used and no other value's row wants the same string.
    ranks = f"""SELECT rid, v, key, row_number() OVER (PARTITION BY key ORDER BY sid, rid)
                       - CASE WHEN key IN (SELECT key FROM __u_used) THEN 0 ELSE 1 END AS rank
                FROM __u_rows WHERE {wanted} AND rid NOT IN (SELECT rid FROM __u_done)"""
    digits = run(f"SELECT count(*) FROM __u_rows WHERE {_ENDS_IN_DIGIT}").fetchone()[0]
    # In row order: an UPDATE that reads its rows in the table's own order touches each block
    # once; in random order it is a hundred times slower.
    out = f"__unique_{table}"
    if not digits and not run("SELECT count(*) FROM __u_used").fetchone()[0]:
        # Nothing holds a value yet (a first sync) and no value ends in a digit: a suffixed value
        # can meet no other value, so the ranks are the answer, written out at once.
        run(f"CREATE OR REPLACE TEMP TABLE {out} AS SELECT rid, v || (rank + 1) AS value FROM ({ranks}) "
            f"WHERE rank >= 1 ORDER BY rid")
    else:
        run(f"CREATE OR REPLACE TEMP TABLE __u_ranked AS SELECT rid, v, key, rank FROM ({ranks}) WHERE rank >= 1")
        settled = _settle_collisions(run, field, digits)
        run(f"CREATE OR REPLACE TEMP TABLE {out} AS SELECT rid, value FROM ("
            f"SELECT rid, value FROM __u_done UNION ALL SELECT rid, v || (rank + 1) {settled}) ORDER BY rid")
    for name in ("__u_taken", "__u_rows", "__u_used", "__u_held", "__u_twice", "__u_done", "__u_shared",
                 "__u_ranked", "__u_clash", "__u_pending", "__u_state", "__u_free", "__u_won"):
        run(f"DROP TABLE IF EXISTS {name}")
    return out


def _settle_collisions(run: Callable[..., duckdb.DuckDBPyConnection], field: str, digits: int) -> str:
    """The ranked rows whose candidate is used, or wanted by another value's row, settled round
    by round into ``__u_done``; returns the FROM clause of the ranked rows settled by their rank.
    ``digits``: how many rows' values end in a digit."""
    # From here on ``__u_used`` only screens suffixed candidates, which end in a digit: the
    # plain values that cannot collide with one are left out of it.
    if digits:
        run(f"INSERT INTO __u_used SELECT key FROM __u_rows WHERE rid NOT IN (SELECT rid FROM __u_done) "
            f"AND {_ENDS_IN_DIGIT}")
    # Values where either happens go round by round (step 4). Two values' candidates can only be
    # one string when the longer value ends in a digit (``ab1`` + ``2``, ``ab`` + ``12``): without
    # such a value, the candidates are not compared with each other (a million strings grouped).
    clash = "key || (rank + 1) IN (SELECT key FROM __u_used)"
    if digits:
        clash += (" OR key || (rank + 1) IN (SELECT c FROM (SELECT key || (rank + 1) AS c FROM __u_ranked) "
                  "GROUP BY c HAVING count(*) > 1)")
    run(f"CREATE OR REPLACE TEMP TABLE __u_clash AS SELECT DISTINCT key FROM __u_ranked WHERE {clash}")
    settled = "FROM __u_ranked WHERE key NOT IN (SELECT key FROM __u_clash)"
    pending = "SELECT rid, sid, v, key FROM __u_rows"
    if run("SELECT count(*) FROM __u_clash").fetchone()[0]:
        run(f"INSERT INTO __u_used SELECT key || (rank + 1) {settled}")
        pending += " WHERE rid IN (SELECT rid FROM __u_ranked WHERE key IN (SELECT key FROM __u_clash))"
    else:
        pending += " LIMIT 0"
    run(f"CREATE OR REPLACE TEMP TABLE __u_pending AS {pending}")
    # Just enough numbers for the rows that wait, and two more: most keys are done in one round.
    run("CREATE OR REPLACE TEMP TABLE __u_state AS SELECT key, 2 AS start, count(*) + 2 AS width "
        "FROM __u_pending GROUP BY key")
    # 4. The others' suffixes, round by round, until every row has a free value.
    for _ in range(MAX_ROUNDS):
        if run("SELECT count(*) FROM __u_pending").fetchone()[0] == 0:
            break
        run("""CREATE OR REPLACE TEMP TABLE __u_free AS
               SELECT s.key, s.start + g.n AS num, s.key || (s.start + g.n) AS candidate
               FROM __u_state s, LATERAL (SELECT unnest(range(s.width)) AS n) g
               WHERE s.key IN (SELECT key FROM __u_pending)
                 AND s.key || (s.start + g.n) NOT IN (SELECT key FROM __u_used)""")
        run("""CREATE OR REPLACE TEMP TABLE __u_won AS
               WITH p AS (SELECT *, row_number() OVER (PARTITION BY key ORDER BY sid, rid) AS r FROM __u_pending),
                    c AS (SELECT *, row_number() OVER (PARTITION BY key ORDER BY num) AS r FROM __u_free)
               SELECT p.rid, p.v || c.num AS value, c.candidate AS key FROM p JOIN c USING (key, r)
               QUALIFY row_number() OVER (PARTITION BY c.candidate ORDER BY p.sid, p.rid) = 1""")
        run("INSERT INTO __u_done SELECT rid, value, key FROM __u_won")
        run("INSERT INTO __u_used SELECT key FROM __u_won")
        # A value whose window had fewer free numbers than rows looks further next round.
        run("""UPDATE __u_state s SET start = s.start + s.width, width = 2 * s.width
               WHERE (SELECT count(*) FROM __u_free f WHERE f.key = s.key)
                   < (SELECT count(*) FROM __u_pending p WHERE p.key = s.key)""")
        run("DELETE FROM __u_pending WHERE rid IN (SELECT rid FROM __u_won)")
    else:
        raise RuntimeError(f"unique {field}: values still collide after {MAX_ROUNDS} rounds")
    return settled
