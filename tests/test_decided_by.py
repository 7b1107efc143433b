"""Who decides (--by of approve, reject, duplicates resolve and undo, and the `by` of their Dagster
jobs) is one line of printable text: a line break would forge a line of `passport history`."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from passport_pipelines.cli.main import cli
from passport_pipelines.config.decided_by import who_decides
from passport_pipelines.definitions import defs
from passport_pipelines.jobs.ops.duplicate_review import UNDO_DUPLICATE_DECISION
from passport_pipelines.jobs.ops.sync_approval import APPROVE_SYNC
from passport_pipelines.store.duplicate_review import DuplicateReview, RecordRef, ReviewError
from passport_pipelines.store.golden_store import GoldenStore
from passport_pipelines.store.sync_holds import DecisionError, SyncHolds

FORGED = "registrar@lakeside.k12.us\n2025-09-01 06:00  v7  successfully in production  by superintendent"
BAD = [
    (FORGED, "one line of printable text; it holds U+000A (a line break)"),
    ("ops@x.org\r", None),  # trailing whitespace is trimmed, so this one is kept
    ("ops\u2028@x.org", "U+2028 (a line break)"),
    ("\x1b[2Jops@x.org", "U+001B"),
    ("x" * 255, "255 characters long; at most 254"),
    ("   ", "say who decides"),
]


@pytest.mark.parametrize("by, error", BAD)
def test_who_decides_is_one_printable_line_of_bounded_length(by, error):
    if error is None:
        assert who_decides(by) == by.strip()
        return
    with pytest.raises(ValueError) as err:
        who_decides(by)
    assert error in str(err.value)
    assert who_decides("  Zoë Ñúñez <registrar@lakeside.k12.us> ") == "Zoë Ñúñez <registrar@lakeside.k12.us>"


@pytest.mark.parametrize("args", [
    ["approve", "lakeside", "2"], ["reject", "lakeside", "2"],
    ["duplicates", "resolve", "4", "--primary", "sis:stu-1", "--secondary", "ignore"],
    ["duplicates", "undo", "9"],
])
def test_the_cli_refuses_a_forged_by_before_touching_anything(passport_home, args):
    result = CliRunner().invoke(cli, [*args, "--by", FORGED])
    assert result.exit_code == 2  # a usage error, not a traceback
    assert "Invalid value for '--by'" in result.output and "U+000A (a line break)" in result.output
    assert not (passport_home / "passport.db").exists()  # refused before the store was opened


def test_the_store_refuses_it_whoever_calls(sqlite_store):
    store = GoldenStore(sqlite_store)
    with pytest.raises(DecisionError, match="^by: who decides must be one line"):
        SyncHolds(store).decide("lakeside", "2025-2026", 1, approve=True, by=FORGED)
    review = DuplicateReview(store)
    with pytest.raises(ReviewError, match="^by: who decides must be one line"):
        review.resolve(1, primary=RecordRef("sis", "stu-1"), secondary_action="ignore", by=FORGED)
    with pytest.raises(ReviewError, match="^by: who decides must be one line"):
        review.undo(1, by=FORGED)


@pytest.mark.parametrize("job, config", [
    (APPROVE_SYNC, {"approve_held_sync": {"district": "lakeside", "school_year": "2025-2026", "version": 1}}),
    (UNDO_DUPLICATE_DECISION, {"undo_decision": {"decision": 1}}),
])
def test_the_launchpad_jobs_fail_with_the_same_clear_error(sqlite_store, job, config):
    [(op, fields)] = config.items()
    result = defs.resolve_job_def(job).execute_in_process(
        run_config={"ops": {op: {"config": {**fields, "by": FORGED}}}}, raise_on_error=False)
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert failure.step_failure_data.error.message.startswith(
        "dagster._core.definitions.events.Failure: by: who decides must be one line of printable text")
