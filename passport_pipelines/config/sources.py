"""The source kinds an integration can read from, one pydantic model each.

Connection settings are plain values; credentials are ``env:VAR`` references that are resolved
only when a connector uses them. ``entities`` says which canonical entities a source feeds.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, ClassVar, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from passport_pipelines.config.drop_limits import DropLimits
from passport_pipelines.config.rules import SourceRules
from passport_pipelines.config.secrets import is_secret_ref
from passport_pipelines.config.sftp import SftpConnection
from passport_pipelines.config.year_locations import check_location, year_location

NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

CsvSchema = Literal["oneroster-1.1", "oneroster-1.2", "passport-basic-identity", "sso-credentials"]
UploadMode = Literal["full", "incremental"]
Entity = Literal["orgs", "academic_sessions", "courses", "classes", "users", "enrollments", "demographics", "agents",
                 "categories", "line_items", "results", "score_scales", "line_item_score_scales",
                 "result_score_scales", "line_item_learning_objective_ids", "result_learning_objective_ids",
                 "resources", "class_resources", "course_resources", "user_resources"]

ONEROSTER_12_SCOPES = (
    "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly",
    "https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly",
    "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-demographics.readonly",
)
# The 1.2 Gradebook and Resources services' read scopes: asked for only when the source lists their entities.
GRADEBOOK_SCOPE = "https://purl.imsglobal.org/spec/or/v1p2/scope/gradebook.readonly"
RESOURCE_SCOPE = "https://purl.imsglobal.org/spec/or/v1p2/scope/resource.readonly"
GRADEBOOK_FEEDS = ("categories", "line_items", "results", "score_scales", "line_item_score_scales",
                   "result_score_scales", "line_item_learning_objective_ids", "result_learning_objective_ids")
RESOURCE_FEEDS = ("resources", "class_resources", "course_resources", "user_resources")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _secret(value: str | None) -> str | None:
    if value is not None and not is_secret_ref(value):
        raise ValueError("secrets must be env:VAR references (e.g. env:SIS_CLIENT_SECRET), never literal values")
    return value


class _Source(SourceRules):
    name: str
    mode: UploadMode = Field("full", description="full: the extract is the complete set; incremental: changes only")
    entities: list[Entity] | None = Field(None, description="canonical entities this source feeds (default: all it "
                                                            "carries; an API reads gradebook and resources only "
                                                            "when listed)")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not NAME.match(v):
            raise ValueError("a source name is lower-case letters, digits and underscores, starting with a letter")
        return v

    @field_validator("entities")
    @classmethod
    def _entities(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and len(set(v)) != len(v):
            raise ValueError("an entity is listed twice")
        return v

    def wants(self, entity: str) -> bool:
        return self.entities is None or entity in self.entities

    def lists(self, entity: str) -> bool:
        """Whether ``entities`` names the entity: what an API source needs to read gradebook data."""
        return self.entities is not None and entity in self.entities


class CsvFolderSource(_Source):
    """A OneRoster CSV drop in a local folder or zip file."""

    type: Literal["csv"] = "csv"
    path: Path | dict[str, Path] = Field(
        description="folder with manifest.csv, or a .zip; relative to the integration file. Per school year: a "
                    "template with {school_year}, {start_year}, {end_year}, or a map of school year -> path")
    schema_: CsvSchema = Field("oneroster-1.1", alias="schema")
    limits: DropLimits = Field(default_factory=DropLimits, description="how big a drop may be (sizes, files)")

    @field_validator("path", mode="before")
    @classmethod
    def _path(cls, v: object) -> object:
        return check_location(v)

    def for_year(self, school_year: str) -> "CsvFolderSource":
        """This source as it reads ``school_year``: ``path`` is that year's location (NoLocationForYear
        when a map does not name the year)."""
        return self.model_copy(update={"path": Path(year_location(self.name, self.path, school_year))})


class SftpSource(_Source, SftpConnection):
    """A OneRoster CSV drop fetched from an SFTP server, host key checked."""

    type: Literal["sftp"]
    remote_path: str | dict[str, str] = Field(
        description="remote folder holding the CSVs or a .zip (the newest zip is taken). Per school year: a "
                    "template with {school_year}, {start_year}, {end_year}, or a map of school year -> folder")
    schema_: CsvSchema = Field("oneroster-1.1", alias="schema")
    limits: DropLimits = Field(default_factory=DropLimits, description="how big a drop may be (sizes, files)")

    @field_validator("remote_path", mode="before")
    @classmethod
    def _remote_path(cls, v: object) -> object:
        return check_location(v)

    def for_year(self, school_year: str) -> "SftpSource":
        """This source as it reads ``school_year``: ``remote_path`` is that year's folder."""
        return self.model_copy(update={"remote_path": year_location(self.name, self.remote_path, school_year)})


