"""Which version of a district's school year the provider serves: the latest one in production.

The golden tables hold the latest *committed* version's records. While a newer version is committed
but not yet in production (its deliveries under way, or failed), the records of the version in
production are no longer in the tables: its snapshot, built before, keeps being served, and a snapshot
is only built while the latest committed version is the one in production. Held, approved and
rejected versions never reach the tables at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from passport_pipelines.store import schema
from passport_pipelines.store.golden_store import GoldenStore, Version, version_of_row
from passport_pipelines.store.version_status import COMMITTED, IN_PRODUCTION


@dataclass(frozen=True)
class Served:
    in_production: Version | None
    buildable: bool  # the golden tables hold exactly its records


def served_version(store: GoldenStore, district: str, school_year: str) -> Served:
    v = schema.versions
    with store.engine.connect() as conn:
        rows = conn.execute(select(v).where(v.c.district == district, v.c.school_year == school_year,
                                            v.c.status.in_(COMMITTED))
                            .order_by(v.c.number.desc()).limit(1)).mappings().all()
        latest = version_of_row(rows[0]) if rows else None
        if latest is not None and latest.status == IN_PRODUCTION:
            return Served(latest, True)
        row = conn.execute(select(v).where(v.c.district == district, v.c.school_year == school_year,
                                           v.c.status == IN_PRODUCTION)
                           .order_by(v.c.number.desc()).limit(1)).mappings().first()
    return Served(version_of_row(row) if row else None, False)
