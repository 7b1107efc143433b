"""What a OneRoster 1.1 / 1.2 CSV package must look like, per the two CSV bindings.

Each file is described column by column: whether it is required, and what kind of value it
holds. Validation, normalization and export all read this one description.
"""

from __future__ import annotations

from dataclasses import dataclass, field

VERSIONS = ("1.1", "1.2")
MANIFEST = "manifest.csv"
MODES = ("bulk", "delta", "absent")

ORG_TYPES = ("department", "school", "district", "local", "state", "national")
SESSION_TYPES = ("gradingPeriod", "semester", "schoolYear", "term")
CLASS_TYPES = ("homeroom", "scheduled")
USER_ROLES_11 = ("administrator", "aide", "guardian", "parent", "proctor", "relative", "student", "teacher")
USER_ROLES_12 = (
    "aide", "counselor", "districtAdministrator", "guardian", "parent", "principal", "proctor", "relative",
    "siteAdministrator", "student", "systemAdministrator", "teacher",
)
ENROLLMENT_ROLES = ("administrator", "proctor", "student", "teacher")
SEXES = ("male", "female", "unspecified", "other")
ROLE_TYPES = ("primary", "secondary")
STATUSES = ("active", "tobedeleted")
GRADES = ("IT", "PR", "PK", "TK", "KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12",
          "13", "PS", "UG", "Other")


@dataclass(frozen=True)
class Column:
    name: str
    required: bool = False
    kind: str = "text"  # text | id | ids | date | timestamp | boolean | enum | grades | user_ids | year
    values: tuple[str, ...] = ()  # allowed values of an enum
    references: str | None = None  # the file whose sourcedIds this column holds
    # A dangling reference drops the row ("filter"), or is only reported when the row still
    # makes sense without it ("warn": a missing parent org, a guardian link).
    on_dangling: str = "filter"
    description: str = ""  # what the column means, for the templates' column guide


@dataclass(frozen=True)
class FileSpec:
    name: str  # e.g. "users" (the file is users.csv)
    columns: tuple[Column, ...]
    # Extra uniqueness rules beyond the key: (columns, which rows) — see validation.
    natural_keys: tuple[tuple[str, ...], ...] = field(default=())
    # The columns that identify a row (duplicates fail the drop); references point at key[0].
    key: tuple[str, ...] = ("sourcedId",)

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _common() -> tuple[Column, ...]:
    return (
        Column("sourcedId", required=True, kind="id"),
        Column("status", kind="enum", values=STATUSES),
        Column("dateLastModified", kind="timestamp"),
    )


def _race() -> tuple[Column, ...]:
    names = ("americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican",
             "nativeHawaiianOrOtherPacificIslander", "white", "demographicRaceTwoOrMoreRaces",
             "hispanicOrLatinoEthnicity")
    return tuple(Column(n, kind="boolean") for n in names)


