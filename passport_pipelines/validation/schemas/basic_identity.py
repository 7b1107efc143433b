"""Passport Basic Identity: the reduced CSV set for provisioning accounts.

Two files and no manifest: ``schools.csv`` (the schools people belong to) and ``people.csv``
(students and staff, one row per person). They map to canonical orgs (schools, with no
district parent: the district is not in the files), users and roles; every other entity is
absent, so a Basic Identity source never deletes sessions, classes or enrollments.
"""

from __future__ import annotations

from passport_pipelines.validation.oneroster.spec import Column, FileSpec

SCHEMA = "passport-basic-identity"
MODELS = "passport_basic_identity"
PERSON_ROLES = ("student", "teacher", "administrator", "aide")

FILES: dict[str, FileSpec] = {
    "schools": FileSpec("schools", (
        Column("school_id", required=True, kind="id",
               description="the school's id in your system; people.csv refers to it"),
        Column("school_name", required=True, description="the school's name"),
        Column("identifier", description="an outside id of the school, e.g. its NCES or state school id"),
    ), key=("school_id",)),
    "people": FileSpec("people", (
        Column("person_id", required=True, kind="id",
               description="the person's id in your system, stable from one upload to the next"),
        Column("role", required=True, kind="enum", values=PERSON_ROLES, description="the person's role"),
        Column("given_name", required=True, description="first name"),
        Column("family_name", required=True, description="last name"),
        Column("middle_name", description="middle name"),
        Column("email", description="e-mail address"),
        Column("username", description="the account's login name"),
        Column("school_id", required=True, kind="ids", references="schools",
               description="the school_id of each school the person belongs to, comma-separated in one "
                           "cell, the primary school first"),
        Column("grade", kind="grades", description="students: grade level as a CEDS code (KG, 01 ... 12)"),
        Column("student_number", description="students: the local student number"),
        Column("state_id", description="the state's id of the person"),
        Column("enabled", kind="boolean",
               description="false disables the account but keeps the person; blank means true"),
    ), natural_keys=(("student_number",),), key=("person_id",)),
}

# The canonical entity whose keys each file's ids live in (ids on record, for incremental uploads).
FILE_ENTITY = {"schools": "orgs", "people": "users"}


def entity_modes(modes: dict[str, str]) -> dict[str, str]:
    """Schools feed orgs; people feed users and their roles. The rest is absent: left as it is."""
    people = modes.get("people", "absent")
    return {"orgs": modes.get("schools", "absent"), "academic_sessions": "absent", "courses": "absent",
            "classes": "absent", "users": people, "roles": people, "enrollments": "absent",
            "demographics": "absent", "agents": "absent"}
