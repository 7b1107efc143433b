"""Where a drop source finds each school year's drop: one location, a template, or a map.

A CSV source's ``path`` and an SFTP source's ``remote_path`` take one of:

- a plain location (``drops/lakeside``): every school year reads it, as a one-year district does;
- a template (``drops/{school_year}``) with the placeholders ``{school_year}`` (``2024-2025``),
  ``{start_year}`` (``2024``) and ``{end_year}`` (``2025``);
- a map of school year to location (``{2024-2025: drops/2024, 2025-2026: drops/current}``).

``year_location`` is the one function that says where a source's drop of a school year is; every
reader of a drop (the sync's fetch, the drop sensor, Test Connection) goes through it (through
``for_year`` of the source). A plain location used for several years is allowed: the drop's
academic sessions are checked against the sync's year, so a wrong-year drop is refused anyway.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Iterable

from passport_pipelines.model.school_years import SchoolYear

PLACEHOLDERS = ("school_year", "start_year", "end_year")


class NoLocationForYear(ValueError):
    """A source's map of per-year locations has no entry for the school year asked for."""


def _fields(template: str) -> list[str]:
    """The placeholders of a template; raises ValueError for braces that do not make one."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        raise ValueError(f"{template!r}: unbalanced {{ or }} (write {{{{ and }}}} for a literal brace)") from None
    fields = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise ValueError(f"{template!r}: unknown placeholder {shown}; the placeholders are "
                             + ", ".join("{" + p + "}" for p in PLACEHOLDERS))
        fields.append(name)
    return fields


def check_location(value: object) -> object:
    """A ``path``/``remote_path`` value as the file gives it: a location, a template or a map.
    Raises ValueError saying what is wrong; the value is returned as given."""
    if isinstance(value, (str, Path)):
        if not str(value).strip():
            raise ValueError("must not be empty")
        _fields(str(value))
        return value
    if isinstance(value, dict):
        if not value:
            raise ValueError("a map of school year -> location needs at least one school year")
        for year, location in value.items():
            try:
                SchoolYear.parse(str(year))
            except ValueError:
                raise ValueError(f"{year!r} is not a school year like 2025-2026 (the map's keys are school "
                                 "years, each naming its drop's location)") from None
            if not isinstance(location, (str, Path)) or not str(location).strip():
                raise ValueError(f"{year}: the location must be a path")
            if _fields(str(location)):
                raise ValueError(f"{year}: {str(location)!r}: a map names each year's location itself; "
                                 "placeholders belong in a template instead of a map")
        return {str(year): location for year, location in value.items()}
    raise ValueError("must be a path, a template such as drops/{school_year}, or a map of school year -> path")


def varies_by_year(value: object) -> bool:
    """Whether the location depends on the school year (a template or a map)."""
    return isinstance(value, dict) or bool(_fields(str(value)))


def years_named(value: object) -> list[str]:
    """The school years a map names (none for a location or a template)."""
    return list(value) if isinstance(value, dict) else []


def year_location(source_name: str, value: str | Path | dict, school_year: str) -> str:
    """The location of ``school_year``'s drop: the map's entry, the template filled in, or the
    plain location. Raises NoLocationForYear when a map does not name the year."""
    year = SchoolYear.parse(school_year)
    if isinstance(value, dict):
        if school_year not in value:
            raise NoLocationForYear(f"source {source_name}: no location for school year {school_year} (its map "
                                    f"names {', '.join(sorted(value))})")
        return str(value[school_year])
    return str(value).format(school_year=year.label, start_year=year.start, end_year=year.end)


def unlisted_years(value: object, school_years: Iterable[str]) -> list[str]:
    """Years a map names that ``school_years`` does not list: a typo, or a year never synced."""
    listed = set(school_years)
    return sorted(y for y in years_named(value) if y not in listed)
