"""Partitions of every sync asset: district × school year, both registered from the integration files.

Both dimensions are dynamic: the ``integration_registry`` sensor (and ``passport sync``) add each
district with an integration file and each school year some district syncs, so the partition
picker offers the years districts really have rather than a fixed span. A district × year that
the district's file does not list is still a key of the grid (another district syncs that year);
its runs are refused by the ``integration_settings`` asset, before anything is read.
"""

from __future__ import annotations

import warnings
from typing import Callable

import dagster as dg

DISTRICT = "district"
SCHOOL_YEAR = "school_year"

district_partitions = dg.DynamicPartitionsDefinition(name=DISTRICT)
school_year_partitions = dg.DynamicPartitionsDefinition(name=SCHOOL_YEAR)

sync_partitions = dg.MultiPartitionsDefinition({DISTRICT: district_partitions, SCHOOL_YEAR: school_year_partitions})


def partition_of(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> tuple[str, str]:
    key = context.partition_key
    if not isinstance(key, dg.MultiPartitionKey):
        raise ValueError(f"expected a district|school_year partition, got {key!r}")
    dims = key.keys_by_dimension
    return dims[DISTRICT], dims[SCHOOL_YEAR]


def sync_partition_key(district: str, school_year: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({DISTRICT: district, SCHOOL_YEAR: school_year})


def register_sync_partition(instance: dg.DagsterInstance, district: str, school_year: str) -> None:
    """Add the district and the school year to their dimensions, if they are not there yet."""
    for definition, key in ((district_partitions, district), (school_year_partitions, school_year)):
        if not instance.has_dynamic_partition(definition.name, key):
            instance.add_dynamic_partitions(definition.name, [key])


def sync_check(name: str, *, asset: str, description: str, blocking: bool = False) -> dg.AssetCheckSpec:
    """An asset check whose results are recorded on the district × school year partition of the run,
    so that one district's failing check is not hidden by the next district's passing one.

    Partitioned checks are a preview feature of Dagster 1.13 (dagster is pinned to one release in
    pyproject.toml); its warning is expected here and silenced, nowhere else."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=dg.PreviewWarning)
        return dg.AssetCheckSpec(name, asset=asset, description=description, blocking=blocking,
                                 partitions_def=sync_partitions)


def sync_asset_check(*, asset: str | dg.AssetsDefinition, name: str, description: str, blocking: bool = False,
                     **kwargs) -> Callable[[Callable[..., dg.AssetCheckResult]], dg.AssetChecksDefinition]:
    """``@dg.asset_check`` for a check of its own (it can be executed alone, from the asset's Checks
    tab), recorded on the district × school year partition as ``sync_check`` does; ``kwargs`` go to
    ``dg.asset_check`` (``additional_ins``, ...)."""
    def decorate(fn: Callable[..., dg.AssetCheckResult]) -> dg.AssetChecksDefinition:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=dg.PreviewWarning)
            return dg.asset_check(asset=asset, name=name, description=description, blocking=blocking,
                                  partitions_def=sync_partitions, **kwargs)(fn)
    return decorate
