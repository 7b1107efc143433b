"""The column guide of a schema's template (README.md), generated from its file specs.

Passport schemas describe their columns in their specs; OneRoster's columns are described
here, by name (a name means the same in every file) with a few per-file exceptions.
"""

from __future__ import annotations

from passport_pipelines.validation.oneroster.spec import GRADES, Column, FileSpec
from passport_pipelines.validation.schemas.registry import CsvSchema

KINDS = {
    "text": "text",
    "id": "id: 1-255 letters, digits and . / @ _ -",
    "ids": "list of ids, comma-separated in one quoted cell",
    "list": "list, comma-separated in one quoted cell",
    "date": "date, YYYY-MM-DD",
    "timestamp": "UTC timestamp, 2025-08-01T12:00:00.000Z",
    "boolean": "true or false",
    "enum": "one of the allowed values",
    "grades": f"CEDS grade codes, comma-separated ({', '.join(GRADES)})",
    "user_ids": "{type:id} list, e.g. {state:123},{LDAP:jo}",
    "year": "four-digit ending year, e.g. 2026",
    "number": "a number, e.g. 87.5",
}

ONEROSTER = {
    "sourcedId": "the record's id in the sending system, stable across uploads",
    "status": "blank in bulk files; active or tobedeleted in delta files",
    "dateLastModified": "blank in bulk files; when the record last changed, in delta files",
    "name": "the organization's name", "type": "what kind of record this is", "identifier": "an outside id "
    "(NCES id for orgs, the local/student number for users)", "parentSourcedId": "the parent record's sourcedId",
    "title": "the title shown to people", "startDate": "first day", "endDate": "last day",
    "schoolYear": "the school year it belongs to, as its ending year", "schoolYearSourcedId":
    "the academicSessions record of the school year", "courseCode": "the course's code in the catalog",
    "grades": "the grades it is for", "orgSourcedId": "the org (school or district) it belongs to",
    "subjects": "subject names", "subjectCodes": "subject codes (e.g. SCED)", "courseSourcedId": "its course",
    "classCode": "the section's code", "classType": "homeroom or scheduled class", "location": "the room",
    "schoolSourcedId": "the school it is at", "termSourcedIds": "the terms it runs in", "periods": "periods it meets",
    "enabledUser": "whether the account may sign in", "orgSourcedIds": "the orgs the person belongs to",
    "role": "the person's role", "username": "the login name", "userIds": "other ids of the person",
    "givenName": "first name", "familyName": "last name", "middleName": "middle name", "email": "e-mail address",
    "sms": "mobile number for text messages", "phone": "phone number", "agentSourcedIds": "the person's "
    "guardians/parents (users)", "password": "never imported or exported by Passport; leave blank",
    "userMasterIdentifier": "a district-wide master id", "preferredGivenName": "preferred first name",
    "preferredMiddleName": "preferred middle name", "preferredFamilyName": "preferred last name",
    "primaryOrgSourcedId": "the person's primary org", "pronouns": "the person's pronouns",
    "userSourcedId": "the user it is about", "roleType": "primary or secondary role", "beginDate": "first day",
    "userProfileSourcedId": "the user profile the role uses", "profileType": "what the "
    "profile is for", "vendorId": "the vendor whose application it is", "applicationId": "the application",
    "description": "a description", "credentialType": "what kind of credential", "classSourcedId": "the class",
    "primary": "whether this is the class's primary teacher", "birthDate": "date of birth", "sex": "the person's sex",
    "countryOfBirthCode": "country of birth", "stateOfBirthAbbreviation": "state of birth",
    "cityOfBirth": "city of birth", "publicSchoolResidenceStatus": "public school residence status (CEDS)",
    # Gradebook and resources.
    "weight": "the category's weight in the final grade", "assignDate": "when it was assigned",
    "dueDate": "when it is due", "categorySourcedId": "its category", "gradingPeriodSourcedId":
    "the grading period (academicSessions) it counts in", "academicSessionSourcedId": "the academic session it "
    "counts in", "resultValueMin": "the lowest score", "resultValueMax": "the highest score",
    "lineItemSourcedId": "the line item", "studentSourcedId": "the student (users)", "scoreStatus":
    "how far the work is graded", "score": "the score (student data)", "scoreDate": "when it was scored",
    "comment": "the teacher's comment (student data)", "textScore": "the score as text, e.g. a letter grade",
    "inProgress": "whether the work is in progress", "incomplete": "whether the work is incomplete",
    "late": "whether the work was late", "missing": "whether the work is missing", "scoreScaleValue":
    "the scale's values, {value:meaning} list", "scoreScaleSourcedId": "the score scale", "resultSourcedId":
    "the result", "source": "where the learning objective id comes from: case or unknown", "learningObjectiveId":
    "the learning objective's id (e.g. a CASE id)", "vendorResourceId": "the resource's id at its vendor",
    "roles": "the roles it is for", "importance": "primary or secondary", "resourceSourcedId": "the resource",
}
ONEROSTER_BY_FILE = {
    ("demographics", "sourcedId"): "the user's sourcedId (one row per user)",
    ("enrollments", "role"): "the person's role in the class",
    ("userProfiles", "username"): "the login at the application",
    ("userProfiles", "password"): "never imported or exported by Passport; leave blank",
    ("orgs", "identifier"): "an outside id of the org, e.g. its NCES id",
    ("users", "identifier"): "the local or student number",
}
for race in ("americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican", "nativeHawaiianOrOtherPacificIslander",
             "white", "demographicRaceTwoOrMoreRaces", "hispanicOrLatinoEthnicity"):
    ONEROSTER[race] = "race/ethnicity flag"


def meaning(spec: FileSpec, column: Column) -> str:
    text = column.description or ONEROSTER_BY_FILE.get((spec.name, column.name)) or ONEROSTER.get(column.name, "")
    if column.references:
        text += f" (must exist in {column.references}.csv" + (", else the link is dropped)"
                                                              if column.on_dangling == "warn"
                                                              else ", else the row is left out)")
    return text


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def readme(schema: CsvSchema, layout: str) -> str:
    """The README.md of a template: what the files are, then one table of columns per file."""
    lines = [f"# {schema.title} template (`{schema.name}`)", "", layout, "",
             "Headers match case-insensitively and in any order; cells are trimmed; files are UTF-8 (a BOM is "
             "fine). Extra columns named `metadata.<name>` are kept as extensions. Every problem is reported "
             "with file, line, column and rule: a missing required value, an unreadable value or a duplicate "
             "key fails the whole drop; a row pointing at a record that does not exist is left out and reported.",
             ""]
    for spec in schema.files.values():
        key = " + ".join(spec.key)
        lines += [f"## {spec.filename}", "", f"Key: `{key}` (unique in the file)."
                  + "".join(f" `{' + '.join(k)}` is unique among students." for k in spec.natural_keys), "",
                  "| column | required | kind | allowed values | meaning |", "|---|---|---|---|---|"]
        for c in spec.columns:
            lines.append(f"| `{c.name}` | {'yes' if c.required else 'no'} | {_cell(KINDS.get(c.kind, c.kind))} | "
                         f"{_cell(', '.join(c.values))} | {_cell(meaning(spec, c))} |")
        lines.append("")
    return "\n".join(lines)
