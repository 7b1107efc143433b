"""A field a rule names, as the SQL text of its value: a canonical column, or a custom attribute.

Custom attributes live in the row's ``extensions`` object: the names the attribute mapping gives them
(``attributes: {users: {bus_route: extension:u_students_extension.bus_route}}`` makes ``bus_route``),
and any extension field named directly as ``extension:<name>`` (or ``metadata.<name>``, as OneRoster
CSV columns are called). Filters and data requirements read them as text, like every other field.
"""

from __future__ import annotations

from passport_pipelines.config.rules import extension_key
from passport_pipelines.model import entities
from passport_pipelines.sql.quoting import ident, json_member_path, lit


def custom_key(entity: str | None, name: str) -> str | None:
    """The key in ``extensions`` that ``name`` reads, or None for a column (a canonical column of
    ``entity``; any plain name when no entity is given)."""
    key = extension_key(name)
    if key is not None:
        return key
    return None if entity is None or name in entities.columns(entity) else name


def extension_value_sql(key: str) -> str:
    return f"json_extract_string(extensions, {lit(json_member_path(key))})"


def field_sql(entity: str | None, name: str) -> str:
    """``name``'s value in a row of ``entity``, as text."""
    key = custom_key(entity, name)
    return f"CAST({ident(name)} AS VARCHAR)" if key is None else extension_value_sql(key)
