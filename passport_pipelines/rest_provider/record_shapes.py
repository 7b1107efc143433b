"""The OneRoster 1.2 JSON of each rostering collection, built in DuckDB from the shielded delivered frames.

Each collection becomes a table with one row per record: ``sourcedId``, the record's JSON (each field's
value as JSON text, a field without a value left out), the scalar values the ``filter`` and ``sort``
parameters read (``v_<field>``, text), and the link columns the nested endpoints read (``k_<name>``).
References are ``{"href", "sourcedId", "type"}``; lists (grades, subjects...)
are JSON arrays; a 1.2 user states its orgs as ``roles`` and ``primaryOrg``, no ``role`` of its own.
Withheld attributes are NULL in the shielded frames, so they are left out here too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from passport_pipelines.sql.quoting import lit


@dataclass(frozen=True)
class Field:
    name: str  # the JSON field
    json: str  # SQL of its JSON text (NULL: left out)
    value: str | None = None  # SQL of its value as text, for filter and sort (None: neither)

    @property
    def in_json(self) -> bool:
        """False for a reference's ``x.sourcedId``: a name to filter and sort on, not a field of its own."""
        return self.json != "NULL"


@dataclass(frozen=True)
class Shape:
    collection: str  # the table (and the endpoint) it is served as
    key: str  # the JSON array of a page
    single: str  # the JSON object of one record
    entity: str  # the canonical entity it is made of
    source: str  # SQL FROM (the frames as views; ``o`` the entity's own)
    fields: tuple[Field, ...]
    links: dict[str, str] = field(default_factory=dict)  # k_<name> -> SQL
    # A collection that is a part of another (schools of orgs, students of users): its records are that
    # collection's, chosen by ``where`` over its snapshot table, rather than computed again.
    part_of: str | None = None
    where: str | None = None

    def part(self, collection: str, where: str) -> "Shape":
        return Shape(collection, self.key, self.single, self.entity, self.source, self.fields, self.links,
                     self.collection, where)


def _text(col: str) -> str:
    return f"to_json(o.{col})::VARCHAR"


def _list(col: str) -> str:
    return f"CASE WHEN o.{col} IS NOT NULL AND o.{col} <> '' THEN to_json(string_split(o.{col}, ','))::VARCHAR END"


def _bool(col: str) -> str:
    return f"CASE WHEN o.{col} IS NOT NULL THEN CASE WHEN o.{col} THEN 'true' ELSE 'false' END END"


def ref(base: str, collection: str, kind: str, expr: str) -> str:
    return (f"CASE WHEN {expr} IS NOT NULL THEN json_object('href', {lit(f'{base}/{collection}/')} || {expr}, "
            f"'sourcedId', {expr}, 'type', {lit(kind)})::VARCHAR END")


def _refs(base: str, collection: str, kind: str, list_expr: str) -> str:
    """A JSON array of references from a list of ids (NULL when empty)."""
    return (f"CASE WHEN len({list_expr}) > 0 THEN to_json(list_transform({list_expr}, x -> json_object("
            f"'href', {lit(f'{base}/{collection}/')} || x, 'sourcedId', x, 'type', {lit(kind)})))::VARCHAR END")


def _meta() -> Field:
    return Field("metadata", "CASE WHEN o.extensions IS NOT NULL AND o.extensions <> '{}' THEN o.extensions END")


def _common() -> tuple[Field, ...]:
    return (Field("sourcedId", "to_json(o.sourced_id)::VARCHAR", "o.sourced_id"),)


