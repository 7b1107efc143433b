"""The rules' last step, one view per table: rows left out dropped, schools renamed to the
district's ids, removed ids taken out of list references, and the SIS id prefix put on every id
the source gave (never on a district school id, which every source shares). The transform runner
reads these views when it stamps provenance and the content hash, so the district is written once.

School ids are looked up by hash joins against the mapping, never by scanning a list per row: a
million-student district has about two thousand schools.
"""

from __future__ import annotations

import duckdb

from passport_pipelines.model import entities
from passport_pipelines.normalize.rules import left_out
from passport_pipelines.normalize.rules.schools import MAPPING
from passport_pipelines.sql.quoting import ident, lit

USER_ORGS = "rules__user_orgs"


def _id_columns(entity: str) -> list[tuple[str, str, bool]]:
    """(column, entity it names, is a list) of every id column of a table."""
    columns = [("sourced_id", "users" if entity == "demographics" else entity, False)]
    return columns + [(r.column, r.entity, r.is_list) for r in entities.REFERENCES.get(entity, ())
                      if r.column != "sourced_id"]


def _prefixed(value: str, prefix: str | None) -> str:
    return value if not prefix else f"({lit(prefix)} || {value})"  # || keeps a NULL NULL


def _user_orgs(con: duckdb.DuckDBPyConnection, users: str, prefix: str | None) -> None:
    """The orgs of each user with more than one, renamed, pruned of removed orgs and prefixed, in
    their order (a user with one org is renamed by a plain join in the final view)."""
    item = f"coalesce(m.district_id, {lit(prefix or '')} || u.org)"
    # Gathered unordered and sorted by position per user: an ordered string_agg sorts the whole
    # input first, three times slower on a district's two hundred thousand staff and guardians.
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {USER_ORGS} AS
        SELECT sourced_id, array_to_string(list_transform(list_sort(list((pos, item))), x -> x[2]), ',')
               AS org_sourced_ids
        FROM (SELECT u.sourced_id, u.pos, {item} AS item
              FROM (SELECT sourced_id, unnest(string_split(org_sourced_ids, ',')) AS org,
                           generate_subscripts(string_split(org_sourced_ids, ','), 1) AS pos
                    FROM {users} WHERE contains(org_sourced_ids, ',')) AS u
              LEFT JOIN {MAPPING} AS m ON m.source_id = u.org
              WHERE u.org NOT IN {left_out.removed_ids('orgs')})
        GROUP BY sourced_id""")


def finish(con: duckdb.DuckDBPyConnection, relations: dict[str, str], changed: set[str],
           prefix: str | None) -> dict[str, str]:
    """The final relation of each table; an untouched table is passed through as it is."""
    removed = {row[0] for row in con.execute(f"SELECT DISTINCT entity FROM {left_out.REMOVED}").fetchall()}
    mapped = con.execute(f"SELECT count(*) FROM {MAPPING}").fetchone()[0] > 0
    gone = left_out.removed_lists(con)
    out = {}
    for entity, relation in relations.items():
        list_refs = dict(left_out.CASCADE_LIST.get(entity, ()))
        prunes = any(t in removed for t in list_refs.values())
        if not (entity in removed or prunes or prefix or entity in changed or mapped):
            out[entity] = relation
            continue
        replaced, joins = [], []
        for i, (column, target, is_list) in enumerate(_id_columns(entity)):
            c = f"t.{ident(column)}"
            if target == "orgs" and is_list:
                if mapped or "orgs" in removed:
                    _user_orgs(con, relation, prefix)
                    joins.append(f"LEFT JOIN {USER_ORGS} AS uo ON uo.sourced_id = t.sourced_id")
                    joins.append(f"LEFT JOIN {MAPPING} AS mo ON mo.source_id = {c}")
                    single = f"coalesce(mo.district_id, {_prefixed(c, prefix)})"
                    replaced.append(f"CASE WHEN {c} IS NULL THEN NULL WHEN contains({c}, ',') THEN uo.org_sourced_ids "
                                    f"ELSE {single} END AS {ident(column)}")
                elif prefix:
                    replaced.append(f"array_to_string(list_transform(string_split({c}, ','), "
                                    f"x -> {lit(prefix)} || x), ',') AS {ident(column)}")
            elif is_list:
                items = (left_out.pruned_list(c, list_refs[column], "g") if column in list_refs
                         else f"string_split({c}, ',')")
                if column in list_refs:  # the removed ids, for the lambda to look in
                    joins.insert(0, f"CROSS JOIN {gone} AS g")
                if prefix:
                    items = f"list_transform({items}, x -> {lit(prefix)} || x)"
                if items != f"string_split({c}, ',')":
                    replaced.append(f"array_to_string({items}, ',') AS {ident(column)}")
            elif target == "orgs" and mapped:
                joins.append(f"LEFT JOIN {MAPPING} AS m{i} ON m{i}.source_id = {c}")
                replaced.append(f"coalesce(m{i}.district_id, {_prefixed(c, prefix)}) AS {ident(column)}")
                if entity == "orgs" and column == "sourced_id":
                    # The district's name and identifier for the schools it knows.
                    replaced += [f"coalesce(m{i}.name, t.name) AS name",
                                 f"coalesce(m{i}.identifier, t.identifier) AS identifier"]
            elif prefix:
                replaced.append(f"{_prefixed(c, prefix)} AS {ident(column)}")
        select = f"t.* REPLACE ({', '.join(replaced)})" if replaced else "t.*"
        sql = f"SELECT {select} FROM {relation} AS t {' '.join(joins)}"
        if entity in removed:
            sql += f" WHERE {left_out.remaining(entity, 't')}"
        out[entity] = f"final__{entity}"
        con.execute(f"CREATE OR REPLACE TEMP VIEW {out[entity]} AS {sql}")
    return out
