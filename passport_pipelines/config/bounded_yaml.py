"""Reading an integration file's YAML within bounds, so one hostile or broken file cannot stall the fleet.

Every loader (the CLI, the schedule, every sensor tick) reads every integration file, so a file
must never be able to cost more than a moment. YAML aliases let a few hundred bytes stand for
billions of nodes ("billion laughs"): 727 bytes of nested aliases once took 6.4 GB and four
minutes. Before anything is built, the file's parse events are counted in one streaming pass
that never expands an alias (an alias adds the size its anchor was measured at), and the file is
refused when:

- it is larger than ``MAX_BYTES``;
- it uses more than ``MAX_ALIASES`` aliases;
- it would expand to more than ``MAX_NODES`` values;
- it nests deeper than ``MAX_DEPTH``;
- an alias points into the collection it sits in (a document that contains itself).

The same pass checks every plain scalar that YAML reads as a date (``until: 2026-02-30``): a day
that does not exist is reported with its key, rather than as an error from deep inside the parser.
Only then is the document built, with PyYAML's safe loader (no Python tags).
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import yaml

MAX_BYTES = 1 << 20  # 1 MiB: a large district's file (hundreds of schools mapped) is tens of KB
MAX_ALIASES = 500
MAX_NODES = 200_000
MAX_DEPTH = 64

# The implicit timestamp form of YAML 1.1 as PyYAML's safe loader resolves it.
_TIMESTAMP = re.compile(r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
    |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
     (?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
     (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""", re.X)


class YamlLimitError(ValueError):
    """The file is not read: too large, too expanded, too deep, or a value YAML cannot build."""


@dataclass
class _Collection:
    anchor: str | None
    path: str
    is_mapping: bool
    size: int = 1
    items: int = 0  # events seen inside: keys and values alternate in a mapping
    key: str = "?"


def _child_path(parent: _Collection | None) -> str:
    if parent is None:
        return ""
    if parent.is_mapping:
        return f"{parent.path}.{parent.key}" if parent.path else parent.key
    return f"{parent.path}[{parent.items}]"


def _check_events(text: str) -> None:
    stack: list[_Collection] = []
    anchors: dict[str, int] = {}
    aliases = 0
    total = 0

    def add(size: int) -> None:
        nonlocal total
        if stack:
            stack[-1].size += size
        else:
            total += size
        if total + sum(c.size for c in stack) > MAX_NODES:
            raise YamlLimitError(f"the document would expand to more than {MAX_NODES:,} values (YAML aliases "
                                 "repeating each other); an integration file is never that large")

    def advance() -> None:
        if stack:
            stack[-1].items += 1

    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        parent = stack[-1] if stack else None
        is_key = parent is not None and parent.is_mapping and parent.items % 2 == 0
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            if len(stack) >= MAX_DEPTH:
                raise YamlLimitError(f"values are nested more than {MAX_DEPTH} levels deep")
            path = _child_path(parent) if not is_key else (parent.path if parent else "")
            stack.append(_Collection(event.anchor, path, isinstance(event, yaml.MappingStartEvent)))
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            done = stack.pop()
            if done.anchor is not None:
                anchors[done.anchor] = done.size
            if stack and stack[-1].is_mapping and stack[-1].items % 2 == 0:
                stack[-1].key = "?"  # a collection used as a key: nothing to name it by
            add(done.size)
            advance()
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise YamlLimitError(f"more than {MAX_ALIASES} aliases (*name); an integration file needs a few")
            if event.anchor in {c.anchor for c in stack}:
                where = event.start_mark.line + 1 if event.start_mark else "?"
                raise YamlLimitError(f"line {where}: alias *{event.anchor} refers to the collection it is inside "
                                     "of (a document that contains itself)")
            if event.anchor not in anchors:
                where = event.start_mark.line + 1 if event.start_mark else "?"
                raise YamlLimitError(f"line {where}: alias *{event.anchor} refers to no anchor defined before it")
            if is_key:
                parent.key = "?"  # type: ignore[union-attr]
            add(anchors[event.anchor])
            advance()
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor is not None:
                anchors[event.anchor] = 1
            if event.style is None and event.implicit[0] and _TIMESTAMP.match(event.value):
                where = (parent.path if is_key else _child_path(parent)) or "(top level)"  # type: ignore[union-attr]
                _check_date(event.value, where)
            if is_key:
                parent.key = event.value  # type: ignore[union-attr]
            add(1)
            advance()


def _check_date(value: str, path: str) -> None:
    try:
        yaml.safe_load(value)
    except ValueError as exc:  # datetime's own words: "day is out of range for month"
        raise YamlLimitError(f"{path}: {value} is not a real date ({exc})") from None


def load_bounded_yaml(path: Path) -> object:
    """The YAML document in ``path``, built with the safe loader once it is known to be within the
    limits above. Raises FileNotFoundError, ``yaml.YAMLError`` (not YAML) or YamlLimitError."""
    if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO named *.yaml would block every reader
        raise YamlLimitError("not a regular file")
    with open(path, "rb") as f:
        raw = f.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise YamlLimitError(f"the file is larger than {MAX_BYTES // 1024} KiB; an integration file is a few KiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlLimitError(f"not UTF-8 text (byte {exc.start})") from None
    _check_events(text)
    try:
        return yaml.safe_load(text)
    except (ValueError, TypeError) as exc:  # e.g. an explicit !!timestamp of a day that does not exist
        raise YamlLimitError(f"a value cannot be read ({exc})") from None
