"""Integration files as a Dagster resource, read fresh at every run so edits apply to the next sync."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from passport_pipelines import settings
from passport_pipelines.config.integration import Integration
from passport_pipelines.config.loader import load_all, load_district


class IntegrationsResource(dg.ConfigurableResource):
    """The folder of per-district YAML files (PASSPORT_INTEGRATIONS_DIR by default)."""

    directory: str | None = None

    def folder(self) -> Path:
        return Path(self.directory).resolve() if self.directory else settings.integrations_dir()

    def load(self, district: str) -> Integration:
        return load_district(district, self.folder())

    def load_all(self) -> tuple[dict[str, Integration], list[str]]:
        return load_all(self.folder())
