"""What one PowerSchool extract reads, in order, and which raw table each record goes to.

1. ``/ws/v1/metadata`` (page size maxima) and ``/ws/v1/district``;
2. ``/ws/v1/district/school`` (paged), narrowed to ``school_ids`` when configured;
3. per school ``/ws/v1/school/{id}/term|course|staff|section|student`` (paged, all at once);
4. per section ``/ws/v1/section/{id}/section_enrollment``;
5. ``/ws/schema/table`` queries (paged like the rest, ``/count`` first): with ``co_teachers``, every
   teacher of every section (``sectionteacher``) with the co-teaching roles' names (``roledef``) and the
   id maps that tie them to ``/ws/v1`` ids (``sections``: id -> dcid, ``schoolstaff``: id -> users_dcid);
   with ``contacts: student_fields``, the parent fields of the student records (``students``); and each
   of the source's ``core_fields`` tables;
6. per student ``/ws/contacts/student/{dcid}`` (guardians and their relationships), unless the source
   takes guardians from the student record (``contacts: student_fields``, PowerSchool's "Do not use the
   Contact Module").

Extension tables come with the records they extend: ``extensions=`` on students (``extensions``), staff
(``staff_extensions``) and contacts (``contact_extensions``).

The extract is of the sync's school year: a school's term resource lists the terms of every year
the district holds, each with its ``start_year`` (2025 for 2025-2026), and a section names its
term (``term_id``). Terms are kept by ``start_year``, sections by their term, and the enrollments
of the kept sections alone are fetched. The API documents no school-year filter on these
resources, so that is done on what was read. Students, staff, courses and contacts are
PowerSchool's current ones: the ``/ws/v1`` resources have no earlier years of them.
"""

from __future__ import annotations

from typing import Any

from passport_pipelines.model.school_years import SchoolYear
from passport_pipelines.sources.http.transport import where
from passport_pipelines.sources.powerschool import envelopes
from passport_pipelines.sources.powerschool.client import Collection, PowerSchoolClient, table_collection
from passport_pipelines.sources.raw_tables import RawTables

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
    # /ws/schema/table queries, records as received ({"id", "name", "tables": {table: {...}}})
    "section_teachers": (),  # SectionTeacher: every teacher of a section, with a co-teaching role
    "teacher_roles": (),  # RoleDef: the co-teaching roles' names
    "section_ids": (),  # Sections: internal id -> the DCID /ws/v1 names a section by
    "schoolstaff_ids": (),  # SchoolStaff: internal id -> the users DCID /ws/v1 names staff by
    "student_parents": (),  # Students: the parent fields of the student record (no Contact Module)
    "core_fields": ("table", "of", "key"),  # the core_fields tables of the source
    # the source's own settings the SQL models read, as the extract ran with them
    "section_roles": (),
    "contact_settings": (),
}
SECTION_TEACHER_FIELDS = ("id", "sectionid", "teacherid", "roleid", "start_date", "end_date", "allocation",
                          "priorityorder")
PARENT_FIELDS = ("dcid", "mother", "father", "guardian_fn", "guardian_mn", "guardian_ln", "guardianemail",
                 "motherdayphone", "fatherdayphone")
TABLE_PAGE_SIZE_KEY = "schema_table_query_max_page_size"


def schema_tables(source: Any) -> list[str]:
    """The database tables a sync of the source reads through ``/ws/schema/table``."""
    names = []
    if source.wants("enrollments") and source.co_teachers:
        names += ["sectionteacher", "roledef", "sections", "schoolstaff"]
    if (source.wants("users") or source.wants("agents")) and source.contacts == "student_fields":
        names.append("students")
    return names + [spec.table for spec in source.core_fields if spec.table not in names]


def page_size(metadata: dict, key: str, configured: int | None) -> int:
    """The configured page size, never above the resource's maximum."""
    try:
        maximum = int(metadata.get(key) or FALLBACK_PAGE_SIZE)
    except (TypeError, ValueError):
        maximum = FALLBACK_PAGE_SIZE
    return max(1, min(maximum, configured or maximum))