def _files(version: str) -> dict[str, FileSpec]:
    user_roles = USER_ROLES_11 if version == "1.1" else USER_ROLES_12
    users_cols: tuple[Column, ...] = (
        *_common(),
        Column("enabledUser", required=True, kind="boolean"),
    )
    if version == "1.1":
        users_cols += (
            Column("orgSourcedIds", required=True, kind="ids", references="orgs"),
            Column("role", required=True, kind="enum", values=user_roles),
        )
    users_cols += (
        Column("username", required=True),
        Column("userIds", kind="user_ids"),
        Column("givenName", required=True),
        Column("familyName", required=True),
        Column("middleName"),
        Column("identifier"),
        Column("email"),
        Column("sms"),
        Column("phone"),
        Column("agentSourcedIds", kind="ids", references="users", on_dangling="warn"),
        Column("grades", kind="grades"),
        Column("password"),
    )
    if version == "1.2":
        users_cols += (
            Column("userMasterIdentifier"),
            Column("preferredGivenName"),
            Column("preferredMiddleName"),
            Column("preferredFamilyName"),
            Column("primaryOrgSourcedId", kind="id", references="orgs", on_dangling="warn"),
            Column("pronouns"),
        )
    files = [
        FileSpec("orgs", (
            *_common(),
            Column("name", required=True),
            Column("type", required=True, kind="enum", values=ORG_TYPES),
            Column("identifier"),
            Column("parentSourcedId", kind="id", references="orgs", on_dangling="warn"),
        )),
        FileSpec("academicSessions", (
            *_common(),
            Column("title", required=True),
            Column("type", required=True, kind="enum", values=SESSION_TYPES),
            Column("startDate", required=True, kind="date"),
            Column("endDate", required=True, kind="date"),
            Column("parentSourcedId", kind="id", references="academicSessions", on_dangling="warn"),
            Column("schoolYear", required=True, kind="year"),
        )),
        FileSpec("courses", (
            *_common(),
            Column("schoolYearSourcedId", kind="id", references="academicSessions", on_dangling="warn"),
            Column("title", required=True),
            Column("courseCode"),
            Column("grades", kind="grades"),
            Column("orgSourcedId", required=True, kind="id", references="orgs"),
            Column("subjects", kind="list"),
            Column("subjectCodes", kind="list"),
        )),
        FileSpec("classes", (
            *_common(),
            Column("title", required=True),
            Column("grades", kind="grades"),
            Column("courseSourcedId", required=True, kind="id", references="courses"),
            Column("classCode"),
            Column("classType", required=True, kind="enum", values=CLASS_TYPES),
            Column("location"),
            Column("schoolSourcedId", required=True, kind="id", references="orgs"),
            Column("termSourcedIds", required=True, kind="ids", references="academicSessions"),
            Column("subjects", kind="list"),
            Column("subjectCodes", kind="list"),
            Column("periods", kind="list"),
        )),
        FileSpec("users", users_cols, natural_keys=(("identifier", "orgSourcedIds"),) if version == "1.1" else ()),
        FileSpec("enrollments", (
            *_common(),
            Column("classSourcedId", required=True, kind="id", references="classes"),
            Column("schoolSourcedId", required=True, kind="id", references="orgs"),
            Column("userSourcedId", required=True, kind="id", references="users"),
            Column("role", required=True, kind="enum", values=ENROLLMENT_ROLES),
            Column("primary", kind="boolean"),
            Column("beginDate", kind="date"),
            Column("endDate", kind="date"),
        )),
        FileSpec("demographics", (
            Column("sourcedId", required=True, kind="id", references="users"),
            *_common()[1:],
            Column("birthDate", kind="date"),
            Column("sex", kind="enum", values=SEXES if version == "1.2" else ("male", "female", "other")),
            *_race(),
            Column("countryOfBirthCode"),
            Column("stateOfBirthAbbreviation"),
            Column("cityOfBirth"),
            Column("publicSchoolResidenceStatus"),
        )),
    ]
    if version == "1.2":
        files += [
            FileSpec("roles", (
                *_common(),
                Column("userSourcedId", required=True, kind="id", references="users"),
                Column("roleType", required=True, kind="enum", values=ROLE_TYPES),
                Column("role", required=True, kind="enum", values=USER_ROLES_12),
                Column("beginDate", kind="date"),
                Column("endDate", kind="date"),
                Column("orgSourcedId", required=True, kind="id", references="orgs"),
                Column("userProfileSourcedId", kind="id"),
            )),
            FileSpec("userProfiles", (
                *_common(),
                Column("userSourcedId", required=True, kind="id", references="users"),
                Column("profileType", required=True),
                Column("vendorId", required=True),
                Column("applicationId"),
                Column("description"),
                Column("credentialType", required=True),
                Column("username", required=True),
                Column("password"),
            )),
        ]
    # Imported here: the gradebook module builds its files from this module's Column and FileSpec.
    from passport_pipelines.validation.oneroster.gradebook_files import gradebook_files
    files += gradebook_files(version)
    return {f.name: f for f in files}


ROSTER_FILES = {v: _files(v) for v in VERSIONS}

# Gradebook and resource files (read as the rostering ones: they are among each version's files above).
NON_ROSTER_FILES = (
    "categories", "classResources", "courseResources", "lineItems", "resources", "results",
    "scoreScales", "lineItemLearningObjectiveIds", "lineItemScoreScales", "resultLearningObjectiveIds",
    "resultScoreScales", "userResources",
)


def files_for(version: str) -> dict[str, FileSpec]:
    return ROSTER_FILES[version]

# The canonical table each file's records land in (the key space its sourcedIds live in).
FILE_ENTITY = {
    "orgs": "orgs", "academicSessions": "academic_sessions", "courses": "courses", "classes": "classes",
    "users": "users", "enrollments": "enrollments", "demographics": "demographics", "roles": "roles",
    "userProfiles": "user_profiles",
}

# Last: the gradebook module builds on this one's Column and FileSpec.
from passport_pipelines.validation.oneroster.gradebook_files import GRADEBOOK_FILE_ENTITY  # noqa: E402

FILE_ENTITY.update(GRADEBOOK_FILE_ENTITY)
