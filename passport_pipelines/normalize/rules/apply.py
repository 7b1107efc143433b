"""The rules stage: a source's integration rules applied to its canonical tables in DuckDB, in
the order ``config/rules.py`` documents, with a report of what each rule did.

Values change first (attributes and transforms, one rewrite of the models' tables; schools), then
removals are only recorded (filters, requirements and what depends on what they removed), and one
last projection per table (``normalize/rules/finish.py``, a view) is computed as the runner writes the
canonical Parquet files: the district's rows are written once.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterator

import duckdb
import pyarrow as pa

from passport_pipelines.config.rules import SchoolsMapping
from passport_pipelines.normalize.rules import left_out
from passport_pipelines.normalize.rules.attributes import attribute_mapping, check_true_false_values
from passport_pipelines.normalize.rules.filters import apply_filters
from passport_pipelines.normalize.rules.finish import finish
from passport_pipelines.normalize.rules.requirements import check_requirements
from passport_pipelines.normalize.rules.schools import map_schools, no_mapping
from passport_pipelines.normalize.rules.transformations import apply_transforms


@dataclass
class RulesReport:
    transforms: dict[str, int] = field(default_factory=dict)  # values changed per rule
    schools_mapped: int | None = None
    unmapped_schools: list[str] = field(default_factory=list)
    filters: dict[str, int] = field(default_factory=dict)  # rows left out per rule
    requirements: list[dict] = field(default_factory=list)
    cascaded: dict[str, int] = field(default_factory=dict)  # rows left out with what they depended on
    left_out: dict[str, int] = field(default_factory=dict)  # all rows left out, per entity
    seconds: dict[str, float] = field(default_factory=dict)  # time per step, for the run's metadata

    def as_dict(self) -> dict:
        return asdict(self)


def _schools_mapping(source) -> SchoolsMapping | None:
    if source.schools is None:
        return None
    return SchoolsMapping(mode="auto") if source.schools == "auto" else source.schools


def apply_rules(con: duckdb.DuckDBPyConnection, outputs: dict[str, str], source, integration, school_year: str,
                taken: Callable[[str], pa.Array | pa.Table | None] | None = None
                ) -> tuple[dict[str, str], RulesReport]:
    """The source's rules on its canonical relations; returns the new relations and the report."""
    report = RulesReport()
    if not source.has_rules():
        return outputs, report
    relations = dict(outputs)
    changed: set[str] = set()
    clock = _Clock(report.seconds)
    left_out.start(con)
    no_mapping(con)

    # The attribute mapping is the first layer of the table's transforms: one rewrite for both.
    with clock("attributes_and_transforms"):
        for entity in dict.fromkeys([*source.attributes, *source.transforms]):
            if entity in source.attributes:
                check_true_false_values(con, relations[entity], entity, source.attributes[entity], source.name)
            mapping = attribute_mapping(entity, source.attributes[entity]) if entity in source.attributes else []
            relations[entity], counts = apply_transforms(con, relations[entity], entity,
                                                         source.transforms.get(entity, []), taken=taken,
                                                         mapping=mapping, rehash=False)  # hashed by the runner
            report.transforms.update(counts)
            changed.add(entity)
    mapping = _schools_mapping(source)
    if mapping is not None:
        with clock("schools"):
            result = map_schools(con, relations, mapping, integration.schools)
        changed |= {"orgs", "courses", "classes", "users", "roles", "enrollments"}
        report.schools_mapped, report.unmapped_schools = result.mapped, result.unmapped

    seen: dict[str, int] = {}  # what each cascade has looked at already
    with clock("filters"):
        report.filters = apply_filters(con, relations, source.filters, school_year)
    with clock("cascade"):
        _add(report.cascaded, left_out.cascade(con, relations, seen))
    with clock("requirements"):
        report.requirements = [asdict(r) for r in check_requirements(con, relations, source.requirements)]
    with clock("cascade"):
        _add(report.cascaded, left_out.cascade(con, relations, seen))

    report.left_out = {entity: n for entity, n in con.execute(
        f"SELECT entity, count(DISTINCT id) FROM {left_out.REMOVED} GROUP BY entity ORDER BY entity").fetchall()}
    with clock("finish"):
        return finish(con, relations, changed, source.sis_id_prefix), report


class _Clock:
    def __init__(self, seconds: dict[str, float]):
        self.seconds = seconds

    @contextmanager
    def __call__(self, step: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[step] = round(self.seconds.get(step, 0.0) + time.perf_counter() - started, 2)


def _add(total: dict[str, int], more: dict[str, int]) -> None:
    for k, v in more.items():
        total[k] = total.get(k, 0) + v
