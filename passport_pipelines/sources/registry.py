"""Which connector reads which source ``type``, and the Dagster resource key it is bound to."""

from __future__ import annotations

from importlib import import_module

from passport_pipelines.sources.base import SourceConnector

# type in the integration file -> "module:Class". Imported on use, so that a connector's
# dependencies load only where that kind of source is read.
CONNECTORS: dict[str, str] = {
    "powerschool": "passport_pipelines.sources.powerschool.connector:PowerSchoolConnector",
    "oneroster": "passport_pipelines.sources.oneroster_api.connector:OneRosterApiConnector",
    "synergy": "passport_pipelines.sources.synergy.connector:SynergyConnector",
    "xpress": "passport_pipelines.sources.xpress.connector:XpressConnector",
    "google": "passport_pipelines.sources.google_workspace.connector:GoogleWorkspaceConnector",
}


def resource_key(source_type: str) -> str:
    return f"{source_type}_connector"


def connector_class(source_type: str) -> type[SourceConnector]:
    try:
        module, _, name = CONNECTORS[source_type].partition(":")
    except KeyError:
        raise KeyError(f"no API connector for source type {source_type!r}") from None
    return getattr(import_module(module), name)


def default_connectors() -> dict[str, SourceConnector]:
    """One resource per API source type, with the default operational limits."""
    return {resource_key(t): connector_class(t)() for t in CONNECTORS}
