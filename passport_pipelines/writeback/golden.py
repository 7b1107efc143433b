"""The golden data of a committed version, loaded into DuckDB the way deliveries see it.

Creates, in the connection given:

- ``golden_users`` / ``golden_demographics``: one row per person, ``sourced_id`` = golden id, each
  attribute chosen by the master fields (``reconciliation/golden_people.py``), with reviewers'
  decisions applied (records marked redundant give nothing; taken fields win);
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
from passport_pipelines.delivery.delivered_ids import REFERENCED, delivered_view
from passport_pipelines.reconciliation.golden_people import golden_people_view
from passport_pipelines.reconciliation.review_effects import review_effects
from passport_pipelines.store.golden_store import GoldenStore
from passport_pipelines.transforms.sql_text import lit

PEOPLE = ("users", "demographics")


def load_golden(con: duckdb.DuckDBPyConnection, store: GoldenStore, integration: Integration, school_year: str,
                own_source: str, *, others_only: bool = False) -> None:
    """The tables above. ``others_only``: golden people built from the other sources' records alone
    (what the rest of the district says about each person), as a destination that is itself a
    source (Google Workspace) needs: its own records would otherwise vote on what it should hold."""
    district = integration.district
    keys = {}
    for entity in REFERENCED:
        con.register(f"keys__{entity}", store.current_keys(district, school_year, entity, merged=entity == "users"))
        keys[entity] = f"keys__{entity}"
    effects = review_effects(store, district, school_year)
    ignored = effects.ignored_of("users")
    con.register("wb_ignored", ignored)
    sources = [s.name for s in integration.sources]
    for entity in PEOPLE:
        con.register("current_all", store.current_records(district, school_year, entity))
        con.execute(f"CREATE OR REPLACE TEMP TABLE own_{entity} AS SELECT * FROM current_all "
                    f"WHERE source = {lit(own_source)}")
        others = f" WHERE source <> {lit(own_source)}" if others_only else ""
        con.execute(f"CREATE OR REPLACE TEMP VIEW current AS SELECT * FROM current_all{others}")
        relation = "current"
        if entity == "users" and ignored.num_rows:
            con.execute("CREATE OR REPLACE TEMP VIEW current_people AS SELECT * FROM current AS c WHERE NOT EXISTS "
                        "(SELECT 1 FROM wb_ignored AS i WHERE i.source = c.source AND i.sourced_id = c.sourced_id)")
            relation = "current_people"
        view = delivered_view(con, entity, relation, keys)
        takes = effects.takes[entity]
        con.register(f"takes__{entity}", takes)
        view = golden_people_view(con, entity, view, master_fields=integration.master_fields, sources=sources,
                                  takes=f"takes__{entity}" if takes.num_rows else None)
        con.execute(f"CREATE OR REPLACE TEMP TABLE golden_{entity} AS SELECT * FROM {view}")
        con.execute("DROP VIEW current")
        con.unregister("current_all")
    con.register("current", store.current_records(district, school_year, "agents"))
    view = delivered_view(con, "agents", "current", keys)
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