def shapes(base: str, have: set[str]) -> list[Shape]:
    """The collections served, given the API root ``base`` (for hrefs) and the entities the shield lets
    through (``have``): a collection whose entity is withheld is not served."""
    out: list[Shape] = []
    if "orgs" in have:
        org_fields = (
            *_common(),
            Field("name", _text("name"), "o.name"),
            Field("type", _text("type"), "o.type"),
            Field("identifier", _text("identifier"), "o.identifier"),
            Field("parent", ref(base, "orgs", "org", "o.parent_sourced_id"), None),
            Field("parent.sourcedId", "NULL", "o.parent_sourced_id"),
            Field("children", _refs(base, "orgs", "org", "c.ids"), None),
            _meta(),
        )
        source = ("orgs AS o LEFT JOIN (SELECT parent_sourced_id AS pid, list_sort(list(sourced_id)) AS ids "
                  "FROM orgs GROUP BY parent_sourced_id) AS c ON c.pid = o.sourced_id")
        orgs = Shape("orgs", "orgs", "org", "orgs", source, org_fields)
        out += [orgs, orgs.part("schools", "\"v_type\" = 'school'")]
    if "academic_sessions" in have:
        session_fields = (
            *_common(),
            Field("title", _text("title"), "o.title"),
            Field("type", _text("type"), "o.type"),
            Field("startDate", _text("start_date"), "o.start_date"),
            Field("endDate", _text("end_date"), "o.end_date"),
            Field("parent", ref(base, "academicSessions", "academicSession", "o.parent_sourced_id")),
            Field("parent.sourcedId", "NULL", "o.parent_sourced_id"),
            Field("children", _refs(base, "academicSessions", "academicSession", "c.ids")),
            Field("schoolYear", _text("ending_year"), "o.ending_year"),
            _meta(),
        )
        source = ("academic_sessions AS o LEFT JOIN (SELECT parent_sourced_id AS pid, "
                  "list_sort(list(sourced_id)) AS ids FROM academic_sessions GROUP BY parent_sourced_id) "
                  "AS c ON c.pid = o.sourced_id")
        sessions = Shape("academicSessions", "academicSessions", "academicSession", "academic_sessions", source,
                         session_fields)
        out += [sessions, sessions.part("terms", "\"v_type\" IN ('term', 'semester')"),
                sessions.part("gradingPeriods", "\"v_type\" = 'gradingPeriod'")]
    if "courses" in have:
        out.append(Shape("courses", "courses", "course", "courses", "courses AS o", (
            *_common(),
            Field("title", _text("title"), "o.title"),
            Field("courseCode", _text("course_code"), "o.course_code"),
            Field("grades", _list("grades")),
            Field("subjects", _list("subjects")),
            Field("subjectCodes", _list("subject_codes")),
            Field("org", ref(base, "orgs", "org", "o.org_sourced_id")),
            Field("org.sourcedId", "NULL", "o.org_sourced_id"),
            Field("schoolYear", ref(base, "academicSessions", "academicSession", "o.school_year_sourced_id")),
            Field("schoolYear.sourcedId", "NULL", "o.school_year_sourced_id"),
            _meta(),
        )))
    if "classes" in have:
        out.append(Shape("classes", "classes", "class", "classes", "classes AS o", (
            *_common(),
            Field("title", _text("title"), "o.title"),
            Field("classCode", _text("class_code"), "o.class_code"),
            Field("classType", _text("class_type"), "o.class_type"),
            Field("location", _text("location"), "o.location"),
            Field("grades", _list("grades")),
            Field("subjects", _list("subjects")),
            Field("subjectCodes", _list("subject_codes")),
            Field("periods", _list("periods")),
            Field("course", ref(base, "courses", "course", "o.course_sourced_id")),
            Field("course.sourcedId", "NULL", "o.course_sourced_id"),
            Field("school", ref(base, "orgs", "org", "o.school_sourced_id")),
            Field("school.sourcedId", "NULL", "o.school_sourced_id"),
            Field("terms", _refs(base, "academicSessions", "academicSession",
                                 "string_split(coalesce(o.term_sourced_ids, ''), ',')")),
            _meta(),
        ), {"terms": "list_filter(string_split(coalesce(o.term_sourced_ids, ''), ','), x -> x <> '')"}))
    if "users" in have:
        out += _user_shapes(base, have)
    if "enrollments" in have:
        out.append(Shape("enrollments", "enrollments", "enrollment", "enrollments", "enrollments AS o", (
            *_common(),
            Field("role", _text("role"), "o.role"),
            Field("primary", _bool('"primary"'), "CAST(o.\"primary\" AS VARCHAR)"),
            Field("beginDate", _text("begin_date"), "o.begin_date"),
            Field("endDate", _text("end_date"), "o.end_date"),
            Field("user", ref(base, "users", "user", "o.user_sourced_id")),
            Field("user.sourcedId", "NULL", "o.user_sourced_id"),
            Field("class", ref(base, "classes", "class", "o.class_sourced_id")),
            Field("class.sourcedId", "NULL", "o.class_sourced_id"),
            Field("school", ref(base, "orgs", "org", "o.school_sourced_id")),
            Field("school.sourcedId", "NULL", "o.school_sourced_id"),
            _meta(),
        )))
    if "demographics" in have:
        flags = (("americanIndianOrAlaskaNative", "american_indian_or_alaska_native"), ("asian", "asian"),
                 ("blackOrAfricanAmerican", "black_or_african_american"),
                 ("nativeHawaiianOrOtherPacificIslander", "native_hawaiian_or_other_pacific_islander"),
                 ("white", "white"), ("demographicRaceTwoOrMoreRaces", "two_or_more_races"),
                 ("hispanicOrLatinoEthnicity", "hispanic_or_latino_ethnicity"))
        out.append(Shape("demographics", "demographics", "demographics", "demographics", "demographics AS o", (
            *_common(),
            Field("birthDate", _text("birth_date"), "o.birth_date"),
            Field("sex", _text("sex"), "o.sex"),
            *(Field(name, _bool(col), f"CAST(o.{col} AS VARCHAR)") for name, col in flags),
            Field("countryOfBirthCode", _text("country_of_birth_code"), "o.country_of_birth_code"),
            Field("stateOfBirthAbbreviation", _text("state_of_birth_abbreviation"), "o.state_of_birth_abbreviation"),
            Field("cityOfBirth", _text("city_of_birth"), "o.city_of_birth"),
            Field("publicSchoolResidenceStatus", _text("public_school_residence_status"),
                  "o.public_school_residence_status"),
            _meta(),
        )))
    return out