class _ApiSource(_Source):
    """Settings every API connector shares: where it is, how long to wait, how hard to push."""

    SECRET_KEYS: ClassVar[tuple[str, ...]] = ("client_secret",)

    base_url: str = Field(description="the API's base URL, https://...")
    client_id: str | None = None
    client_secret: str | None = None
    timeout_seconds: float = Field(30.0, gt=0, description="per request")
    page_size: int | None = Field(None, ge=1, le=10000, description="default: the API's own or maximum page size")
    max_concurrency: int = Field(4, ge=1, le=16, description="pages fetched at once")
    ca_bundle: Path | None = Field(None, description="PEM file of the CA that signed the server's certificate")

    @field_validator("base_url", "token_url", check_fields=False)
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^https?://[^/\s]+", v):
            raise ValueError("must be an http(s) URL, e.g. https://sis.example.org")
        return v.rstrip("/") if v else v

    @model_validator(mode="after")
    def _secret_refs(self):
        for key in self.SECRET_KEYS:
            _secret(getattr(self, key, None))
        return self


TABLE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
# PowerSchool's co-teaching roles (Roles Administration > Co-Teaching) -> the enrollment role they read as.
DEFAULT_SECTION_ROLES: dict[str, str | None] = {
    "Lead Teacher": "teacher", "Co-teacher": "teacher", "Job Share Teacher": "teacher",
    "Teacher's Aide": None, "Class Observer": None,
}


class CoreFieldsTable(BaseModel):
    """Custom fields of a PowerSchool core-field or extension table, read through ``/ws/schema/table``:
    each field lands in the record's ``extensions`` as ``<table>.<field>``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    table: str = Field(description="e.g. studentcorefields, u_def_ext_students")
    of: Literal["student", "staff", "contact"] = Field(description="whose fields these are")
    key: str = Field(description="the column holding the record's id: a student's DCID (studentsdcid), a staff "
                                 "member's users DCID (usersdcid), a contact's person id (personid)")
    fields: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _names(self) -> "CoreFieldsTable":
        bad = [n for n in (self.table, self.key, *self.fields) if not TABLE_NAME.match(n)]
        if bad:
            raise ValueError(f"not a PowerSchool table or field name: {', '.join(bad)}")
        return self


class PowerSchoolSource(_ApiSource):
    """PowerSchool SIS through a plugin's OAuth client (System > Plugin Management > Data Configuration)."""

    type: Literal["powerschool"]
    client_id: str
    client_secret: str
    extensions: list[str] = Field(default_factory=list, description="student extension tables, e.g. u_students_extension")
    staff_extensions: list[str] = Field(default_factory=list, description="staff extension tables (extensions= on staff)")
    contact_extensions: list[str] = Field(default_factory=list,
                                          description="contact extension tables (extensions= on the contacts API)")
    core_fields: list[CoreFieldsTable] = Field(default_factory=list,
                                               description="core-field and other tables read with /ws/schema/table")
    school_ids: list[int] | None = Field(None, description="only these schools (PowerSchool school ids); default all")
    co_teachers: bool = Field(True, description="read every teacher of a section (the SectionTeacher table), not "
                                                "only the lead teacher")
    section_roles: dict[str, Literal["teacher", "proctor", "administrator"] | None] = Field(
        default_factory=lambda: dict(DEFAULT_SECTION_ROLES),
        description="co-teaching role (RoleDef name) -> enrollment role; null: not read. Merged over the default")
    contacts: Literal["contact_module", "student_fields"] = Field(
        "contact_module", description="guardians from the Contacts module, or (\"Do not use the Contact Module\") "
                                      "from the student record's mother, father and guardian fields")
    contact_name_format: Literal["last_first", "first_last"] = Field(
        "last_first", description="how mother/father names are written without a comma: \"Last First\" or "
                                  "\"First Last\" (a comma always means \"Last, First\")")

    @field_validator("extensions", "staff_extensions", "contact_extensions")
    @classmethod
    def _tables(cls, v: list[str]) -> list[str]:
        bad = [t for t in v if not TABLE_NAME.match(t)]
        if bad:
            raise ValueError(f"not a PowerSchool table name: {', '.join(bad)}")
        return v

    @field_validator("section_roles")
    @classmethod
    def _section_roles(cls, v: dict[str, str | None]) -> dict[str, str | None]:
        return {**DEFAULT_SECTION_ROLES, **v}


