"""Canonical tables as pandas DataFrames with the dtypes the pandera model expects."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa


_TYPES = {pa.string(): pd.StringDtype("pyarrow"), pa.large_string(): pd.StringDtype("pyarrow"),
          pa.bool_(): pd.BooleanDtype()}


def to_frame(table: pa.Table) -> pd.DataFrame:
    return table.to_pandas(types_mapper=_TYPES.get, self_destruct=True)

