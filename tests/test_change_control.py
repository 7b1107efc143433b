"""The sync hold threshold and preview: configuration and the hold decision."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from passport_pipelines.changes.hold import decide_hold
from passport_pipelines.config.change_control import ChangeControl, Limit

ON_RECORD = {"users": 1000, "enrollments": 4000, "orgs": 5}


def _counts(**entities) -> dict:
    base = {e: {"added": 0, "updated": 0, "deleted": 0} for e in ("orgs", "users", "enrollments")}
    for entity, (added, updated, deleted) in entities.items():
        base[entity] = {"added": added, "updated": updated, "deleted": deleted}
    return base


def test_defaults_hold_more_than_ten_percent_deleted_or_seventy_five_percent_updated():
    control = ChangeControl()
    assert not decide_hold(_counts(users=(50, 750, 100)), ON_RECORD, control).held  # exactly at the limits
    deleted = decide_hold(_counts(users=(0, 0, 101)), ON_RECORD, control)
    assert deleted.held and deleted.reasons == ["users: 101 of 1,000 deleted (10.1%), more than 10%"]
    updated = decide_hold(_counts(enrollments=(0, 3001, 0)), ON_RECORD, control)
    assert updated.held and updated.reasons == ["enrollments: 3,001 of 4,000 updated (75.0%), more than 75%"]
    row = next(r for r in deleted.entities if r["entity"] == "users")
    assert row == {"entity": "users", "on_record": 1000, "added": 0, "added_percent": 0.0, "updated": 0,
                   "updated_percent": 0.0, "deleted": 101, "deleted_percent": 10.1}


def test_the_first_sync_is_held_by_counts_only():
    control = ChangeControl.model_validate({"sync_hold": {"users": {"added": 500}}})
    assert not decide_hold(_counts(users=(400, 0, 0)), {}, control).held
    assert decide_hold(_counts(users=(501, 0, 0)), {}, control).reasons == ["users: 501 added, more than 500"]


def test_entity_limits_add_to_the_defaults_and_can_turn_them_off():
    control = ChangeControl.model_validate({"sync_hold": {"users": {"deleted": {"percent": 2, "count": 15}}}})
    assert decide_hold(_counts(users=(0, 0, 16)), ON_RECORD, control).held  # 1.6%, but more than 15
    assert decide_hold(_counts(users=(0, 0, 21)), ON_RECORD, control).held
    assert not decide_hold(_counts(users=(0, 0, 14)), ON_RECORD, control).held
    assert decide_hold(_counts(enrollments=(0, 0, 401)), ON_RECORD, control).held  # "*" still 10%
    off = ChangeControl.model_validate({"sync_hold": {"*": {}}})
    assert not decide_hold(_counts(users=(0, 1000, 1000)), ON_RECORD, off).held


def test_preview_holds_any_change_but_not_an_unchanged_sync():
    assert decide_hold(_counts(users=(1, 0, 0)), ON_RECORD, ChangeControl(), preview=True).reasons == [
        "preview requested for this sync"]
    always = ChangeControl(preview=True)
    assert decide_hold(_counts(users=(0, 1, 0)), ON_RECORD, always).reasons == [
        "preview: every change waits for approval"]
    unchanged = decide_hold(_counts(), ON_RECORD, always)
    assert not unchanged.held and unchanged.preview


@pytest.mark.parametrize("raw, expected", [
    ("10%", Limit(percent=10)), (" 2.5 % ", Limit(percent=2.5)), (500, Limit(count=500)),
    ({"percent": 5, "count": 9}, Limit(percent=5, count=9)),
])
def test_limit_shorthands(raw, expected):
    assert Limit.model_validate(raw) == expected


@pytest.mark.parametrize("raw, message", [
    ({"sync_hold": {"users": {"deleted": "ten percent"}}}, "'ten percent' is not a share like \"10%\""),
    ({"sync_hold": {"users": {"deleted": {}}}}, "a limit needs a percent, a count, or both"),
    ({"sync_hold": {"users": {"deleted": "150%"}}}, "less than or equal to 100"),
    ({"sync_hold": {"users": {"removed": "5%"}}}, "removed"),
    ({"sync_hold": {"students": {"deleted": "5%"}}}, "unknown entity students"),
    ({"sync_hold": {"users": {"deleted": True}}}, "a limit is a share"),
])
def test_bad_limits_are_named(raw, message):
    with pytest.raises(ValidationError) as caught:
        ChangeControl.model_validate(raw)
    assert message in str(caught.value)


def test_a_change_of_identity_settings_holds_and_its_moved_records_are_neither_added_nor_deleted():
    control = ChangeControl()
    reason = "source sis: sis_id_prefix changed (none -> 'ps-'): approving re-keys its records"
    nothing = decide_hold(_counts(), ON_RECORD, control, identity=[reason])
    assert nothing.held and nothing.reasons == [reason]  # held even when no record changes (a new type alone)
    # 1,000 users moved to new keys, 101 of them not resent by a complete drop: only those count as deleted.
    moved = decide_hold(_counts(users=(900, 0, 1000)), ON_RECORD, control, identity=[reason], rekeyed={"users": 899})
    assert moved.reasons == [reason, "users: 101 of 1,000 deleted (10.1%), more than 10%"]
    row = next(r for r in moved.entities if r["entity"] == "users")
    assert (row["added"], row["deleted"], row["rekeyed"]) == (1, 101, 899)
    assert not decide_hold(_counts(users=(900, 0, 1000)), ON_RECORD, control, rekeyed={"users": 900}).held