def _user_shapes(base: str, have: set[str]) -> list[Shape]:
    # A user's roles: from the roles the shield lets through, else its role at each of its orgs (the
    # first primary), as a 1.1-style record states them.
    orgs = lit(f"{base}/orgs/")
    if "roles" in have:
        # Ordered by (primary first, org) through list_sort of (key, value) structs: an ORDER BY inside
        # the aggregate sorts per group, many times slower at a million people.
        key = "CASE WHEN role_type = 'primary' THEN '0' ELSE '1' END || org_sourced_id"
        roles = (f"SELECT user_sourced_id AS uid, list_transform(list_sort(list({{'k': {key}, 'v': json_object("
                 f"'roleType', role_type, 'role', role, 'org', json_object('href', {orgs} || org_sourced_id, "
                 "'sourcedId', org_sourced_id, 'type', 'org'), 'beginDate', begin_date, 'endDate', end_date)})), "
                 "x -> x.v) AS r, list_sort(list(org_sourced_id)) AS orgs, "
                 f"arg_min(org_sourced_id, {key}) AS primary_org FROM roles GROUP BY user_sourced_id")
    else:
        roles = ("SELECT sourced_id AS uid, list_transform(list_filter(string_split(coalesce(org_sourced_ids, ''), "
                 "','), x -> x <> ''), (x, i) -> json_object('roleType', CASE WHEN i = 1 THEN 'primary' ELSE "
                 f"'secondary' END, 'role', role, 'org', json_object('href', {orgs} || x, 'sourcedId', x, "
                 "'type', 'org'))) AS r, list_filter(string_split(coalesce(org_sourced_ids, ''), ','), "
                 "x -> x <> '') AS orgs, nullif(split_part(coalesce(org_sourced_ids, ''), ',', 1), '') AS primary_org "
                 "FROM users")
    agents = ("LEFT JOIN (SELECT user_sourced_id AS uid, list_sort(list(agent_sourced_id)) AS ids "
              "FROM agents GROUP BY user_sourced_id) AS a ON a.uid = o.sourced_id") if "agents" in have else \
        "LEFT JOIN (SELECT NULL::VARCHAR AS uid, NULL::VARCHAR[] AS ids) AS a ON false"
    source = f"users AS o LEFT JOIN ({roles}) AS r ON r.uid = o.sourced_id {agents}"
    user_ids = ("list_transform(regexp_extract_all(coalesce(o.user_ids, ''), '\\{([^}]*)\\}', 1), "
                "x -> json_object('type', trim(split_part(x, ':', 1)), 'identifier', "
                "trim(substr(x, strpos(x, ':') + 1))))")
    fields = (
        *_common(),
        Field("enabledUser", _bool("enabled_user"), "CAST(o.enabled_user AS VARCHAR)"),
        Field("username", _text("username"), "o.username"),
        Field("userIds", f"CASE WHEN len({user_ids}) > 0 THEN to_json({user_ids})::VARCHAR END"),
        Field("givenName", _text("given_name"), "o.given_name"),
        Field("familyName", _text("family_name"), "o.family_name"),
        Field("middleName", _text("middle_name"), "o.middle_name"),
        Field("preferredFirstName", _text("preferred_given_name"), "o.preferred_given_name"),
        Field("preferredLastName", _text("preferred_family_name"), "o.preferred_family_name"),
        Field("identifier", _text("identifier"), "o.identifier"),
        Field("userMasterIdentifier", _text("state_id"), "o.state_id"),
        Field("email", _text("email"), "o.email"),
        Field("sms", _text("sms"), "o.sms"),
        Field("phone", _text("phone"), "o.phone"),
        Field("roles", "CASE WHEN len(r.r) > 0 THEN to_json(r.r)::VARCHAR END"),
        Field("primaryOrg", ref(base, "orgs", "org", "r.primary_org")),
        Field("primaryOrg.sourcedId", "NULL", "r.primary_org"),
        Field("agents", _refs(base, "users", "user", "a.ids")),
        Field("grades", _list("grades")),
        _meta(),
    )
    users = Shape("users", "users", "user", "users", source, fields, {"orgs": "coalesce(r.orgs, [])", "role": "o.role"})
    return [users, users.part("students", "\"k_role\" = 'student'"), users.part("teachers", "\"k_role\" = 'teacher'")]
