"""What went wrong in a failed run, in one short line an operator can act on.

The full stack trace stays in the Dagster UI; a notification says which step failed, the first line
of its error (the innermost cause, which is our message rather than Dagster's wrapper around it) and
the blocking checks that did not pass. Any secret value the process knows is taken out of that
line (``config.secrets.redact``): the sensor resolves the district's secrets before it reads it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import dagster as dg

from passport_pipelines.config.secrets import redact

if TYPE_CHECKING:  # Dagster's error record; not part of its public API, only named here for types
    from dagster._utils.error import SerializableErrorInfo

MAX_ERROR_CHARS = 300

# "passport_pipelines.sources.drops.errors.DropFetchError: ..." -> "DropFetchError: ...": the module path is
# noise in a notification.
_QUALIFIED_NAME = re.compile(r"^(?:[A-Za-z_]\w*\.)+([A-Za-z_]\w*:)")


@dataclass(frozen=True)
class RunError:
    step: str | None
    message: str
    failed_checks: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict:
        return {"step": self.step, "message": self.message, "failed_checks": list(self.failed_checks)}


def first_line(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    """The first non-empty line, without the exception's module path, cut to ``limit`` characters.
    A line ending in ":" announces the next one (Dagster's "1 blocking asset check failed with ERROR
    severity:" is followed by which check), so that one is kept too."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if not lines:
        return ""
    line = lines[0]
    if line.endswith(":") and len(lines) > 1:
        line = f"{line} {lines[1]}"
    line = redact(_QUALIFIED_NAME.sub(r"\1", line))
    return line if len(line) <= limit else line[: limit - 1] + "…"


def root_cause(error: SerializableErrorInfo) -> SerializableErrorInfo:
    """The innermost error: the one our code raised, not the Dagster error that wraps it."""
    while error.cause is not None:
        error = error.cause
    return error


def error_of_failed_run(instance: dg.DagsterInstance, run_id: str,
                        failure_event: dg.DagsterEvent | None = None) -> RunError:
    """The first failed step of the run and its error; for a run that failed outside any step (it
    could not start, its worker died), the run failure's own error."""
    checks = failed_blocking_checks(instance, run_id)
    records = instance.get_records_for_run(run_id=run_id, of_type=dg.DagsterEventType.STEP_FAILURE).records
    for record in records:
        event = record.event_log_entry.dagster_event
        data = event.step_failure_data if event else None
        if data is not None and data.error is not None:
            return RunError(event.step_key, first_line(root_cause(data.error).message), checks)
    data = failure_event.event_specific_data if failure_event else None
    error = getattr(data, "error", None)
    if error is not None:
        return RunError(None, first_line(root_cause(error).message), checks)
    message = failure_event.message if failure_event and failure_event.message else "the run failed"
    return RunError(None, first_line(message), checks)


def failed_blocking_checks(instance: dg.DagsterInstance, run_id: str) -> tuple[str, ...]:
    """Names of the checks that failed with ERROR severity in the run: what stopped it."""
    records = instance.get_records_for_run(run_id=run_id,
                                           of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    names: list[str] = []
    for record in records:
        event = record.event_log_entry.dagster_event
        evaluation = event.event_specific_data if event else None
        if (evaluation is not None and not evaluation.passed
                and evaluation.severity == dg.AssetCheckSeverity.ERROR and evaluation.check_name not in names):
            names.append(evaluation.check_name)
    return tuple(names)
