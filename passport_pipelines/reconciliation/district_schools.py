"""One golden school per district school, whatever the number of sources mapped to it.

A source's ``schools`` mapping gives its schools the district's school ids (``normalize/rules/schools.py``), the
same in every source; each such copy takes one golden id, so the school is delivered once and every
source's references resolve to it. That golden id is the one already on record for the school (from the
source ranked first that has it: a school delivered before keeps its id), else the district school's own
(``changes.changeset.district_school_golden_id``).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from passport_pipelines.model.change_set import district_school_golden_id
from passport_pipelines.store.golden_store import GoldenStore


def district_school_golden_ids(store: GoldenStore, *, district: str, school_year: str, mapped: dict[str, list[str]],
                               source_order: list[str], aliases: dict[str, str] | None = None) -> pa.Table:
    """``(source, sourced_id, golden_id)`` of every district school each mapped source may carry.
    ``mapped``: source -> the district school ids its mapping gives; ``aliases``: a renamed source's
    old name -> its name, so that its schools on record count as its own."""
    if not mapped:
        return _table([], [], [])
    ids = sorted({i for found in mapped.values() for i in found})
    aliases = aliases or {}
    owners = {*mapped, *(old for old, new in aliases.items() if new in mapped)}
    orgs = store.current_records(district, school_year, "orgs", ["source", "sourced_id", "golden_id", "type"])
    orgs = orgs.filter(pc.and_(pc.equal(orgs.column("type"), "school"),
                               pc.and_(pc.is_in(orgs.column("source"), pa.array(sorted(owners), pa.string())),
                                       pc.is_in(orgs.column("sourced_id"), pa.array(ids, pa.string())))))
    rank = {name: i for i, name in enumerate(source_order)}
    chosen: dict[str, tuple[int, str]] = {}
    # A district lists a few thousand schools at most: a loop over them, not over people.
    for source, school, golden in zip(orgs.column("source").to_pylist(), orgs.column("sourced_id").to_pylist(),
                                      orgs.column("golden_id").to_pylist()):
        at = rank.get(aliases.get(source, source), len(rank))
        if school not in chosen or (at, golden) < chosen[school]:
            chosen[school] = (at, golden)
    sources, schools, golden_ids = [], [], []
    for source, found in mapped.items():
        for school in found:
            sources.append(source)
            schools.append(school)
            golden_ids.append(chosen[school][1] if school in chosen else district_school_golden_id(district, school))
    return _table(sources, schools, golden_ids)


def _table(sources: list[str], schools: list[str], golden_ids: list[str]) -> pa.Table:
    return pa.table({"source": pa.array(sources, pa.string()), "sourced_id": pa.array(schools, pa.string()),
                     "golden_id": pa.array(golden_ids, pa.string())})
