"""Which golden attribute is which PowerSchool field: the inverse of the PowerSchool SQL models
(``dbt_like_transforms/powerschool/users.sql``, ``demographics.sql``, ``stg_contact_links.sql``).

A plan names each change by the PowerSchool field it writes. Student fields are the dotted paths of
``/ws/v1/student`` (``name.first_name`` is ``{"name": {"first_name": ...}}``). A student's school is
planned as ``school_enrollment.school_number`` holding the school's *identifier* (its state id, which
the PowerSchool reader takes from the school's ``state_province_id``); the request builder puts
PowerSchool's school number in its place from the district's school list. Contact fields are the
Contacts API's names, except ``email`` (the primary e-mail), ``sms`` (the first SMS phone) and
``phone`` (the first other phone), which the request builder turns into ``emails`` / ``phones`` items.
"""

from __future__ import annotations

STUDENT = "student"
CONTACT = "contact"
INSERT = "INSERT"
UPDATE = "UPDATE"

# golden column (of a student's users + demographics row, prepared in ``plan``) -> PowerSchool field;
# compared with PowerSchool's own record for an UPDATE, sent when present for an INSERT.
STUDENT_FIELDS: tuple[tuple[str, str], ...] = (
    ("given_name", "name.first_name"),
    ("middle_name", "name.middle_name"),
    ("family_name", "name.last_name"),
    ("email", "contact_info.email"),
    ("gender", "demographics.gender"),
    ("birth_date", "demographics.birth_date"),
    ("username", "student_username"),
    ("grade_level", "school_enrollment.grade_level"),
    ("school", "school_enrollment.school_number"),
)
# Sent only when a student is created: the ids PowerSchool keys students by, and the enrollment dates.
STUDENT_INSERT_FIELDS: tuple[tuple[str, str], ...] = (
    ("identifier", "local_id"),
    ("state_id", "state_province_id"),
    ("entry_date", "school_enrollment.entry_date"),
    ("exit_date", "school_enrollment.exit_date"),
)
CONTACT_FIELDS: tuple[tuple[str, str], ...] = (
    ("given_name", "firstName"),
    ("middle_name", "middleName"),
    ("family_name", "lastName"),
    ("identifier", "contactNumber"),
    ("email", "email"),
    ("sms", "sms"),
    ("phone", "phone"),
)

# What PowerSchool needs to create a record (REFERENCE: first/last name, grade level, entry and exit
# date, school number; a contact needs its names, and a student to belong to).
REQUIRED_ON_INSERT: dict[str, tuple[str, ...]] = {
    STUDENT: ("name.first_name", "name.last_name", "school_enrollment.grade_level", "school_enrollment.entry_date",
              "school_enrollment.exit_date", "school_enrollment.school_number"),
    CONTACT: ("firstName", "lastName"),
}
NAME_FIELDS: tuple[str, ...] = ("name.first_name", "name.last_name", "firstName", "lastName")
INTEGER_FIELDS: tuple[str, ...] = ("school_enrollment.grade_level", "school_enrollment.school_number")

# A guardian's role -> the relationship code PowerSchool keeps on the contact's student detail (the
# codes ``stg_contact_links.sql`` reads back as the same role).
RELATIONSHIP_CODES: dict[str, str] = {"parent": "Parent", "guardian": "Legal Guardian", "relative": "Other Relative"}
GUARDIAN_ROLES: tuple[str, ...] = tuple(RELATIONSHIP_CODES)

# PowerSchool's resource prefix on the canonical sourced ids of its records (see orgs.sql).
ID_PREFIX: dict[str, str] = {STUDENT: "student-", CONTACT: "contact-"}

# Canonical grades (CEDS codes, the first of a list) -> PowerSchool grade_level, as users.sql reads it back.
GRADE_LEVEL_SQL = """CASE split_part({col}, ',', 1)
    WHEN 'KG' THEN '0' WHEN 'PK' THEN '-1' WHEN 'PR' THEN '-2' WHEN 'IT' THEN '-2'
    ELSE CASE WHEN regexp_full_match(split_part({col}, ',', 1), '(0?[1-9]|1[0-3])')
              THEN CAST(CAST(split_part({col}, ',', 1) AS INTEGER) AS VARCHAR) END
END"""
# Canonical sex -> PowerSchool gender; anything else passes through for the guard to refuse.
GENDER_SQL = "CASE {col} WHEN 'male' THEN 'M' WHEN 'female' THEN 'F' ELSE {col} END"

