"""The OneRoster REST collections we read, where they live, and which canonical entities they feed.

Paths per the 1.1 REST binding (``/ims/oneroster/v1p1``, every service under one root) and the 1.2
REST bindings, one root per service: Rostering (``/ims/oneroster/rostering/v1p2``), Gradebook
(``/ims/oneroster/gradebook/v1p2``) and Resources (``/ims/oneroster/resources/v1p2``). A collection
answers ``{"<key>": [...]}``; ``/students`` and ``/teachers`` answer with the ``users`` key, as the
bindings say. The resources of a class, course or user are read per parent
(``/classes/{id}/resources``...): OneRoster has no collection of those links.

Gradebook and resources collections are read only when the source's ``entities`` lists what they
feed: the services need their own scopes (1.2), and results are the largest collection a district has.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from passport_pipelines.config.sources import ONEROSTER_12_SCOPES, ONEROSTER_VERSION_PATHS

CORE_SCOPE, ROSTER_SCOPE, DEMOGRAPHICS_SCOPE = ONEROSTER_12_SCOPES

ROSTERING, GRADEBOOK, RESOURCES = "rostering", "gradebook", "resources"
SERVICE_PATHS = {
    "1.1": {ROSTERING: "/ims/oneroster/v1p1", GRADEBOOK: "/ims/oneroster/v1p1", RESOURCES: "/ims/oneroster/v1p1"},
    "1.2": {ROSTERING: "/ims/oneroster/rostering/v1p2", GRADEBOOK: "/ims/oneroster/gradebook/v1p2",
            RESOURCES: "/ims/oneroster/resources/v1p2"},
}


@dataclass(frozen=True)
class Collection:
    path: str  # the endpoint under the service's root, e.g. "academicSessions"
    key: str  # the JSON array the records come in
    raw_table: str  # where its records are kept as received
    service: str = ROSTERING


@dataclass(frozen=True)
class Nested:
    """The resources of each class, course or user: ``/<parent>/{id}/resources``, one read per parent,
    kept with the parent's id (the context column of ``raw_table``)."""

    parent: str  # the parent collection, e.g. "classes"
    raw_table: str
    context: str  # the raw table's column holding the parent's sourcedId

    def collection(self, parent_id: str) -> Collection:
        return Collection(f"{self.parent}/{quote(parent_id, safe='')}/resources", "resources", self.raw_table,
                          RESOURCES)


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
    Collection("categories", "categories", "categories", GRADEBOOK),
    Collection("scoreScales", "scoreScales", "scoreScales", GRADEBOOK),
    Collection("lineItems", "lineItems", "lineItems", GRADEBOOK),
    Collection("results", "results", "results", GRADEBOOK),
    Collection("resources", "resources", "resources", RESOURCES),
)}
NESTED: dict[str, Nested] = {n.raw_table: n for n in (
    Nested("classes", "classResources", "class"),
    Nested("courses", "courseResources", "course"),
    Nested("users", "userResources", "user"),
)}

# Raw table -> context columns. ``endpoint`` says whether a user came from /users, /students or /teachers.
RAW_TABLES: dict[str, tuple[str, ...]] = {
    "orgs": (), "academicSessions": (), "courses": (), "classes": (), "users": ("endpoint",), "enrollments": (),
    "demographics": (), "categories": (), "scoreScales": (), "lineItems": (), "results": (), "resources": (),
    **{n.raw_table: (n.context,) for n in NESTED.values()},
}

# Roles and guardian links are read from the user records, so they come with the users; score scale
# links and learning objectives with the line items and results that name them.
ENTITY_SOURCES: dict[str, str] = {
    "orgs": "orgs", "academic_sessions": "academicSessions", "courses": "courses", "classes": "classes",
    "users": "users", "roles": "users", "agents": "users", "enrollments": "enrollments",
    "demographics": "demographics",
    "categories": "categories", "score_scales": "scoreScales", "line_items": "lineItems",
    "line_item_score_scales": "lineItems", "line_item_learning_objective_ids": "lineItems", "results": "results",
    "result_score_scales": "results", "result_learning_objective_ids": "results", "resources": "resources",
    "class_resources": "classResources", "course_resources": "courseResources", "user_resources": "userResources",
}
FEEDS = tuple(ENTITY_SOURCES)
ROSTER_FEEDS = ("orgs", "academic_sessions", "courses", "classes", "users", "roles", "agents", "enrollments",
                "demographics")
# Per version, what the provider can serve: 1.1 has no score scales and no resources of a user.
ONLY_12 = ("score_scales", "user_resources")


def api_root(base_url: str, version: str, service: str = ROSTERING) -> str:
    """A service's root: ``base_url`` without the version's rostering path it may end with, plus the
    service's path (``base_url`` itself for the rostering service of a URL that ends with it)."""
    url = base_url.rstrip("/")
    rostering = ONEROSTER_VERSION_PATHS[version]
    server = url[: -len(rostering)] if url.endswith(rostering) else url
    return server + SERVICE_PATHS[version][service]


def reads(source, entity: str) -> bool:
    """Whether an extract of ``source`` reads what feeds ``entity``: a rostering entity unless the source
    leaves it out, a gradebook or resources one only when the source lists it."""
    if entity not in ROSTER_FEEDS:
        return source.lists(entity) and not (source.version == "1.1" and entity in ONLY_12)
    return source.wants(entity)


def collections_for(source) -> list[Collection]:
    """The collections an extract of ``source`` reads (not the nested ones), in an order that suits a
    reader: line items after the classes that tell their year, results after the line items."""
    wanted = {ENTITY_SOURCES[e] for e in FEEDS if reads(source, e)}
    paths = [p for p in ("orgs", "academicSessions", "courses", "classes") if p in wanted]
    if "users" in wanted:
        paths += ["users"] if source.users_endpoint == "users" else ["students", "teachers"]
    paths += [p for p in ("enrollments", "demographics", "categories", "scoreScales", "lineItems", "results",
                          "resources") if p in wanted]
    return [COLLECTIONS[p] for p in paths]


def nested_for(source) -> list[Nested]:
    """The per-parent resource reads an extract of ``source`` makes."""
    wanted = {ENTITY_SOURCES[e] for e in FEEDS if reads(source, e)}
    return [n for name, n in NESTED.items() if name in wanted]
