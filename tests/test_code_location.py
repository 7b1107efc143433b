"""The code location loads cleanly: no deprecation warnings from our code, the expected assets."""

from __future__ import annotations

import importlib
import sys
import warnings


def test_definitions_load_without_warnings_from_our_code():
    for name in [m for m in sys.modules if m.startswith("passport_pipelines")]:
        del sys.modules[name]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module("passport_pipelines.definitions")
        defs = module.defs
        repo = defs.get_repository_def()
        repo.get_all_jobs()
    ours = [w for w in caught if "passport_pipelines" in str(w.filename)]
    assert ours == [], [str(w.message) for w in ours]
    keys = {k.to_user_string() for k in defs.resolve_all_asset_keys()}
    assert keys == {"source_extracts", "normalized_rosters", "roster_changes", "golden_records", "oneroster_exports"}
    checks = {k.name for k in defs.resolve_asset_graph().asset_check_keys}
    assert checks == {"drop_is_valid", "references_resolve", "canonical_schema"}
