"""Test Connection: for each source of a district, can we reach it and do the credentials work?

API sources run their connector's own checks (token, then one small read); CSV drops check that
the folder or zip is there, SFTP drops connect with the host key checked and list the remote path.
A drop source whose location depends on the school year is checked at every listed year's location.
Each check names the first step that failed and what kind of failure it was.
"""

from __future__ import annotations

from pathlib import Path

from passport_pipelines.config.integration import Integration
from passport_pipelines.config.sources import CsvFolderSource, SftpSource
from passport_pipelines.config.year_locations import varies_by_year
from passport_pipelines.sources.base import CheckStep, ConnectionCheck, SourceConnector
from passport_pipelines.sources.drops.errors import DropFetchError
from passport_pipelines.sources.drops.locations import drop_for_year
from passport_pipelines.sources.drops.sftp import check_sftp_connection
from passport_pipelines.sources.registry import connector_class
from passport_pipelines.validation.credentials.cipher import KEY_ENV, CredentialsKeyError, current_key
from passport_pipelines.validation.schemas.registry import csv_schema


def _years(integration: Integration, location: object) -> list[str | None]:
    """The school years whose drop locations a check reads: every listed year when the location
    depends on the year (a template or a map), else the one location (None)."""
    return list(integration.school_years) if varies_by_year(location) else [None]


def _step_name(step: str, year: str | None) -> str:
    return f"{step} {year}" if year else step


def _check_folder(integration: Integration, source: CsvFolderSource) -> ConnectionCheck:
    check = ConnectionCheck(source.name, source.type)
    schema = csv_schema(source.schema_)
    for year in _years(integration, source.path):
        try:
            located = drop_for_year(source, year) if year else source
        except DropFetchError as exc:
            check.steps.append(CheckStep(_step_name("read folder", year), False, str(exc)))
            continue
        path = integration.resolve_path(located.path)
        if path.is_dir():
            # A OneRoster folder is found by its manifest, a Passport schema's by its files.
            wanted = ["manifest.csv"] if schema.has_manifest else [f.filename for f in schema.files.values()]
            missing = [name for name in wanted if not (path / name).is_file()]
            check.steps.append(CheckStep(_step_name("read folder", year), not missing, f"{path}: " + (
                f"{', '.join(wanted)} found" if not missing else f"no {', '.join(missing)} in the folder")))
        elif path.is_file():
            size = Path(path).stat().st_size
            check.steps.append(CheckStep(_step_name("read zip", year), True, f"{path}: {size} bytes"))
        else:
            check.steps.append(CheckStep(_step_name("read folder", year), False, f"{path} does not exist"))
    if not all(s.ok for s in check.steps):
        check.failure = "drop_unavailable"
    return check


def _check_secrets_key(check: ConnectionCheck, source: CsvFolderSource | SftpSource) -> ConnectionCheck:
    """A drop of secrets cannot be synced without the key that encrypts them at rest."""
    if csv_schema(source.schema_).holds_secrets:
        try:
            key = current_key()
            check.steps.append(CheckStep("credentials key", True, f"{KEY_ENV} is set (key id {key.key_id})"))
        except CredentialsKeyError as exc:
            check.steps.append(CheckStep("credentials key", False, str(exc)))
            check.failure = check.failure or "missing_secret"
    return check


def _check_sftp(integration: Integration, source: SftpSource) -> ConnectionCheck:
    check = ConnectionCheck(source.name, source.type)
    for year in _years(integration, source.remote_path):
        name = _step_name("connect and list", year)
        try:
            located = drop_for_year(source, year) if year else source
            check.steps.append(CheckStep(name, True, check_sftp_connection(located, integration)))
        except DropFetchError as exc:
            check.steps.append(CheckStep(name, False, str(exc)))
            check.failure = "drop_unavailable"
    return check


# A check answers in seconds: one retry of a failed request, not a sync's patience.
CHECK_ATTEMPTS = 2
CHECK_RETRY_SECONDS = 10.0


def _impatient(connectors: dict[str, SourceConnector] | None, source_type: str) -> SourceConnector:
    configured = (connectors or {}).get(source_type) or connector_class(source_type)()
    return type(configured)(max_attempts=min(configured.max_attempts, CHECK_ATTEMPTS),
                            max_retry_seconds=min(configured.max_retry_seconds, CHECK_RETRY_SECONDS),
                            base_delay_seconds=configured.base_delay_seconds)


def check_sources(integration: Integration, source_name: str | None = None,
                  connectors: dict[str, SourceConnector] | None = None) -> list[ConnectionCheck]:
    """Checks of every source (or the one named), in the order of the integration file."""
    sources = [integration.source(source_name)] if source_name else list(integration.sources)
    checks = []
    for source in sources:
        if isinstance(source, CsvFolderSource):
            checks.append(_check_secrets_key(_check_folder(integration, source), source))
        elif isinstance(source, SftpSource):
            checks.append(_check_secrets_key(_check_sftp(integration, source), source))
        else:
            checks.append(_impatient(connectors, source.type).test_connection(integration, source))
    return checks
