"""The one interface every source connector implements.

A connector is a Dagster ``ConfigurableResource``: its own fields are operational limits shared by
every district that uses the kind (retries, time bounds); the connection itself (URL, client id,
``env:VAR`` secrets) comes from the district's integration file and is passed per call. A
connector writes what the API returned into raw tables (``sources/raw_tables.py``); the kind's SQL
models in ``dbt_like_transforms/<models>/`` map those into the canonical model.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar

import dagster as dg
from pydantic import Field

from passport_pipelines.config.integration import Integration
from passport_pipelines.config.secrets import MissingSecretError, resolve_secret
from passport_pipelines.model import entities
from passport_pipelines.sources.errors import HINTS, ConnectorError
from passport_pipelines.sources.http.transport import HttpTransport, RetryPolicy


@dataclass
class ExtractRequest:
    integration: Integration
    source: Any  # the source's config model (config.sources)
    school_year: str
    folder: Path  # where the raw tables go: the sync's archive for this source
    cursor: dict | None = None  # the last committed extract's cursor: set for an incremental pull


@dataclass
class ExtractResult:
    tables: dict[str, int]  # raw table -> records received
    entity_modes: dict[str, str]  # canonical entity -> bulk (complete) | delta (changes) | absent
    cursor: dict = field(default_factory=dict)  # where the next incremental pull starts
    requests: int = 0
    retries: int = 0
    # How the extract was restricted to the sync's school year, or why it could not be: shown
    # in the run (metadata of the extract), since a prior year's backfill depends on it.
    school_year_scope: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class CheckStep:
    name: str
    ok: bool
    detail: str


@dataclass
class ConnectionCheck:
    """What Test Connection found, step by step; ``failure`` is the kind of the first failure."""

    source: str
    type: str
    steps: list[CheckStep] = field(default_factory=list)
    failure: str | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None

    def as_dict(self) -> dict:
        return {"source": self.source, "type": self.type, "ok": self.ok, "failure": self.failure,
                "hint": HINTS.get(self.failure or "", ""), "steps": [asdict(s) for s in self.steps]}


def run_checks(source: Any, steps: list[tuple[str, Callable[[], str]]]) -> ConnectionCheck:
    """Run steps in order until one fails; each returns a short description of what it saw."""
    check = ConnectionCheck(source.name, source.type)
    for name, step in steps:
        try:
            detail = step()
        except ConnectorError as exc:
            check.steps.append(CheckStep(name, False, str(exc)))
            check.failure = exc.kind
            break
        check.steps.append(CheckStep(name, True, detail))
    return check


def secret(source: Any, key: str) -> str | None:
    """Resolve one ``env:VAR`` setting of a source; a missing variable is a connector failure."""
    try:
        return resolve_secret(getattr(source, key))
    except MissingSecretError as exc:
        raise ConnectorError("missing_secret", f"source {source.name}", f"{key}: {exc}") from None


def plain_or_secret(source: Any, key: str) -> str | None:
    """A setting that may be given literally or as ``env:VAR`` (e.g. a client id)."""
    value = getattr(source, key)
    if value is not None and value.startswith("env:"):
        return secret(source, key)
    return value


class SourceConnector(dg.ConfigurableResource, ABC):
    """Reads one kind of source. Subclasses declare their raw tables and SQL models."""

    max_attempts: int = Field(6, description="tries per request before the extract fails")
    max_retry_seconds: float = Field(120.0, description="bound on the time one request may spend retrying")
    base_delay_seconds: float = Field(0.5, description="first backoff step; doubled per retry, with full jitter")

    # The source ``type`` in integration files, the folder of SQL models, the raw tables
    # (name -> context columns) and the canonical entities this kind can feed.
    kind: ClassVar[str]
    models: ClassVar[str]
    raw_tables: ClassVar[dict[str, tuple[str, ...]]]
    feeds: ClassVar[tuple[str, ...]]

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(max_attempts=self.max_attempts, max_total_seconds=self.max_retry_seconds,
                           base_delay=self.base_delay_seconds)

    def transport(self, source: Any) -> HttpTransport:
        return HttpTransport(timeout=source.timeout_seconds, ca_bundle=source.ca_bundle,
                             retry=self.retry_policy(), max_connections=max(2, source.max_concurrency * 2))

    @abstractmethod
    def extract(self, request: ExtractRequest) -> ExtractResult:
        """Fetch every raw table the source's entities need into ``request.folder``."""

    @abstractmethod
    def test_connection(self, integration: Integration, source: Any) -> ConnectionCheck:
        """Check reachability and credentials without reading the whole district."""

    def entity_modes(self, source: Any, mode: str) -> dict[str, str]:
        """``mode`` (bulk|delta) for the entities this source feeds and was asked for; absent otherwise."""
        return {e: (mode if e in self.feeds and source.wants("users" if e == "roles" else e) else "absent")
                for e in entities.ENTITIES}
