"""How a change of a source's identity settings moves keys: the schools through the old and the new
mapping, and the duplicate pairs a sync must not offer again."""

from __future__ import annotations

import pyarrow as pa

from passport_pipelines.changes.identity import IdentityChange, identity_changes
from passport_pipelines.changes.rekey import school_keys
from passport_pipelines.config.integration import DistrictSchool
from passport_pipelines.config.source_identity import SourceIdentity
from passport_pipelines.store.duplicate_review import RECORD_KEY_SEPARATOR as SEP
from passport_pipelines.store.rekeyed_decisions import rekeyed_pairs

DISTRICT = [DistrictSchool(id="bayside", name="Bayside", identifier="0001"),
            DistrictSchool(id="truth-hs", name="Truth", identifier="0002")]


def _identity(**given) -> SourceIdentity:
    return SourceIdentity(**{"name": "sis", "type": "csv", "sis_id_prefix": None, "schools": None, **given})


def test_a_school_moves_through_the_old_and_the_new_mapping():
    on_record = [{"sourced_id": "ps-5", "identifier": "0001"}, {"sourced_id": "ps-7", "identifier": "0002"}]
    mapped = IdentityChange(_identity(sis_id_prefix="ps-"),
                            _identity(schools={"mode": "explicit", "map": {"5": "bayside", "7": "truth-hs"}}))
    assert school_keys(mapped, on_record, DISTRICT) == {"ps-5": "bayside", "ps-7": "truth-hs"}
    by_identifier = IdentityChange(_identity(sis_id_prefix="ps-"), _identity(schools="auto"))
    assert school_keys(by_identifier, on_record, DISTRICT)["ps-7"] == "truth-hs"
    unmapped = IdentityChange(_identity(schools={"mode": "explicit", "map": {"5": "bayside", "7": "truth-hs"}}),
                              _identity(sis_id_prefix="x-"))
    assert school_keys(unmapped, [{"sourced_id": "bayside", "identifier": "0001"}], DISTRICT) == {
        "bayside": "x-5", "truth-hs": "x-7"}
    # From auto, the source's own school ids are not on record: they cannot be placed without a mapping.
    from_auto = IdentityChange(_identity(schools="auto"), _identity())
    assert school_keys(from_auto, [{"sourced_id": "bayside", "identifier": "0001"}], DISTRICT)["bayside"] is None
    # Only the prefix changes: district schools keep their ids.
    prefixed = IdentityChange(_identity(schools="auto"), _identity(schools="auto", sis_id_prefix="p-"))
    assert school_keys(prefixed, [{"sourced_id": "bayside", "identifier": "0001"}], DISTRICT)["bayside"] == "bayside"


def test_a_renamed_source_is_paired_with_the_one_of_its_type_that_left():
    recorded = {"sis": {"identity": _identity().as_dict()}, "other": {"identity": _identity(name="other",
                                                                                          type="oneroster").as_dict()}}
    [change] = identity_changes(recorded, {"powerschool": _identity(name="powerschool"),
                                           "other": _identity(name="other", type="oneroster")})
    assert (change.previous.name, change.current.name, change.settings) == ("sis", "powerschool", ["name"])
    assert change.reason().startswith("source powerschool: name changed ('sis' -> 'powerschool'): approving re-keys")
    # A version from before identities were recorded: nothing to compare, nothing held.
    assert identity_changes({"sis": {"type": "csv"}}, {"sis": _identity(sis_id_prefix="p-")}) == []
    [typed] = identity_changes(recorded, {"sis": _identity(type="sftp"), "other": _identity(name="other",
                                                                                            type="oneroster")})
    assert not typed.rekeys and "no id changes" in typed.reason()


def test_pairs_kept_apart_stay_apart_under_the_new_keys():
    known = pa.table({"left_key": [f"extra{SEP}x-1"], "right_key": [f"sis{SEP}1"]})
    moved = pa.table({"old_source": ["sis"], "old_sourced_id": ["1"], "source": ["sis"], "sourced_id": ["ps-1"]})
    pairs = rekeyed_pairs(known, moved).to_pylist()
    assert {"left_key": f"extra{SEP}x-1", "right_key": f"sis{SEP}ps-1"} in pairs
    assert {"left_key": f"extra{SEP}x-1", "right_key": f"sis{SEP}1"} in pairs
