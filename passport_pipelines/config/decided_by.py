"""Who decides: the name kept with an approval, a rejection or a duplicate decision.

It is printed one per line by ``passport history`` and in the Dagster UI, so it must be one line
of printable text: a line break in it would forge a history line of its own, and an escape
sequence would rewrite the operator's terminal. An e-mail address is at most 254 characters;
that is the bound here too.
"""

from __future__ import annotations

MAX_LENGTH = 254


def who_decides(by: str | None) -> str:
    """``by`` without surrounding spaces; ValueError saying why it cannot be kept otherwise."""
    text = (by or "").strip()
    if not text:
        raise ValueError("say who decides (e.g. an e-mail address)")
    if len(text) > MAX_LENGTH:
        raise ValueError(f"who decides is {len(text)} characters long; at most {MAX_LENGTH} (an e-mail address)")
    bad = next((ch for ch in text if not ch.isprintable()), None)
    if bad is not None:
        raise ValueError(f"who decides must be one line of printable text; it holds U+{ord(bad):04X}"
                         + (" (a line break)" if bad in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029" else ""))
    return text
