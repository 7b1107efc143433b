"""What one stage hands the next: typed, frozen, written per run as JSON that names its type and read
back as that type; and the held change set, a versioned format that refuses what it cannot read."""

from __future__ import annotations

import dataclasses
import json

import dagster as dg
import pytest
from dagster._core.types.dagster_type import resolve_dagster_type

from passport_pipelines.changes.handoff import (
    HELD_FORMAT,
    HELD_FORMAT_VERSION,
    CommittedVersion,
    HeldFormatError,
    HeldVersion,
    SyncChanges,
)
from passport_pipelines.changes.roster_changes import RosterChanges
from passport_pipelines.normalize.handoff import NormalizedRosters
from passport_pipelines.normalize.rosters import NormalizedSource
from passport_pipelines.resources.run_handoffs import (
    RunHandoffIOManager,
    _decode,
    _encode,
)
from passport_pipelines.validation.extract import SourceExtract
from passport_pipelines.validation.handoff import ApiExtracts, SourceExtracts

EXTRACT = SourceExtract(source="sis", schema="oneroster-1.1", upload_mode="bulk", folder="/w/sis", archive="/a/sis",
                        file_modes={"users": "bulk"}, rows={"users": 3}, filtered={"users": 1}, ok=True,
                        fingerprint="f1", left_out={"users": {"reference.missing": 1}})
NORMALIZED = NormalizedSource(source="sis", upload_mode="bulk", folder="/w/n/sis", entity_modes={"users": "bulk"},
                              rows={"users": 2}, fingerprint="n1", rules={"filters": {}})
CHANGES = RosterChanges(folder="/w/c", base_version_id=4, counts={"users": {"added": 2, "updated": 0, "deleted": 0}},
                        sources=["sis"], duplicates_folder="/w/c/__duplicates")
EXTRACTS = SourceExtracts(run_id="run-1", started_at="2026-12-07T08:00:00+00:00", sources=(EXTRACT,))
SYNC = SyncChanges(run_id="run-1", started_at=EXTRACTS.started_at, sources=(EXTRACT,), normalized=(NORMALIZED,),
                   changes=CHANGES, on_record={"users": 10}, identities={"sis": {"name": "sis"}},
                   held_version=HeldVersion(7, 2))


@pytest.mark.parametrize("handoff", [
    ApiExtracts((EXTRACT,)), ApiExtracts(), EXTRACTS,
    NormalizedRosters(EXTRACTS, (NORMALIZED,), {"sis": {"users": {"read": 3}}}),
    SYNC, dataclasses.replace(SYNC, held_version=None, commit=False), CommittedVersion(11, 3),
], ids=lambda h: type(h).__name__)
def test_each_handoff_comes_back_as_what_was_handed_on(handoff):
    written = json.loads(json.dumps(_encode(handoff)))
    assert written["handoff"] == type(handoff).__name__
    assert _decode(written, context=None) == handoff


def test_handoffs_are_frozen_and_carry_no_partition():
    with pytest.raises(dataclasses.FrozenInstanceError):
        EXTRACTS.run_id = "other"  # type: ignore[misc]
    # The district and school year are the run's partition, read by each asset; never handed on.
    for handoff in (EXTRACTS, SYNC):
        assert not {"district", "school_year"} & set(handoff.to_json())


def test_the_io_manager_files_and_reads_a_typed_handoff_per_run(passport_home):
    manager = RunHandoffIOManager()
    key = dg.AssetKey("golden_records")
    out = dg.build_output_context(asset_key=key, run_id="run-a", partition_key="lakeside|2025-2026",
                                  dagster_type=resolve_dagster_type(CommittedVersion))
    manager.handle_output(out, CommittedVersion(11, 3))
    [written] = (passport_home / "artifacts" / "handoffs" / "run-a").glob("*.json")
    assert json.loads(written.read_text()) == {"handoff": "CommittedVersion", "value": {"id": 11, "number": 3}}
    loaded = manager.load_input(dg.build_input_context(
        asset_key=key, partition_key="lakeside|2025-2026", dagster_type=resolve_dagster_type(CommittedVersion),
        upstream_output=dg.build_output_context(asset_key=key, run_id="run-a", partition_key="lakeside|2025-2026")))
    assert loaded == CommittedVersion(11, 3)


def test_a_handoff_written_before_it_was_typed_is_read_as_the_input_type():
    # A delivery retried after an upgrade reads the commit's older hand-off: the version row's dict.
    context = dg.build_input_context(dagster_type=resolve_dagster_type(CommittedVersion))
    assert _decode({"id": 11, "version": 3, "status": "committed"}, context) == CommittedVersion(11, 3)
    older = {"district": "lakeside", "school_year": "2025-2026", "run_id": "run-1",
             "started_at": EXTRACTS.started_at, "sources": [EXTRACT.as_dict()],
             "normalized": [NORMALIZED.__dict__], "accounting": {}}
    context = dg.build_input_context(dagster_type=resolve_dagster_type(NormalizedRosters))
    assert _decode(older, context) == NormalizedRosters(EXTRACTS, (NORMALIZED,), {})


def test_a_held_change_set_is_versioned_and_documented_keys_only():
    held = SYNC.held_change_set()
    assert (held["format"], held["format_version"]) == (HELD_FORMAT, HELD_FORMAT_VERSION) == (
        "passport.held_change_set", 1)
    assert set(held) == {"format", "format_version", "run_id", "started_at", "sources", "normalized", "changes",
                         "on_record", "identities", "held_folder"}
    back = SyncChanges.from_json(json.loads(json.dumps(held)))
    # What the approval's run commits: the change set itself, not whether this run held it.
    assert back == dataclasses.replace(SYNC, held_version=None)


def test_a_change_set_held_before_the_format_was_versioned_is_read():
    older = {k: v for k, v in SYNC.held_change_set().items() if k not in ("format", "format_version")}
    older.update(district="lakeside", school_year="2025-2026", accounting={})  # what the old payload also had
    assert SyncChanges.from_json(older) == dataclasses.replace(SYNC, held_version=None)


@pytest.mark.parametrize("change", [{"format_version": 2}, {"format": "something.else"}])
def test_a_held_change_set_of_an_unknown_format_is_refused_with_why(change):
    with pytest.raises(HeldFormatError, match="this Passport reads 'passport.held_change_set' version 1"):
        SyncChanges.from_json({**SYNC.held_change_set(), **change})
