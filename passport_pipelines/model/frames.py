"""Canonical tables as pandas DataFrames with the dtypes the pandera model expects."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from passport_pipelines.model import entities

_TYPES = {pa.string(): pd.StringDtype("pyarrow"), pa.large_string(): pd.StringDtype("pyarrow"),
          pa.bool_(): pd.BooleanDtype()}


def to_frame(table: pa.Table) -> pd.DataFrame:
    return table.to_pandas(types_mapper=_TYPES.get, self_destruct=True)


def empty_frame(entity: str) -> pd.DataFrame:
    bools = set(entities.boolean_columns(entity))
    return pd.DataFrame({
        c: pd.Series([], dtype=pd.BooleanDtype() if c in bools else pd.StringDtype("pyarrow"))
        for c in entities.columns(entity)
    })
