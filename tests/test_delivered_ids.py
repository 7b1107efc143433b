"""Delivered ids (delivery/delivered_ids.py): every id and reference of a record delivered as a golden id."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from passport_pipelines.delivery.delivered_ids import delivered_view
from passport_pipelines.model import entities


def _users(org_lists: list[str | None]) -> pa.Table:
    n = len(org_lists)
    columns = {c: pa.array([None] * n, pa.string()) for c in entities.columns("users")}
    columns["sourced_id"] = pa.array([f"u{i}" for i in range(n)])
    columns["source"] = pa.array(["sis"] * n)
    columns["org_sourced_ids"] = pa.array(org_lists, pa.string())
    return pa.table({"golden_id": pa.array([f"usr-{i}" for i in range(n)]), **columns})


def test_a_list_of_references_maps_each_id_in_its_order_and_drops_those_that_resolve_to_nothing():
    lists = [None, "", "s1", "s9", "s2,s1", "s1,s9,s2", "s9,s8", "s1,", "s1,s1", "s2"]
    con = duckdb.connect()
    con.register("people", _users(lists))
    con.register("org_keys", pa.table({"source": ["sis", "sis", "other"], "sourced_id": ["s1", "s2", "s9"],
                                       "golden_id": ["org-1", "org-2", "org-other"]}))
    view = delivered_view(con, "users", "people", {"orgs": "org_keys"})
    got = dict(con.execute(f"SELECT sourced_id, org_sourced_ids FROM {view}").fetchall())
    # s9 is another source's id: a reference resolves within the record's own source only.
    assert got == {"usr-0": None, "usr-1": None, "usr-2": "org-1", "usr-3": None, "usr-4": "org-2,org-1",
                   "usr-5": "org-1,org-2", "usr-6": None, "usr-7": "org-1", "usr-8": "org-1,org-1",
                   "usr-9": "org-2"}
