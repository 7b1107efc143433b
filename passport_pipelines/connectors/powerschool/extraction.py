"""What one PowerSchool extract reads, in order, and which raw table each record goes to.

1. ``/ws/v1/metadata`` (page size maxima) and ``/ws/v1/district``;
2. ``/ws/v1/district/school`` (paged), narrowed to ``school_ids`` when configured;
3. per school ``/ws/v1/school/{id}/term|course|staff|section|student`` (paged, all at once);
4. per section ``/ws/v1/section/{id}/section_enrollment``;
5. per student ``/ws/contacts/student/{dcid}`` (guardians and their relationships).
"""

from __future__ import annotations

from typing import Any

from passport_pipelines.connectors.powerschool import envelopes
from passport_pipelines.connectors.powerschool.client import Collection, PowerSchoolClient
from passport_pipelines.connectors.raw_tables import RawTables
from passport_pipelines.connectors.http.transport import where

STUDENT_EXPANSIONS = "demographics,school_enrollment,contact_info,ethnicity_race"

# raw table -> (resource path segment, envelope plural, singular, metadata key of its maximum page size)
SCHOOL_RESOURCES: dict[str, tuple[str, str, str, str]] = {
    "terms": ("term", "terms", "term", "term_max_page_size"),
    "courses": ("course", "courses", "course", "course_max_page_size"),
    "staff": ("staff", "staffs", "staff", "staff_max_page_size"),
    "sections": ("section", "sections", "section", "section_max_page_size"),
    "students": ("student", "students", "student", "student_max_page_size"),
}
FALLBACK_PAGE_SIZE = 100  # PowerSchool's documented default when metadata omits a maximum

RAW_TABLES: dict[str, tuple[str, ...]] = {
    "district": (),
    "schools": (),
    **{name: ("school_id",) for name in SCHOOL_RESOURCES},
    "section_enrollments": ("section_id", "school_id"),
    "contacts": ("student_id",),
}


def page_size(metadata: dict, key: str, configured: int | None) -> int:
    """The configured page size, never above the resource's maximum."""
    try:
        maximum = int(metadata.get(key) or FALLBACK_PAGE_SIZE)
    except (TypeError, ValueError):
        maximum = FALLBACK_PAGE_SIZE
    return max(1, min(maximum, configured or maximum))


def extract_all(client: PowerSchoolClient, source: Any, tables: RawTables, *, enrollments: bool = True,
                contacts: bool = True) -> None:
    """Read the district into ``tables``."""
    metadata = envelopes.single(client.get("/ws/v1/metadata"), "metadata", where(client.base_url + "/ws/v1/metadata"))
    district = envelopes.single(client.get("/ws/v1/district"), "district", where(client.base_url + "/ws/v1/district"))
    tables.table("district").add([district])

    schools = Collection("/ws/v1/district/school", "schools", "school",
                         page_size(metadata, "school_max_page_size", source.page_size))
    client.read_collections([schools])
    wanted = set(source.school_ids or [])
    school_rows = [s for s in schools.records if not wanted or int(s.get("id", -1)) in wanted]
    tables.table("schools").add(school_rows)

    per_school = []
    for school in school_rows:
        for table, (segment, plural, singular, max_key) in SCHOOL_RESOURCES.items():
            params = {}
            if table == "students":
                params["expansions"] = STUDENT_EXPANSIONS
                if source.extensions:
                    params["extensions"] = ",".join(source.extensions)
            per_school.append(Collection(f"/ws/v1/school/{school['id']}/{segment}", plural, singular,
                                         page_size(metadata, max_key, source.page_size), params,
                                         {"table": table, "school_id": school["id"]}))
    client.read_collections(per_school)
    for c in per_school:
        tables.table(c.context["table"]).add(c.records, school_id=c.context["school_id"])

    if enrollments:
        size = page_size(metadata, "section_enrollment_max_page_size", source.page_size)
        sections = [Collection(f"/ws/v1/section/{s['id']}/section_enrollment", "section_enrollments",
                               "section_enrollment", size, context={"section_id": s["id"], "school_id": c.context["school_id"]})
                    for c in per_school if c.context["table"] == "sections" for s in c.records]

        def read_section(c: Collection) -> None:
            tables.table("section_enrollments").add(client.read_unpaged_count(c), **c.context)

        client.map(read_section, sections)

    if contacts:
        students = [s["id"] for c in per_school if c.context["table"] == "students" for s in c.records]

        def read_contacts(dcid: Any) -> None:
            path = f"/ws/contacts/student/{dcid}"
            found = envelopes.contacts(client.get(path), where(client.base_url + path))
            tables.table("contacts").add(found, student_id=dcid)

        client.map(read_contacts, students)
