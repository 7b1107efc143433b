"""Partitions of every sync asset: district (registered from integration files) × school year."""

from __future__ import annotations

import dagster as dg

DISTRICT = "district"
SCHOOL_YEAR = "school_year"

district_partitions = dg.DynamicPartitionsDefinition(name=DISTRICT)

# A fixed span of years keeps partition keys stable; prior years are backfilled from it.
SCHOOL_YEARS = [f"{y}-{y + 1}" for y in range(2015, 2036)]
school_year_partitions = dg.StaticPartitionsDefinition(SCHOOL_YEARS)

sync_partitions = dg.MultiPartitionsDefinition({DISTRICT: district_partitions, SCHOOL_YEAR: school_year_partitions})


def partition_of(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> tuple[str, str]:
    key = context.partition_key
    if not isinstance(key, dg.MultiPartitionKey):
        raise ValueError(f"expected a district|school_year partition, got {key!r}")
    dims = key.keys_by_dimension
    return dims[DISTRICT], dims[SCHOOL_YEAR]


def sync_partition_key(district: str, school_year: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({DISTRICT: district, SCHOOL_YEAR: school_year})
