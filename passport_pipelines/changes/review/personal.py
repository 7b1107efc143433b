"""Which values of a change review are personal data, and how they are shown masked.

A person's names, contact details, identifiers, grades, custom fields (``extensions``) and every
demographic value are personal; roles, ids and references, and the content of schools, sessions,
courses, classes and enrollments are not. A masked value still shows whether it is blank, so a
reviewer sees "a value was removed" without seeing the value.
"""

from __future__ import annotations

from passport_pipelines.model import entities

WITHHELD = "<withheld>"
# users columns that describe the account, not the person: shown as they are.
_USERS_SHOWN = frozenset({"enabled_user", "role", "org_sourced_ids"})


def personal_columns(entity: str) -> frozenset[str]:
    content = set(entities.content_columns(entity))
    if entity == "users":
        return frozenset(content - _USERS_SHOWN)
    if entity == "demographics":
        return frozenset(content)
    return frozenset({"extensions"} & content)


def shown(entity: str, field: str, value, show_values: bool) -> str | None:
    """``value`` as the review prints it: text, None for blank, masked when personal."""
    if value is None or value == "":
        return None
    if not show_values and field in personal_columns(entity):
        return WITHHELD
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
