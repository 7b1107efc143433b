"""Schools mapping: the source's schools renamed to the district's own school ids, everywhere they
are referenced; data of schools that map to none is left out (and reported by id)."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa

from passport_pipelines.config.rules import SchoolsMapping
from passport_pipelines.normalize.rules import left_out
from passport_pipelines.sql.quoting import lit

MAPPING = "rules__school_map"


@dataclass
class SchoolsResult:
    mapped: int
    unmapped: list[str]  # source school ids whose data was left out


def _table(con: duckdb.DuckDBPyConnection, name: str, columns: dict[str, list]) -> None:
    arrow = pa.table({c: pa.array(v, pa.string()) for c, v in columns.items()})
    con.register(f"{name}_arrow", arrow)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
    finally:
        con.unregister(f"{name}_arrow")


def _build_mapping(con, orgs: str, mapping: SchoolsMapping, district_schools: list) -> None:
    # Arrow tables, not executemany: a large district lists a few thousand schools, and DuckDB
    # runs an INSERT per row of executemany.
    _table(con, "rules__district_schools", {"id": [s.id for s in district_schools],
                                            "name": [s.name for s in district_schools],
                                            "identifier": [s.identifier for s in district_schools]})
    if mapping.mode == "auto":
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {MAPPING} AS
            SELECT o.sourced_id AS source_id, d.id AS district_id, d.name, d.identifier
            FROM {orgs} AS o JOIN rules__district_schools AS d ON o.identifier = d.identifier
            WHERE o.type = 'school'""")
    else:
        _table(con, "rules__explicit", {"source_id": list(mapping.map), "district_id": list(mapping.map.values())})
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {MAPPING} AS
            SELECT m.source_id, m.district_id, d.name, d.identifier
            FROM rules__explicit AS m LEFT JOIN rules__district_schools AS d ON d.id = m.district_id""")


def map_schools(con: duckdb.DuckDBPyConnection, relations: dict[str, str], mapping: SchoolsMapping,
                district_schools: list) -> SchoolsResult:
    """Builds the mapping and leaves out the schools that map to none. The rename itself happens
    in the last pass (``normalize/rules/finish.py``); until then the rules see the source's own ids."""
    orgs = relations["orgs"]
    _build_mapping(con, orgs, mapping, district_schools)
    unmapped = [r[0] for r in con.execute(
        f"SELECT sourced_id FROM {orgs} WHERE type = 'school' AND sourced_id NOT IN (SELECT source_id FROM {MAPPING}) "
        "ORDER BY sourced_id").fetchall()]
    left_out.remove_where(con, orgs, "orgs", f"type = 'school' AND sourced_id NOT IN (SELECT source_id FROM {MAPPING})")
    mapped = con.execute(f"SELECT count(*) FROM {MAPPING}").fetchone()[0]
    return SchoolsResult(mapped, unmapped)


def source_school_ids(district_or_source_ids: list[str]) -> str:
    """SQL list of the source ids of schools named by district id (or by their own id)."""
    given = ", ".join(lit(i) for i in district_or_source_ids)
    return (f"(list_concat([{given}]::VARCHAR[], (SELECT coalesce(list(source_id), []::VARCHAR[]) "
            f"FROM {MAPPING} WHERE district_id IN ({given}))))")


def no_mapping(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE OR REPLACE TEMP TABLE {MAPPING} (source_id VARCHAR, district_id VARCHAR)")
