"""Where a district's golden data goes: OneRoster CSV exports to a folder or SFTP server,
each behind its own privacy shield, apps reading the OneRoster REST provider (behind theirs), and
write-back into PowerSchool and Google Workspace.

```yaml
destinations:
  - name: canvas
    type: oneroster-1.2-csv       # oneroster-1.1-csv | oneroster-1.2-csv
    sftp:                         # or folder: /srv/exports/canvas
      host: sftp.instructure.example
      username: lakeside
      password: env:CANVAS_SFTP_PASSWORD
      remote_path: /inbox
      host_key: "ssh-ed25519 AAAA..."
    until: 2027-06-30             # nothing is delivered after this day
    shield:                       # everything not allowed here is withheld
      schools: [lakeside-hs]      # district school ids (default: all)
      entities: [orgs, academic_sessions, courses, classes, users, enrollments]   # default: all rostering
      attributes:                 # per entity, the attributes delivered (default: all)
        users: [username, given_name, family_name, email, grades, identifier]
    # Gradebook and resources (categories, line_items, results, ...) only where `entities` lists them.
  - name: sis_writeback
    type: powerschool-writeback
    source: powerschool           # the PowerSchool source whose connection is used
  - name: google
    type: google-workspace        # accounts created, updated, suspended (never deleted)
    source: google_workspace      # the google source whose connection and accounts are used
    email: {student: "{username}@students.lakeside.org", "*": "{given_name}.{family_name}@lakeside.org"}
    org_units: {student: "/Students/{school}", "*": /Staff}
  - name: learnwell
    type: oneroster-1.2-api       # an app reading `passport serve` (docs/rest-api.md)
    client_id: learnwell-lakeside # its secret: `passport api-clients add lakeside learnwell`
    scopes: [roster-core.readonly]            # default: all three rostering scopes
    school_years: [2025-2026]     # default: every school year of the district
    shield: {schools: [lakeside-hs]}          # the same shield as a file export
```
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from passport_pipelines.config.sftp import SftpConnection
from passport_pipelines.model import entities

NAME_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
# What a OneRoster export can carry (roles only in 1.2; agents become users.agentSourcedIds), delivered by
# default; the gradebook and resources entities are delivered only where a shield lists them.
ROSTER_SHIELDED = ("orgs", "academic_sessions", "courses", "classes", "users", "roles", "enrollments",
                   "demographics", "agents")
GRADEBOOK_SHIELDED = entities.GRADEBOOK_ENTITIES
SHIELDED_ENTITIES = (*ROSTER_SHIELDED, *GRADEBOOK_SHIELDED)
# Gradebook entities a OneRoster 1.1 package has no file for.
ONLY_IN_12 = ("score_scales", "line_item_score_scales", "result_score_scales", "line_item_learning_objective_ids",
              "result_learning_objective_ids", "user_resources")
# Entities that point at others: allowing one needs what it points at.
NEEDS = {"courses": ("orgs",), "classes": ("courses", "orgs", "academic_sessions"), "users": ("orgs",),
         "roles": ("users", "orgs"), "enrollments": ("users", "classes", "orgs"), "demographics": ("users",),
         "agents": ("users",),
         "line_items": ("classes", "categories"), "results": ("line_items", "users"),
         "score_scales": ("orgs", "courses", "classes"), "line_item_score_scales": ("line_items", "score_scales"),
         "result_score_scales": ("results", "score_scales"), "line_item_learning_objective_ids": ("line_items",),
         "result_learning_objective_ids": ("results",), "class_resources": ("classes", "resources"),
         "course_resources": ("courses", "resources"), "user_resources": ("users", "resources")}
# Columns every delivered row carries (besides the ALWAYS_DELIVERED ones of its entity).
STRUCTURAL = {"sourced_id", "source", "district", "school_year", "status", "date_last_modified", "content_hash"}
ALWAYS_DELIVERED = {
    "orgs": {"type", "parent_sourced_id"},
    "academic_sessions": {"type", "start_date", "end_date", "parent_sourced_id", "ending_year"},
    "courses": {"org_sourced_id", "school_year_sourced_id"},
    "classes": {"course_sourced_id", "class_type", "school_sourced_id", "term_sourced_ids"},
    "users": {"enabled_user", "role", "org_sourced_ids"},
    "roles": {"user_sourced_id", "role", "role_type", "org_sourced_id"},
    "enrollments": {"class_sourced_id", "school_sourced_id", "user_sourced_id", "role"},
    "demographics": set(),
    "agents": {"user_sourced_id", "agent_sourced_id"},
    "categories": set(),
    "line_items": {"assign_date", "due_date", "class_sourced_id", "school_sourced_id", "category_sourced_id",
                   "grading_period_sourced_id", "result_value_min", "result_value_max"},
    "results": {"line_item_sourced_id", "student_sourced_id", "class_sourced_id", "score_status", "score_date"},
    "score_scales": {"type", "org_sourced_id", "course_sourced_id", "class_sourced_id"},
    "line_item_score_scales": {"line_item_sourced_id", "score_scale_sourced_id"},
    "result_score_scales": {"result_sourced_id", "score_scale_sourced_id"},
    "line_item_learning_objective_ids": {"line_item_sourced_id", "objective_source", "learning_objective_id"},
    "result_learning_objective_ids": {"result_sourced_id", "objective_source", "learning_objective_id"},
    "resources": {"vendor_resource_id"},
    "class_resources": {"class_sourced_id", "resource_sourced_id"},
    "course_resources": {"course_sourced_id", "resource_sourced_id"},
    "user_resources": {"user_sourced_id", "org_sourced_id", "class_sourced_id", "resource_sourced_id"},
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SftpTarget(_Strict, SftpConnection):
    """An SFTP server that receives the zip; its host key is always checked."""

    remote_path: str = Field(description="remote folder the zip is written to")


def withholdable(entity: str) -> list[str]:
    """The attributes of an entity a shield may withhold."""
    return [c for c in entities.columns(entity) if c not in STRUCTURAL and c not in ALWAYS_DELIVERED[entity]]


class PrivacyShield(_Strict):
    """What one destination may see; everything else is withheld (see docs/deliveries.md)."""

    schools: list[str] | None = Field(None, description="district school ids (default: every school)")
    entities: list[str] | None = Field(None, description="entities delivered (default: every rostering entity; "
                                                         "gradebook and resources only when listed)")
    attributes: dict[str, list[str]] = Field(default_factory=dict,
                                             description="entity -> the attributes delivered (default: all)")

    @field_validator("entities")
    @classmethod
    def _entities(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        unknown = sorted(set(v) - set(SHIELDED_ENTITIES))
        if unknown:
            raise ValueError(f"unknown entit{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)}; "
                             f"known: {', '.join(SHIELDED_ENTITIES)}")
        missing = sorted({f"{e} needs {n}" for e in v for n in NEEDS.get(e, ()) if n not in v})
        if missing:
            raise ValueError("an entity is delivered without what it points at: " + "; ".join(missing))
        return v

    @field_validator("attributes")
    @classmethod
    def _attributes(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for entity, names in v.items():
            if entity not in SHIELDED_ENTITIES:
                raise ValueError(f"attributes: unknown entity {entity}")
            fixed = sorted(set(names) & (ALWAYS_DELIVERED[entity] | STRUCTURAL))
            if fixed:
                raise ValueError(f"attributes.{entity}: {', '.join(fixed)} always delivered (ids, references, types "
                                 "and dates the format requires); list only what may be withheld")
            unknown = sorted(set(names) - set(withholdable(entity)))
            if unknown:
                raise ValueError(f"attributes.{entity}: unknown attribute(s) {', '.join(unknown)}; "
                                 f"known: {', '.join(withholdable(entity))}")
        return v

    def allows(self, entity: str) -> bool:
        if entity in GRADEBOOK_SHIELDED:  # student data a destination must ask for
            return self.entities is not None and entity in self.entities
        return self.entities is None or entity in self.entities

    def withheld(self, entity: str) -> list[str]:
        """The entity's attributes this destination does not receive."""
        allowed = self.attributes.get(entity)
        return [] if allowed is None else [c for c in withholdable(entity) if c not in allowed]


