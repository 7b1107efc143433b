"""Synthetic person records with the truth about who is who: for the duplicate-detection engine's
tests and benchmarks (``benchmarks/linkage_quality.py``, ``benchmarks/linkage_speed.py``).

A district of ``people`` students (names from ``tests.synthetic.district``), grouped
into families that share a family name and a guardian's e-mail. Some students use the guardian's
e-mail as their own, so siblings share it; ``twin_rate`` of the families have twins (same family name,
birth date and guardian e-mail, different given names, different state ids). Every student has one
record in source ``sis``; ``duplicate_rate`` of them get a second record, of one of these kinds:

- ``other_source``: the Google account (source ``google``): same names (case and accents may
  differ) and e-mail, no birth date, no state id;
- ``name_typo``: a re-entered SIS record with one character wrong in the given or family name;
- ``swapped``: given and family name swapped;
- ``missing``: e-mail and state id missing;
- ``dob_typo``: one digit of the birth date mistyped (the twin guard holds these for review).

Vectorized with numpy and pyarrow except for the few-percent duplicate rows.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tests.synthetic.district import FAMILY_NAMES, FEMALE_NAMES, MALE_NAMES

DUPLICATE_KINDS = ("other_source", "name_typo", "swapped", "missing", "dob_typo")
DUPLICATE_WEIGHTS = (0.35, 0.25, 0.1, 0.2, 0.1)
STUDENT_DOMAIN = "students.passport-usd.org"
HOME_DOMAINS = ("example.com", "example.net", "example.org")


def _folded(name: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", name.lower()) if c.isalnum())


def _distinct(names) -> np.ndarray:
    """Names that stay different after normalization (André and Andre are one name to the engine)."""
    seen, out = set(), []
    for n in names:
        if _folded(n) not in seen:
            seen.add(_folded(n))
            out.append(n)
    return np.asarray(out, dtype=object)


GIVEN = _distinct(FEMALE_NAMES + MALE_NAMES)
FEMALE = len(_distinct(FEMALE_NAMES))  # GIVEN[:FEMALE] are girls' names
FAMILY = _distinct(FAMILY_NAMES)
SLUG_GIVEN = np.asarray([_folded(n) for n in GIVEN], dtype=object)
SLUG_FAMILY = np.asarray([_folded(n) for n in FAMILY], dtype=object)


@dataclass(frozen=True)
class SyntheticPeople:
    records: pa.Table  # record_key, source, given_name, family_name, email, birth_date, state_id, sex, role
    person: np.ndarray  # the person each record belongs to (aligned with records)
    duplicate_pairs: set[tuple[str, str]]  # (smaller key, larger key): records of one person
    twin_pairs: set[tuple[str, str]]  # records of two different people who are twins
    kinds: dict[str, int]  # duplicates made, per kind


def _typo(rng: np.random.Generator, word: str) -> str:
    """One character replaced, inserted, deleted or two adjacent ones swapped (away from the first letter)."""
    if len(word) < 3:
        return word + "e"
    i = int(rng.integers(1, len(word) - 1))
    op = int(rng.integers(0, 4))
    letter = "abcdefghijklmnopqrstuvwxyz"[int(rng.integers(0, 26))]
    if op == 0:
        return word[:i] + letter + word[i + 1:] if word[i] != letter else word[:i] + "x" + word[i + 1:]
    if op == 1:
        return word[:i] + letter + word[i:]
    if op == 2:
        return word[:i] + word[i + 1:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2:] if word[i] != word[i + 1] else word[:i] + "q" + word[i:]


def _dob_typo(rng: np.random.Generator, dob: str) -> str:
    """One digit of the day or of the year mistyped."""
    y, m, d = dob.split("-")
    if rng.random() < 0.5:
        d2 = d[0] + str((int(d[1]) + int(rng.integers(1, 9))) % 10)
        if not 1 <= int(d2) <= 28:
            d2 = d[0] + ("1" if d[1] != "1" else "2")
        return f"{y}-{m}-{d2}"
    return f"{y[:3]}{(int(y[3]) + int(rng.integers(1, 10))) % 10}-{m}-{d}"


def generate(people: int, *, seed: int = 7, duplicate_rate: float = 0.02, twin_rate: float = 0.01,
             guardian_email_rate: float = 0.3) -> SyntheticPeople:
    """``people`` students, reproducible from ``seed`` (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n = people
    # Families of 1.8 children on average; twins are two children of one family born the same day.
    family_of = np.sort(rng.integers(0, max(1, int(n / 1.8)), n))
    family_name = rng.integers(0, len(FAMILY), family_of.max() + 1)[family_of]
    guardian = rng.integers(0, len(HOME_DOMAINS), family_of.max() + 1)
    given = rng.integers(0, len(GIVEN), n)
    dob_days = rng.integers(0, 14 * 365, n)
    # Twins: a child gets the birth date of the previous child of the same family and another name.
    same_family_as_previous = np.concatenate([[False], family_of[1:] == family_of[:-1]])
    twin = same_family_as_previous & (rng.random(n) < twin_rate * 2.2)
    twin &= ~np.concatenate([[False], twin[:-1]])  # no triplets
    dob_days[twin] = dob_days[np.flatnonzero(twin) - 1]
    # Siblings (twins included) have different given names.
    for _ in range(20):
        clash = np.zeros(n, dtype=bool)
        for back in range(1, 6):
            clash[back:] |= (family_of[back:] == family_of[:-back]) & (given[back:] == given[:-back])
        if not clash.any():
            break
        given[clash] = (given[clash] + 1) % len(GIVEN)
    birth = (np.datetime64("2007-01-01") + dob_days.astype("timedelta64[D]")).astype(str)

    given_s, family_s = GIVEN[given], FAMILY[family_name]
    guardian_email = pc.binary_join_element_wise(
        pa.array(SLUG_FAMILY[family_name].tolist()), pa.array(family_of.astype(str)),
        "@", pa.array(np.asarray(HOME_DOMAINS, dtype=object)[guardian[family_of]].tolist()), "")
    own_email = pc.binary_join_element_wise(
        pa.array(SLUG_GIVEN[given].tolist()), ".", pa.array(SLUG_FAMILY[family_name].tolist()),
        pa.array(np.arange(n).astype(str)), "@" + STUDENT_DOMAIN, "")
    uses_guardian = (rng.random(n) < guardian_email_rate) | twin | np.roll(twin, -1)
    email = pc.if_else(pa.array(uses_guardian), guardian_email, own_email).to_numpy(zero_copy_only=False)
    state_id = (rng.permutation(n) + 3_000_000_000).astype(str)
    sex = np.where(given < FEMALE, "F", "M")

    # Duplicates.
    dup_people = np.sort(rng.choice(n, int(n * duplicate_rate), replace=False))
    kinds = rng.choice(len(DUPLICATE_KINDS), len(dup_people), p=DUPLICATE_WEIGHTS)
    d_given, d_family = given_s[dup_people].copy(), family_s[dup_people].copy()
    d_email, d_birth = email[dup_people].copy(), birth[dup_people].astype(object)
    d_state, d_source = state_id[dup_people].astype(object), np.full(len(dup_people), "sis", dtype=object)
    for k, kind in enumerate(kinds):
        name = DUPLICATE_KINDS[kind]
        if name == "other_source":
            d_source[k], d_birth[k], d_state[k] = "google", None, None
            if rng.random() < 0.5:
                d_given[k], d_family[k] = d_given[k].upper(), _folded(d_family[k]).capitalize()
        elif name == "name_typo":
            if rng.random() < 0.5:
                d_given[k] = _typo(rng, d_given[k])
            else:
                d_family[k] = _typo(rng, d_family[k])
            if rng.random() < 0.5:
                d_email[k] = None
        elif name == "swapped":
            d_given[k], d_family[k] = d_family[k], d_given[k]
        elif name == "missing":
            d_email[k], d_state[k] = None, None
        else:
            d_birth[k] = _dob_typo(rng, d_birth[k])

    total = n + len(dup_people)
    person = np.concatenate([np.arange(n), dup_people])
    source = np.concatenate([np.full(n, "sis", dtype=object), d_source])
    keys = np.char.add(np.where(source == "google", "g", "s").astype(str),
                       rng.permutation(total).astype(str).astype("<U12"))
    records = pa.table({
        "record_key": pa.array(keys, pa.string()),
        "source": pa.array(source, pa.string()),
        "given_name": pa.array(np.concatenate([given_s, d_given]), pa.string()),
        "family_name": pa.array(np.concatenate([family_s, d_family]), pa.string()),
        "email": pa.array(np.concatenate([email, d_email]), pa.string()),
        "birth_date": pa.array(np.concatenate([birth.astype(object), d_birth]), pa.string()),
        "state_id": pa.array(np.concatenate([state_id.astype(object), d_state]), pa.string()),
        "sex": pa.array(np.concatenate([sex, sex[dup_people]]), pa.string()),
        "role": pa.array(np.full(total, "student"), pa.string()),
    })
    key_of = keys.astype(object)
    dup_pairs = {tuple(sorted((key_of[p], key_of[n + k]))) for k, p in enumerate(dup_people)}
    # Twin pairs between any records of the two twins.
    records_of: dict[int, list[int]] = {}
    twins = np.flatnonzero(twin)
    for r in np.flatnonzero(np.isin(person, np.concatenate([twins, twins - 1]))):
        records_of.setdefault(int(person[r]), []).append(int(r))
    twin_pairs = {tuple(sorted((key_of[a], key_of[b])))
                  for t in twins for a in records_of[int(t)] for b in records_of[int(t) - 1]}
    counts = {name: int((kinds == k).sum()) for k, name in enumerate(DUPLICATE_KINDS)}
    return SyntheticPeople(records, person, dup_pairs, twin_pairs, counts)