ONEROSTER_VERSION_PATHS = {"1.1": "/ims/oneroster/v1p1", "1.2": "/ims/oneroster/rostering/v1p2"}


class OneRosterApiSource(_ApiSource):
    """A OneRoster 1.1 or 1.2 REST provider.

    ``base_url`` is either the server root (``https://sis.example.org``; the version's path
    ``/ims/oneroster/v1p1`` or ``/ims/oneroster/rostering/v1p2`` is appended) or a URL that
    already ends with that path, as providers such as Synergy hand it out ("Server URL"). In the
    second form the path also tells the version when ``version`` is not given.
    """

    type: Literal["oneroster"]
    version: Literal["1.1", "1.2"] = "1.2"
    auth: Literal["oauth2", "oauth1"] = Field("oauth2", description="oauth1 (HMAC-SHA1 signing) exists for 1.1 only")
    token_url: str | None = Field(None, description="OAuth2 token endpoint (client credentials); required with oauth2")
    client_id: str
    client_secret: str
    scopes: list[str] | None = Field(None, description="OAuth2 scopes; 1.2 default: the roster read scopes, and the "
                                                       "gradebook and resource ones for the entities listed")
    users_endpoint: Literal["users", "students_teachers"] = Field(
        "users", description="read /users, or /students and /teachers for providers that only serve those")
    credentials_in: Literal["basic", "form"] = Field(
        "basic", description="how the OAuth2 client id and secret reach the token URL: Basic header or form body")

    @model_validator(mode="before")
    @classmethod
    def _version_from_url(cls, data):
        if not isinstance(data, dict):
            return data
        if isinstance(data.get("version"), (int, float)) and not isinstance(data["version"], bool):
            data = {**data, "version": f"{data['version']:.1f}"}  # YAML reads `version: 1.1` as a number
        if not isinstance(data.get("base_url"), str):
            return data
        url = data["base_url"].rstrip("/")
        implied = next((v for v, path in ONEROSTER_VERSION_PATHS.items() if url.endswith(path)), None)
        if implied is None:
            return data
        if data.get("version") is None:
            return {**data, "version": implied}
        if str(data["version"]) != implied:
            raise ValueError(f"base_url ends with the OneRoster {implied} path but version is {data['version']}")
        return data

    @model_validator(mode="after")
    def _auth(self) -> "OneRosterApiSource":
        if self.auth == "oauth1" and self.version != "1.1":
            raise ValueError("auth: oauth1 request signing is OneRoster 1.1 only; 1.2 uses oauth2")
        if self.auth == "oauth2" and not self.token_url:
            raise ValueError("token_url is required with auth: oauth2")
        return self

    def oauth_scopes(self) -> list[str]:
        if self.scopes is not None:
            return self.scopes
        if self.version != "1.2":
            return []
        extra = [scope for scope, feeds in ((GRADEBOOK_SCOPE, GRADEBOOK_FEEDS), (RESOURCE_SCOPE, RESOURCE_FEEDS))
                 if any(self.lists(e) for e in feeds)]
        return [*ONEROSTER_12_SCOPES, *extra]


class SynergySource(OneRosterApiSource):
    """Edupoint Synergy SIS through the district's Synergy OneRoster API.

    Synergy serves OneRoster 1.1 unless the district set up 1.2, and hands out a "Server URL"
    that already ends with the version path (either form of ``base_url`` is accepted). OAuth2
    client credentials are the recommended auth; OAuth 1.0a signing still works but is deprecated.
    """

    type: Literal["synergy"]  # type: ignore[assignment]
    version: Literal["1.1", "1.2"] = "1.1"


