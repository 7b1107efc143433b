"""The golden data of a committed version, loaded into DuckDB the way deliveries see it.

Creates, in the connection given:

- ``golden_users`` / ``golden_demographics``: one row per person, ``sourced_id`` = golden id, each
  attribute chosen by the master fields, with reviewers' decisions applied (records marked redundant give
  nothing; taken fields win): the deliveries' own ``golden_view`` (``delivery/golden_frames.py``), with
  every column (``source`` included), read from the store rather than from a delivery snapshot, and
  (``others_only``) possibly without the write-back's own source;
- ``golden_agents``: student <-> guardian links in golden ids;
- ``own_users`` / ``own_demographics``: the records of one source (PowerSchool's), as it gave them,
  with their golden ids: what PowerSchool holds;
- ``org_ids``: every org record's (source, sourced_id, golden_id, identifier);
- ``school_year_dates``: the entry date (first day) and exit date (the day after the last day: PowerSchool
  counts an exit date as the first day not enrolled) of the school year, from its ``schoolYear`` sessions.
"""

from __future__ import annotations

import duckdb

from passport_pipelines.config.integration import Integration
from passport_pipelines.delivery.golden_frames import golden_view, register_keys
from passport_pipelines.reconciliation.review_effects import review_effects
from passport_pipelines.sql.quoting import lit
from passport_pipelines.store.golden_store import GoldenStore

PEOPLE = ("users", "demographics")


def load_golden(con: duckdb.DuckDBPyConnection, store: GoldenStore, integration: Integration, school_year: str,
                own_source: str, *, others_only: bool = False) -> None:
    """The tables above. ``others_only``: golden people built from the other sources' records alone
    (what the rest of the district says about each person), as a destination that is itself a
    source (Google Workspace) needs: its own records would otherwise vote on what it should hold."""
    district = integration.district
    register_keys(con, store, district, school_year)
    effects = review_effects(store, district, school_year)
    for entity in PEOPLE:
        con.register("current_all", store.current_records(district, school_year, entity))
        con.execute(f"CREATE OR REPLACE TEMP TABLE own_{entity} AS SELECT * FROM current_all "
                    f"WHERE source = {lit(own_source)}")
        others = f" WHERE source <> {lit(own_source)}" if others_only else ""
        con.execute(f"CREATE OR REPLACE TEMP VIEW current AS SELECT * FROM current_all{others}")
        view = golden_view(con, entity, "current", effects, integration)
        con.execute(f"CREATE OR REPLACE TEMP TABLE golden_{entity} AS SELECT * FROM {view}")
        con.execute("DROP VIEW current")
        con.unregister("current_all")
    con.register("current", store.current_records(district, school_year, "agents"))
    view = golden_view(con, "agents", "current", effects, integration)
    con.execute(f"CREATE OR REPLACE TEMP TABLE golden_agents AS SELECT user_sourced_id, agent_sourced_id FROM {view}")
    con.unregister("current")
    con.register("current_orgs", store.current_records(district, school_year, "orgs",
                                                       ["source", "sourced_id", "golden_id", "identifier"]))
    con.execute("CREATE OR REPLACE TEMP TABLE org_ids AS SELECT * FROM current_orgs")
    con.unregister("current_orgs")
    ending_year = school_year.split("-")[1]
    con.register("current_sessions", store.current_records(district, school_year, "academic_sessions",
                                                           ["type", "start_date", "end_date", "ending_year"]))
    con.execute(f"""CREATE OR REPLACE TEMP TABLE school_year_dates AS
        SELECT min(start_date) AS entry_date,
               CAST(CAST(max(TRY_CAST(end_date AS DATE)) + INTERVAL 1 DAY AS DATE) AS VARCHAR) AS exit_date
        FROM current_sessions
        WHERE type = 'schoolYear' AND (ending_year IS NULL OR ending_year = {lit(ending_year)})""")
    con.unregister("current_sessions")
