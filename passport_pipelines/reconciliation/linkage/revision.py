"""Prepared records carried over from one run to the next.

A sync that changes 1% of a million people should not normalize and encode the other 99% again:
their codes and the attributes' distinct values are kept from the last run (``reconciliation/
people_cache.py``), and ``revise`` applies what changed: records that are gone are dropped, the
changed values of the others are coded in place, new records are appended. Values are coded in the
kept vocabulary, extended by the values it lacks (``encoding.encode_into``), so equal values still
have equal codes and the engine finds exactly what it would find on records prepared from scratch.

Revised records are not in record_key order (the new ones come last): the engine orders the records
of candidate pairs only (``records.in_key_order``).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from passport_pipelines.reconciliation.linkage.encoding import EncodedAttribute, encode_into
from passport_pipelines.reconciliation.linkage.records import PreparedRecords


def revise(base: PreparedRecords, *, keep: np.ndarray | None = None,
           changed: Mapping[str, tuple[np.ndarray, pa.Array]] | None = None,
           added: pa.Table | None = None) -> PreparedRecords:
    """``base`` with these changes, applied in this order:

    - ``changed``: attribute -> (positions, raw values): those records' values replaced (a null or
      blank value blanks the attribute);
    - ``keep``: one bool per record of ``base``: False drops the record;
    - ``added``: new records (``record_key`` and a column for every attribute of ``base``) appended.

    Positions of the result: the kept records in ``base`` order, then the added ones in theirs.
    """
    changed = dict(changed or {})
    unknown = [a for a in changed if not base.has(a)]
    if unknown:
        raise ValueError(f"cannot change attribute(s) {', '.join(unknown)}: the records do not have them")
    keep = np.ones(len(base), dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    if len(keep) != len(base):
        raise ValueError(f"keep has {len(keep)} values for {len(base)} records")
    kept_keys = base.keys if keep.all() else base.keys.filter(pa.array(keep))
    keys = kept_keys
    if added is not None and added.num_rows:
        missing = [a for a in ["record_key", *base.attributes] if a not in added.column_names]
        if missing:
            raise ValueError(f"added records need record_key and every attribute; missing: {', '.join(missing)}")
        new_keys = added.column("record_key").cast(pa.string()).combine_chunks()
        if new_keys.null_count:
            raise ValueError(f"record_key is null in {new_keys.null_count} added record(s)")
        # The few new keys as the set, the million kept ones probed into it.
        clashes = (len(new_keys) - pc.count_distinct(new_keys).as_py()
                   + (pc.sum(pc.is_in(kept_keys, value_set=new_keys)).as_py() or 0))
        if clashes:
            raise ValueError(f"record_key must be unique: {clashes} added record(s) repeat a key")
        keys = pa.concat_arrays([kept_keys, new_keys])
    else:
        added = None

    def revised(name: str) -> EncodedAttribute:
        attribute = base.attributes[name]
        codes, uniques = attribute.codes, attribute.uniques
        if name in changed:
            positions, values = changed[name]
            if len(positions) != len(values):
                raise ValueError(f"{name}: {len(positions)} positions for {len(values)} values")
            new_codes, uniques = encode_into(attribute, values)
            codes = codes.copy()
            codes[np.asarray(positions, dtype=np.int64)] = new_codes
        codes = codes[keep]
        if added is not None:
            new_codes, uniques = encode_into(EncodedAttribute(attribute.kind, codes, uniques), added.column(name))
            codes = np.concatenate([codes, new_codes])
        return EncodedAttribute(attribute.kind, codes, uniques)

    # As in ``prepare``: pyarrow kernels release the GIL, attributes are revised side by side.
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        attributes = dict(zip(base.attributes, pool.map(revised, list(base.attributes))))
    # Dropping records keeps their order; appending does not.
    return PreparedRecords(keys=keys, attributes=attributes, key_ordered=base.key_ordered and added is None)