class XpressSource(_ApiSource):
    """An xPress Roster (A4L) provider, e.g. RIC One.

    Two ways to get a token, both posted as a form to ``token_url``: ``oauth2`` is A4L's xPress
    guide (password grant with username/password and the client id/secret; client credentials
    when no username is given); ``login`` is RIC One's auth server (``username``/``password``
    only, where RIC One's client id and secret are that login). Either answer may list the
    provider endpoints the credentials open, each with its own ``href`` and ``token``.
    """

    SECRET_KEYS: ClassVar[tuple[str, ...]] = ("client_secret", "password", "api_key")

    type: Literal["xpress"]
    base_url: str | None = Field(  # type: ignore[assignment]
        None, description="the xPress base URL (the parent of /xLeas); default: the endpoint href the token answer names")
    token_url: str
    auth: Literal["oauth2", "login"] = Field(
        "oauth2", description="oauth2: A4L's OAuth 2.0 password / client credentials grant; login: RIC One's login")
    username: str | None = None
    password: str | None = None
    api_key: str | None = Field(None, description="env:VAR of an API key, for providers that ask for one")
    api_key_header: str = Field("X-API-Key", description="the request header that carries api_key")
    provider_id: str | None = Field(
        None, description="which endpoint of the token answer to read (its provider_id or name) when it lists several")
    lea_ref_ids: list[str] | None = Field(None, description="only these LEAs (refIds); default every LEA served")

    @model_validator(mode="after")
    def _credentials(self) -> "XpressSource":
        if not (self.client_id and self.client_secret) and not (self.username and self.password):
            raise ValueError("give client_id and client_secret, or username and password (env:VAR)")
        return self


class GoogleWorkspaceSource(_Source):
    """Google Workspace accounts (Admin SDK Directory) as a source of staff and student users."""

    SECRET_KEYS: ClassVar[tuple[str, ...]] = ("service_account_key",)

    type: Literal["google"]
    service_account_key: str = Field(description="env:VAR holding the service account's JSON key")
    delegated_admin: str = Field(description="admin e-mail the service account acts as (domain-wide delegation)")
    customer: str = "my_customer"
    domain: str | None = None
    base_url: str = "https://admin.googleapis.com"
    token_url: str | None = Field(None, description="OAuth token endpoint; default: the key's token_uri "
                                                    "(https://oauth2.googleapis.com/token)")
    role_by_org_unit: dict[str, str] = Field(
        default_factory=lambda: {"/Students": "student", "/Staff": "teacher"},
        description="org unit path prefix -> role; the longest matching prefix wins")
    timeout_seconds: float = Field(30.0, gt=0)
    page_size: int | None = Field(None, ge=1, le=500, description="users per page (maxResults); default 500, the most")
    max_concurrency: int = Field(1, ge=1, le=1, description="always 1: each page's token comes from the previous page")
    ca_bundle: Path | None = None
    entities: list[Entity] | None = Field(None)

    _url = field_validator("base_url", "token_url")(_ApiSource._url.__func__)  # type: ignore[attr-defined]

    @model_validator(mode="after")
    def _secret_refs(self):
        _secret(self.service_account_key)
        bad = {r for r in self.role_by_org_unit.values() if r not in ("student", "teacher", "administrator", "aide")}
        if bad:
            raise ValueError(f"role_by_org_unit: roles must be student, teacher, administrator or aide (got {sorted(bad)})")
        paths = [p for p in self.role_by_org_unit if not p.startswith("/") or (p != "/" and p.endswith("/"))]
        if paths:
            raise ValueError(f"role_by_org_unit: org unit paths start with / and do not end with one (got {paths})")
        if self.entities is not None and set(self.entities) - {"users"}:
            raise ValueError("a Google Workspace source feeds users only")
        return self


Source = Annotated[
    Union[CsvFolderSource, SftpSource, PowerSchoolSource, OneRosterApiSource, SynergySource, XpressSource,
          GoogleWorkspaceSource],
    Field(discriminator="type"),
]
ApiSource = Union[PowerSchoolSource, OneRosterApiSource, SynergySource, XpressSource, GoogleWorkspaceSource]
DropSource = Union[CsvFolderSource, SftpSource]
SOURCE_TYPES: dict[str, type[_Source]] = {
    "csv": CsvFolderSource, "sftp": SftpSource, "powerschool": PowerSchoolSource, "oneroster": OneRosterApiSource,
    "synergy": SynergySource, "xpress": XpressSource, "google": GoogleWorkspaceSource,
}
