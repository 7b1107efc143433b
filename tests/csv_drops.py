"""Passport Basic Identity and SSO Credentials drops for tests, written as real CSV files."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from tests.oneroster_packages import csv_text

SCHOOLS = [
    {"school_id": "sch-1", "school_name": "Lakeside Elementary", "identifier": "NCES-1"},
    {"school_id": "sch-2", "school_name": "Lakeside Middle", "identifier": "NCES-2"},
]
PEOPLE = [
    {"person_id": "stu-1", "role": "student", "given_name": "Ada", "family_name": "Okafor", "email": "ada@example.org",
     "username": "ada.o", "school_id": "sch-1", "grade": "03", "student_number": "1001", "state_id": "ST-1"},
    {"person_id": "stu-2", "role": "student", "given_name": "Ben", "family_name": "Lee", "school_id": "sch-2",
     "grade": "KG", "student_number": "1002", "enabled": "false"},
    {"person_id": "tch-1", "role": "teacher", "given_name": "Cleo", "family_name": "Park", "email": "cleo@example.org",
     "school_id": "sch-1,sch-2"},
    {"person_id": "adm-1", "role": "administrator", "given_name": "Dev", "family_name": "Rao", "school_id": "sch-2"},
]
CREDENTIALS = [
    {"user_id": "stu-1", "application": "reading-plus", "login": "ada.o", "password": "Tulip-Horse-731",
     "url": "https://reading.example/login"},
    {"user_id": "stu-2", "application": "reading-plus", "login": "ben.l", "password": "Maple-Cloud-482"},
    {"user_id": "tch-1", "application": "gradebook", "login": "cpark", "password": "s3cret,with \"quotes\""},
]
BASIC_HEADERS = {
    "schools": ["school_id", "school_name", "identifier"],
    "people": ["person_id", "role", "given_name", "family_name", "middle_name", "email", "username", "school_id",
               "grade", "student_number", "state_id", "enabled"],
}
CREDENTIAL_HEADER = ["user_id", "application", "login", "password", "url"]


def write_basic_identity(folder: Path, *, schools: list[Mapping] | None = None, people: list[Mapping] | None = None,
                         raw: Mapping[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "schools.csv").write_text(csv_text(BASIC_HEADERS["schools"], SCHOOLS if schools is None else schools),
                                        encoding="utf-8")
    (folder / "people.csv").write_text(csv_text(BASIC_HEADERS["people"], PEOPLE if people is None else people),
                                       encoding="utf-8")
    for name, text in (raw or {}).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def write_credentials(folder: Path, rows: list[Mapping] | None = None, raw: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = raw if raw is not None else csv_text(CREDENTIAL_HEADER, CREDENTIALS if rows is None else rows)
    (folder / "credentials.csv").write_text(text, encoding="utf-8")
    return folder
