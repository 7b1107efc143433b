"""Text that rules, templates, filters, value maps and school lists carry is plain text: no control
characters.

Those strings end up in SQL literals, regular expressions and delivered CSV cells. A NUL ends a
C string halfway (DuckDB's parser refuses it mid-sync), and a line break, tab, escape or other
control character in an id, a filter value or a value map is a copy-paste accident, never a
value a district means. The config refuses them up front, naming the key, instead of a sync
crashing on them later.
"""

from __future__ import annotations

import unicodedata


def _first_control_character(text: str) -> str | None:
    return next((ch for ch in text if unicodedata.category(ch) == "Cc"), None)


def describe(ch: str) -> str:
    """A control character as an operator can look it up: ``U+0000 (NUL)``."""
    names = {"\x00": "NUL", "\t": "tab", "\n": "line feed", "\r": "carriage return", "\x1b": "escape",
             "\x7f": "DEL"}
    return f"U+{ord(ch):04X}" + (f" ({names[ch]})" if ch in names else "")


def control_character_at(value: object, path: str = "") -> tuple[str, str] | None:
    """The key path of the first string (or mapping key) in ``value`` holding a control character,
    and that character; None when there is none. Paths read like the integration file's keys."""
    stack: list[tuple[str, object]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            ch = _first_control_character(item)
            if ch is not None:
                return where or "(value)", ch
        elif isinstance(item, dict):
            children = []
            for key, child in item.items():
                ch = _first_control_character(key) if isinstance(key, str) else None
                if ch is not None:
                    return f"{where or '(top level)'}: a key", ch
                children.append((f"{where}.{key}" if where else str(key), child))
            stack.extend(reversed(children))
        elif isinstance(item, (list, tuple)):
            stack.extend(reversed([(f"{where}[{i}]", child) for i, child in enumerate(item)]))
    return None


def refuse_control_characters(value: object, path: str = "") -> None:
    """ValueError naming the key when any string in ``value`` (keys included) has a control character."""
    found = control_character_at(value, path)
    if found is not None:
        where, ch = found
        raise ValueError(f"{where}: contains the control character {describe(ch)}; rules, templates, filters, "
                         "value maps and school lists hold plain text only")
