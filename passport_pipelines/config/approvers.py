"""Who may approve, reject or resolve for a district: the named approvers.

A district's own list is ``change_control.approvers`` in its integration file. Without one, the
fleet's default applies: ``PASSPORT_APPROVERS`` (addresses separated by commas or spaces), else the
file named by ``PASSPORT_APPROVERS_FILE`` (one address a line, ``#`` comments). Without either,
anyone may decide, as before approvers existed.

This is accountability, not authentication: ``--by`` (and the ``by`` of the Launchpad jobs) is what
the person deciding says about themselves, and nothing here checks that they are who they say. The
list keeps decisions to the people who answer for a district's data, and every decision names one
of them in the history; access to the command line, the Dagster UI and the golden store is what
actually has to be guarded.

Addresses compare without regard to case or surrounding spaces.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from passport_pipelines.config.decided_by import who_decides

APPROVERS_ENV = "PASSPORT_APPROVERS"
APPROVERS_FILE_ENV = "PASSPORT_APPROVERS_FILE"
_SEPARATORS = re.compile(r"[,\s]+")


class NotAnApprover(ValueError):
    """The one deciding is not an approver of the district; nothing was decided."""


@dataclass(frozen=True)
class Approvers:
    names: tuple[str, ...]
    where: str  # where the list comes from, for the refusal message

    def allows(self, by: str) -> bool:
        wanted = by.strip().casefold()
        return any(name.casefold() == wanted for name in self.names)


def check_list(names: list[str]) -> list[str]:
    """Each approver as ``who_decides`` keeps a decider (one printable line); no repeats."""
    out = []
    for name in names:
        out.append(who_decides(name))
    repeated = sorted({n for n in out if [m.casefold() for m in out].count(n.casefold()) > 1})
    if repeated:
        raise ValueError(f"approvers are listed twice: {', '.join(repeated)}")
    return out


def default_approvers() -> Approvers | None:
    """The fleet's default list (environment), or None when there is none."""
    listed = os.environ.get(APPROVERS_ENV, "").strip()
    if listed:
        return Approvers(tuple(check_list([n for n in _SEPARATORS.split(listed) if n])), f"${APPROVERS_ENV}")
    path = os.environ.get(APPROVERS_FILE_ENV, "").strip()
    if not path:
        return None
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise NotAnApprover(f"${APPROVERS_FILE_ENV} names {path}, which cannot be read ({exc.strerror}); "
                            "nothing was decided") from None
    names = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    return Approvers(tuple(check_list([n for n in names if n])), f"{path} (${APPROVERS_FILE_ENV})")


def approvers_of(integration) -> Approvers | None:
    """The district's approvers: its own list, else the fleet's default; None when anyone may decide."""
    own = integration.change_control.approvers
    if own is not None:
        where = f"change_control.approvers in {integration.file}" if integration.file else "change_control.approvers"
        return Approvers(tuple(own), where)
    return default_approvers()


def require_approver(integration, by: str, action: str) -> None:
    """Raise ``NotAnApprover`` unless ``by`` may ``action`` (e.g. "approve version 3") for the district."""
    approvers = approvers_of(integration)
    if approvers is None or approvers.allows(by):
        return
    names = ", ".join(approvers.names) or "nobody"
    raise NotAnApprover(
        f"{by} is not an approver of {integration.district}, so may not {action}: the approvers are {names} "
        f"({approvers.where}). Nothing was decided. --by names who decides, for the history; it is not a "
        "sign-in, so the list is about accountability, not access")