class OneRosterCsvDestination(_Strict):
    """A OneRoster CSV bulk export (zip with manifest) written to a folder or an SFTP server."""

    name: str = Field("oneroster_export", pattern=NAME_PATTERN)
    type: Literal["oneroster-1.1-csv", "oneroster-1.2-csv"] = "oneroster-1.1-csv"
    folder: Path | None = Field(None, description="default: $PASSPORT_HOME/exports/<district>")
    sftp: SftpTarget | None = None
    until: date | None = Field(None, description="nothing is delivered after this day")
    shield: PrivacyShield = Field(default_factory=PrivacyShield)

    @model_validator(mode="after")
    def _one_target(self) -> "OneRosterCsvDestination":
        if self.folder is not None and self.sftp is not None:
            raise ValueError("give folder or sftp, not both")
        return self

    @model_validator(mode="after")
    def _files_of_the_version(self) -> "OneRosterCsvDestination":
        if self.version == "1.1":
            only_12 = [e for e in self.shield.entities or () if e in ONLY_IN_12]
            if only_12:
                raise ValueError(f"shield.entities: {', '.join(only_12)}: OneRoster 1.1 has no file for "
                                 f"{'it' if len(only_12) == 1 else 'them'} (type: oneroster-1.2-csv has)")
        return self

    @property
    def version(self) -> str:
        return self.type.split("-")[1]


