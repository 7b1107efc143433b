"""The users file of a destination's last package, read as keyed lines in the background.

Splicing changed people's rows into the last users file first needs that file inflated, split into lines
and its ids parsed: about 2 s at a million students, in ISA-L, numpy and arrow. It starts as soon as the
delivery knows it may splice, and runs on the other core while the changed people are found and their
frames built.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from passport_pipelines.delivery.background import started
from passport_pipelines.delivery.csv_splice import KeyedLines
from passport_pipelines.delivery.previous_package import read_member


class PreviousLines:
    """``member`` of the zip at ``path``, being read as ``KeyedLines`` keyed by ``id_column``. Its ``header``
    (the first line) is read at once, so a caller can tell early whether the file can be spliced into."""

    def __init__(self, path: Path, member: str, id_column: str):
        with zipfile.ZipFile(path) as zf, zf.open(member) as f:
            self.header = f.readline()
        self._reading = started("previous-lines", _read, path, member, id_column)

    def result(self) -> KeyedLines | None:
        """The file's lines; None when it is not one our writer wrote in id order. Raises what reading it
        raised (a damaged package)."""
        return self._reading.result()

    def abandon(self) -> None:
        """Not needed after all: the reading still running finishes in the background and is dropped."""
        self._reading.cancel()


def _read(path: Path, member: str, id_column: str) -> KeyedLines | None:
    return KeyedLines.parse(read_member(path, member), id_column)
