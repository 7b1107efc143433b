"""Where the hub keeps its state, read from the environment.

Every path is resolved when asked for, not at import, so tests and the CLI can point
``PASSPORT_HOME`` somewhere else before they touch anything.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def passport_home() -> Path:
    return Path(os.environ.get("PASSPORT_HOME", "./.passport")).expanduser().resolve()


def database_url() -> str:
    url = os.environ.get("PASSPORT_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{passport_home() / 'passport.db'}"


def integrations_dir() -> Path:
    return Path(os.environ.get("PASSPORT_INTEGRATIONS_DIR", "./integrations")).expanduser().resolve()


def dagster_home() -> Path:
    return Path(os.environ.get("DAGSTER_HOME", str(passport_home() / "dagster"))).expanduser().resolve()


def artifacts_dir() -> Path:
    return passport_home() / "artifacts"


def transforms_dir() -> Path:
    # The SQL models live beside the package; a district may point at its own copy.
    return Path(os.environ.get("PASSPORT_TRANSFORMS_DIR", str(REPO_ROOT / "dbt_like_transforms"))).resolve()


def default_exports_dir(district: str) -> Path:
    return passport_home() / "exports" / district