class PowerSchoolWritebackDestination(_Strict):
    """Changed golden values written back into PowerSchool through its API (two_way sync mode)."""

    name: str = Field("powerschool_writeback", pattern=NAME_PATTERN)
    type: Literal["powerschool-writeback"]
    source: str = Field(description="the powerschool source whose connection (URL, OAuth client) is used")
    until: date | None = Field(None, description="nothing is written back after this day")


ACCOUNT_ROLES = ("student", "teacher", "administrator", "aide", "counselor", "principal", "siteAdministrator",
                 "districtAdministrator", "systemAdministrator", "proctor")
ADDRESS_FIELDS = ("username", "given_name", "family_name", "identifier")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_DOMAIN = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")


def _check_address(role: str, template: str) -> None:
    local, at, domain = template.partition("@")
    if not at or "@" in domain or not _DOMAIN.match(domain):
        raise ValueError(f"email.{role}: {template!r} is not an address template like \"{{username}}@students."
                         "lakeside.org\" (placeholders before the @, the domain after it)")
    names = _PLACEHOLDER.findall(local)
    unknown = sorted(set(names) - set(ADDRESS_FIELDS))
    if unknown or not names:
        raise ValueError(f"email.{role}: the local part takes placeholders of {', '.join(ADDRESS_FIELDS)}"
                         + (f"; unknown: {', '.join(unknown)}" if unknown else ""))


def _check_org_unit(role: str, template: str) -> None:
    if not template.startswith("/") or (template != "/" and template.endswith("/")):
        raise ValueError(f"org_units.{role}: an org unit path starts with / and does not end with one")
    unknown = sorted(set(_PLACEHOLDER.findall(template)) - {"school"})
    if unknown:
        raise ValueError(f"org_units.{role}: the only placeholder is {{school}} (the school's name); "
                         f"unknown: {', '.join(unknown)}")


