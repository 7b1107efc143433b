"""A drop source as it reads one school year: its per-year location resolved.

Every reader of a drop (the sync's fetch, the drop sensor's signature, Test Connection) asks for
the source of a year here, so they all read the same place (``config.year_locations``).
"""

from __future__ import annotations

from passport_pipelines.config.sources import CsvFolderSource, SftpSource
from passport_pipelines.config.year_locations import NoLocationForYear
from passport_pipelines.sources.drops.errors import DropFetchError


def drop_for_year(source: CsvFolderSource | SftpSource, school_year: str) -> CsvFolderSource | SftpSource:
    """``source`` with ``path``/``remote_path`` set to ``school_year``'s location; DropFetchError
    when its map of per-year locations does not name the year."""
    try:
        return source.for_year(school_year)
    except NoLocationForYear as exc:
        raise DropFetchError(str(exc)) from None
