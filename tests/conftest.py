"""Shared fixtures: an isolated PASSPORT_HOME per test, and golden stores on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import yaml

DEFAULT_TEST_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def _postgres_base_url() -> str | None:
    """PASSPORT_TEST_POSTGRES_URL (set by .ci/run), else a local server if one answers."""
    url = os.environ.get("PASSPORT_TEST_POSTGRES_URL")
    candidate = url or DEFAULT_TEST_POSTGRES
    try:
        import psycopg

        with psycopg.connect(candidate.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3):
            pass
    except Exception as exc:  # no server: the PostgreSQL half of the suite is skipped, with the reason
        if url:
            raise RuntimeError(f"PASSPORT_TEST_POSTGRES_URL is set but PostgreSQL does not answer: {exc}") from exc
        return None
    return candidate


@pytest.fixture(scope="session")
def postgres_base_url() -> str | None:
    return _postgres_base_url()


@pytest.fixture
def passport_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "passport_home"
    monkeypatch.setenv("PASSPORT_HOME", str(home))
    monkeypatch.setenv("PASSPORT_INTEGRATIONS_DIR", str(tmp_path / "integrations"))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    monkeypatch.delenv("PASSPORT_DATABASE_URL", raising=False)
    (tmp_path / "integrations").mkdir()
    (home / "dagster").mkdir(parents=True)
    return home


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, passport_home, postgres_base_url, monkeypatch):
    """A fresh, empty golden store; PostgreSQL runs in its own schema, dropped afterwards."""
    if request.param == "sqlite":
        url = f"sqlite:///{passport_home / 'passport.db'}"
        monkeypatch.setenv("PASSPORT_DATABASE_URL", url)
        yield url
        return
    if postgres_base_url is None:
        pytest.skip("PostgreSQL not reachable: set PASSPORT_TEST_POSTGRES_URL or start a server on 127.0.0.1:5432")
    import psycopg

    schema = f"passport_test_{uuid.uuid4().hex[:10]}"
    plain = postgres_base_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in postgres_base_url else "?"
    url = f"{postgres_base_url}{sep}options=-csearch_path%3D{schema}"
    monkeypatch.setenv("PASSPORT_DATABASE_URL", url)
    yield url
    from passport_pipelines.resources.golden_store import close_stores

    close_stores()
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def sqlite_store(passport_home, monkeypatch) -> str:
    """A fresh golden store on SQLite only: for whole-sync tests whose PostgreSQL side another test covers."""
    url = f"sqlite:///{passport_home / 'passport.db'}"
    monkeypatch.setenv("PASSPORT_DATABASE_URL", url)
    return url


def write_integration(folder: Path, district: str, sources: list[dict], **extra) -> Path:
    doc = {"district": district, "name": district.title(), "school_years": ["2025-2026"], "sources": sources,
           "destinations": [{"name": "oneroster_export", "type": "oneroster-1.1-csv"}], **extra}
    path = folder / f"{district}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path
