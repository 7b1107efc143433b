"""How each person attribute is normalized, compared and blocked on. Attributes fall into a few
kinds; a custom attribute (one a district maps itself) is free text.

- name (given_name, family_name, middle_name, preferred_given_name): case-folded, accents stripped,
  dashes and slashes -> space, other punctuation dropped, whitespace collapsed; Jaro-Winkler.
- date (birth_date): digits only, YYYYMMDD; 1 equal, 0.8 one mistyped or transposed digit or day and
  month swapped, else 0.
- email: letters, digits and "@" only; normalized Levenshtein.
- code (username, identifier, state_id, phone, sms): letters and digits only; normalized Levenshtein.
- category (sex, role, grades): as text; 1 equal, else 0.
- text (anything else): as names; normalized Levenshtein.

See ``normalization.py`` and ``similarity.py``.
"""

from __future__ import annotations

from typing import Literal

Kind = Literal["name", "date", "email", "code", "category", "text"]

_KINDS: dict[str, Kind] = {
    "given_name": "name", "family_name": "name", "middle_name": "name", "preferred_given_name": "name",
    "birth_date": "date",
    "email": "email",
    "username": "code", "identifier": "code", "state_id": "code", "phone": "code", "sms": "code",
    "sex": "category", "role": "category", "grades": "category",
}


def kind_of(attribute: str) -> Kind:
    """The kind of an attribute; custom attributes are text."""
    return _KINDS.get(attribute, "text")
