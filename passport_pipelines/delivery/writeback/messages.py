"""PowerSchool's error text made safe to keep: field names and error codes stay, values go.

PowerSchool's messages sometimes quote the value they refused ("Invalid birth_date '2016-13-01'",
"e-mail ada@example.org already used"). What is stored, logged or shown keeps the field and the
reason and replaces anything that looks like a value: quoted text, e-mail addresses, dates,
numbers, phone numbers. Messages are also bounded in length.
"""

from __future__ import annotations

import re

MAX_LENGTH = 240
_PATTERNS = (
    re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`|“[^”]*”"),  # quoted values
    re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"),  # e-mail addresses
    re.compile(r"\b\d{4}-\d{2}-\d{2}(T[\d:.]+Z?)?\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b"),  # dates
    re.compile(r"\+?\d[\d\s().-]{2,}\d|\b\d+\b"),  # phone numbers and other numbers
)
_VALUE_AFTER = re.compile(r"(\b(?:value|was|got|given)\s*[:=]?\s*)(\S+)", re.IGNORECASE)


def scrub(text: object) -> str:
    """``text`` without values; empty when nothing is left."""
    out = str(text or "")
    for pattern in _PATTERNS:
        out = pattern.sub("…", out)
    out = _VALUE_AFTER.sub(r"\1…", out)
    out = re.sub(r"\s+", " ", out).strip()
    return out[:MAX_LENGTH]


def error_text(errors: list[dict]) -> str:
    """PowerSchool's per-record errors as one line: ``field: code description; ...``, scrubbed."""
    parts = []
    for e in errors:
        if not isinstance(e, dict):
            parts.append(scrub(e))
            continue
        field = str(e.get("field") or "").strip()
        code = str(e.get("error_code") or e.get("code") or "").strip()
        description = e.get("error_description") or e.get("description") or e.get("message") or ""
        head = " ".join(x for x in (scrub(field) + ":" if field else "", scrub(code)) if x)
        parts.append(" ".join(x for x in (head, scrub(description)) if x))
    return scrub("; ".join(p for p in parts if p)) or "PowerSchool refused the record (no reason given)"
