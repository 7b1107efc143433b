"""From a validated OneRoster CSV drop to canonical tables, through the SQL models."""

from __future__ import annotations

from passport_pipelines import settings
from passport_pipelines.oneroster_csv.spec import VERSIONS, files_for
from passport_pipelines.oneroster_csv.validation import ValidatedDrop
from passport_pipelines.transforms.runner import run_models

SOURCE_KIND = "oneroster_csv"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def entity_modes(drop: ValidatedDrop) -> dict[str, str]:
    """How each canonical entity was delivered: bulk (complete), delta, or absent (untouched)."""
    modes = drop.modes
    users = modes.get("users", "absent")
    roles = modes.get("roles", "absent") if drop.schema == "oneroster-1.2" else users
    return {
        "orgs": modes.get("orgs", "absent"),
        "academic_sessions": modes.get("academicSessions", "absent"),
        "courses": modes.get("courses", "absent"),
        "classes": modes.get("classes", "absent"),
        "users": users,
        "roles": roles,
        "enrollments": modes.get("enrollments", "absent"),
        "demographics": modes.get("demographics", "absent"),
        "agents": users,
    }


def _conform(drop: ValidatedDrop, name: str) -> str:
    """A relation with the columns of both OneRoster versions, so one set of models reads either."""
    union: list[str] = []
    for version in VERSIONS:
        spec = files_for(version).get(name)
        if spec:
            union += [c for c in spec.names if c not in union]
    relation = f"raw__{name}"
    if name in drop.present:
        have = [row[0] for row in drop.con.execute(f"DESCRIBE {name}").fetchall()]
        cols = [(_q(c) if c in have else f"CAST(NULL AS VARCHAR) AS {_q(c)}") for c in union]
        cols += [_q(c) for c in have if c.startswith("metadata.")]
        drop.con.execute(f"CREATE OR REPLACE TEMP VIEW {relation} AS SELECT {', '.join(cols)} FROM {name}")
    else:
        cols = [f"CAST(NULL AS VARCHAR) AS {_q(c)}" for c in union]
        drop.con.execute(f"CREATE OR REPLACE TEMP VIEW {relation} AS SELECT {', '.join(cols)} WHERE false")
    return relation


def normalize_drop(drop: ValidatedDrop, *, source: str, district: str, school_year: str) -> dict[str, str]:
    """Canonical entity -> relation in ``drop.con`` holding its rows."""
    names = set(files_for("1.1")) | set(files_for("1.2"))
    sources = {name: _conform(drop, name) for name in sorted(names)}
    return run_models(
        drop.con,
        settings.transforms_dir() / SOURCE_KIND,
        SOURCE_KIND,
        sources,
        {"source": source, "district": district, "school_year": school_year},
    )
