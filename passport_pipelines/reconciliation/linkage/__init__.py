"""The duplicate-detection engine, a pure library (no Dagster, no database): person records in, explained
pairs and clusters out. Domains of uniqueness in priority order, blocking with recordlinkage, vectorized
similarity with rapidfuzz, learned match weights, the twin guard and clusters of merged records.
Entry point ``find_duplicates`` (``engine``); its API and settings are in docs/reconciliation.md."""

from passport_pipelines.reconciliation.linkage.engine import find_duplicates
from passport_pipelines.reconciliation.linkage.result import CLUSTERS_SCHEMA, PAIRS_SCHEMA, LinkageResult

__all__ = ["find_duplicates", "LinkageResult", "PAIRS_SCHEMA", "CLUSTERS_SCHEMA"]