def _start_year(term: dict) -> int | None:
    try:
        return int(term.get("start_year"))
    except (TypeError, ValueError):
        return None


def _of_year(per_school: list[Collection], year: SchoolYear) -> dict[str, int]:
    """Keep the terms of ``year`` and the sections in them; returns how many were left out."""
    terms = {str(t.get("id")) for c in per_school if c.context["table"] == "terms" for t in c.records
             if _start_year(t) == year.start}
    left_out = {"terms": 0, "sections": 0}
    for c in per_school:
        table = c.context["table"]
        if table == "terms":
            kept = [t for t in c.records if _start_year(t) == year.start]
        elif table == "sections":
            kept = [s for s in c.records if str(s.get("term_id")) in terms]
        else:
            continue
        left_out[table] += len(c.records) - len(kept)
        c.records = kept
    return left_out


def extract_all(client: PowerSchoolClient, source: Any, tables: RawTables, school_year: str, *,
                enrollments: bool = True, contacts: bool = True) -> str:
    """Read the district's ``school_year`` into ``tables``; returns how it was restricted to the year."""
    year = SchoolYear.parse(school_year)
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
            if table == "staff" and source.staff_extensions:
                params["extensions"] = ",".join(source.staff_extensions)
            per_school.append(Collection(f"/ws/v1/school/{school['id']}/{segment}", plural, singular,
                                         page_size(metadata, max_key, source.page_size), params,
                                         {"table": table, "school_id": school["id"]}))
    client.read_collections(per_school)
    left_out = _of_year(per_school, year)
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

    table_size = page_size(metadata, TABLE_PAGE_SIZE_KEY, source.page_size)
    queries = []
    if enrollments and source.co_teachers:
        queries += [table_collection("sectionteacher", list(SECTION_TEACHER_FIELDS), table_size, raw="section_teachers"),
                    table_collection("roledef", ["id", "name"], table_size, raw="teacher_roles"),
                    table_collection("sections", ["id", "dcid"], table_size, raw="section_ids"),
                    table_collection("schoolstaff", ["id", "users_dcid"], table_size, raw="schoolstaff_ids")]
        tables.table("section_roles").add([{"name": name, "role": role}
                                           for name, role in sorted(source.section_roles.items())])
    if contacts and source.contacts == "student_fields":
        queries.append(table_collection("students", list(PARENT_FIELDS), table_size, raw="student_parents"))
    for spec in source.core_fields:
        queries.append(table_collection(spec.table, [spec.key, *spec.fields], table_size, raw="core_fields",
                                        table=spec.table, of=spec.of, key=spec.key))
    if queries:
        client.read_collections(queries)
        for q in queries:
            extra = {k: q.context[k] for k in ("table", "of", "key") if k in q.context}
            tables.table(q.context["raw"]).add(q.records, **extra)
    tables.table("contact_settings").add([{"contacts": source.contacts,
                                           "contact_name_format": source.contact_name_format}])

    if contacts and source.contacts == "contact_module":
        students = [s["id"] for c in per_school if c.context["table"] == "students" for s in c.records]
        params = {"extensions": ",".join(source.contact_extensions)} if source.contact_extensions else None

        def read_contacts(dcid: Any) -> None:
            path = f"/ws/contacts/student/{dcid}"
            found = envelopes.contacts(client.get(path, params), where(client.base_url + path))
            tables.table("contacts").add(found, student_id=dcid)

        client.map(read_contacts, students)
    return (f"restricted to {year.label}: terms with start_year {year.start}, the sections in them and their "
            f"enrollments, kept after reading (left out of other years: {left_out['terms']} terms, "
            f"{left_out['sections']} sections); schools, courses, students, staff and contacts not restricted "
            "(PowerSchool's /ws/v1 resources hold the current ones only)")