class GoogleWorkspaceDestination(_Strict):
    """Google Workspace accounts created, updated and suspended (never deleted) from golden users
    (two-way sync with the Admin SDK Directory API; see docs/writeback.md)."""

    name: str = Field("google_workspace", pattern=NAME_PATTERN)
    type: Literal["google-workspace"]
    source: str = Field(description="the google source whose connection is used and whose accounts are what "
                                    "Google holds")
    roles: list[Literal[ACCOUNT_ROLES]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: ["student", "teacher", "administrator"],
        description="golden users of these roles get accounts")
    email: dict[str, str] = Field(description='role (or "*") -> address template of a new account, e.g. '
                                              '"{username}@students.lakeside.org"')
    org_units: dict[str, str] = Field(description='role (or "*") -> org unit path, "{school}" for the school name')
    reactivate: bool = Field(False, description="an enabled person's suspended account is made active again")
    until: date | None = Field(None, description="nothing is written after this day")

    @field_validator("email", mode="before")
    @classmethod
    def _one_template(cls, value):
        return {"*": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _templates(self) -> "GoogleWorkspaceDestination":
        for what, mapping, check in (("email", self.email, _check_address),
                                     ("org_units", self.org_units, _check_org_unit)):
            unknown = sorted(set(mapping) - {"*", *self.roles})
            if unknown:
                raise ValueError(f"{what}: {', '.join(unknown)} not among roles ({', '.join(self.roles)}) or \"*\"")
            for role, template in mapping.items():
                check(role, template)
            missing = [r for r in self.roles if r not in mapping and "*" not in mapping]
            if missing:
                raise ValueError(f"{what}: no entry for {', '.join(missing)} (or give \"*\")")
        return self

    def template(self, what: str, role: str) -> str:
        mapping = self.email if what == "email" else self.org_units
        return mapping.get(role, mapping.get("*", ""))

    def managed_org_units(self) -> list[str]:
        """The org units this destination may change accounts in: each path up to its first placeholder."""
        out = set()
        for template in self.org_units.values():
            fixed = template.split("{", 1)[0]
            fixed = fixed.rstrip("/") if "{" in template else fixed
            out.add(fixed or "/")
        return sorted(out)


API_SCOPES = ("roster-core.readonly", "roster.readonly", "roster-demographics.readonly")
CLIENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{2,127}$"


class OneRosterApiDestination(_Strict):
    """An app reading the district's golden rosters from the OneRoster 1.2 REST provider (``passport serve``),
    as one OAuth 2.0 client: what it reads passes the same privacy shield as a file export to it."""

    name: str = Field(pattern=NAME_PATTERN)
    type: Literal["oneroster-1.2-api"]
    client_id: str = Field(pattern=CLIENT_ID_PATTERN, description="the app's OAuth client id (unique across "
                                                                  "districts); its secret is set with "
                                                                  "`passport api-clients add`")
    scopes: list[Literal[API_SCOPES]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: list(API_SCOPES), min_length=1,
        description="the OneRoster 1.2 rostering scopes the app may be granted")
    school_years: list[str] | None = Field(None, description="the school years it may read (default: all)")
    until: date | None = Field(None, description="nothing is served after this day")
    shield: PrivacyShield = Field(default_factory=PrivacyShield)

    @field_validator("shield")
    @classmethod
    def _rostering_only(cls, v: PrivacyShield) -> PrivacyShield:
        gradebook = [e for e in v.entities or () if e in GRADEBOOK_SHIELDED]
        if gradebook:
            raise ValueError(f"shield.entities: {', '.join(gradebook)}: the REST provider serves the rostering "
                             "service only")
        return v


WRITEBACK_TYPES = {"powerschool-writeback": "writeback", "google-workspace": "google", "oneroster-1.2-api": "api"}


def _kind(value) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return WRITEBACK_TYPES.get(kind, "csv")


Destination = Annotated[Union[Annotated[OneRosterCsvDestination, Tag("csv")],
                              Annotated[PowerSchoolWritebackDestination, Tag("writeback")],
                              Annotated[GoogleWorkspaceDestination, Tag("google")],
                              Annotated[OneRosterApiDestination, Tag("api")]],
                        Discriminator(_kind)]
TwoWayDestination = Union[PowerSchoolWritebackDestination, GoogleWorkspaceDestination]
