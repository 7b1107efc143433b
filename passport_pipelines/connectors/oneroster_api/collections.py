"""The OneRoster REST collections we read, where they live, and which canonical entities they feed.

Paths per the 1.1 REST binding (``/ims/oneroster/v1p1``) and the 1.2 Rostering Service REST
binding (``/ims/oneroster/rostering/v1p2``). A collection answers ``{"<key>": [...]}``;
``/students`` and ``/teachers`` answer with the ``users`` key, as the bindings say.
"""

from __future__ import annotations

from dataclasses import dataclass

from passport_pipelines.config.sources import ONEROSTER_12_SCOPES, ONEROSTER_VERSION_PATHS

CORE_SCOPE, ROSTER_SCOPE, DEMOGRAPHICS_SCOPE = ONEROSTER_12_SCOPES


@dataclass(frozen=True)
class Collection:
    path: str  # the endpoint under the version root, e.g. "academicSessions"
    key: str  # the JSON array the records come in
    raw_table: str  # where its records are kept as received


COLLECTIONS: dict[str, Collection] = {c.path: c for c in (
    Collection("orgs", "orgs", "orgs"),
    Collection("academicSessions", "academicSessions", "academicSessions"),
    Collection("courses", "courses", "courses"),
    Collection("classes", "classes", "classes"),
    Collection("users", "users", "users"),
    Collection("students", "users", "users"),
    Collection("teachers", "users", "users"),
    Collection("enrollments", "enrollments", "enrollments"),
    Collection("demographics", "demographics", "demographics"),
)}

# Raw table -> context columns. ``endpoint`` says whether a user came from /users, /students or /teachers.
RAW_TABLES: dict[str, tuple[str, ...]] = {
    "orgs": (), "academicSessions": (), "courses": (), "classes": (), "users": ("endpoint",), "enrollments": (),
    "demographics": (),
}

# Roles and guardian links are read from the user records, so they come with the users.
ENTITY_SOURCES: dict[str, str] = {
    "orgs": "orgs", "academic_sessions": "academicSessions", "courses": "courses", "classes": "classes",
    "users": "users", "roles": "users", "agents": "users", "enrollments": "enrollments",
    "demographics": "demographics",
}
FEEDS = tuple(ENTITY_SOURCES)


def api_root(base_url: str, version: str) -> str:
    """The version root: ``base_url`` itself when it already ends with the version path."""
    url = base_url.rstrip("/")
    path = ONEROSTER_VERSION_PATHS[version]
    return url if url.endswith(path) else url + path


def collections_for(source) -> list[Collection]:
    """The collections an extract of ``source`` reads, in an order that suits a reader."""
    wanted = {ENTITY_SOURCES[e] for e in FEEDS if source.wants(e)}
    paths = [p for p in ("orgs", "academicSessions", "courses", "classes") if p in wanted]
    if "users" in wanted:
        paths += ["users"] if source.users_endpoint == "users" else ["students", "teachers"]
    paths += [p for p in ("enrollments", "demographics") if p in wanted]
    return [COLLECTIONS[p] for p in paths]
