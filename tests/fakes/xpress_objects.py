"""The synthetic district's OneRoster CSV rows reshaped into xPress Roster objects (field names as in
the RIC One xPress data model: xLea, xSchool, xCalendar with sessions, xCourse, xRoster with meeting
times, student and staff references, xStaff with assignments, xStudent with demographics and
enrollment, xContact with relationships). refIds are the CSV sourcedIds. A list of one element is
written as the element itself, as xPress JSON converted from SIF XML does."""

from __future__ import annotations

from collections import defaultdict

from tests.fakes.district_data import DistrictData

SESSION_TYPES = {"schoolYear": ("FullSchoolYear", False, False), "semester": ("Semester", True, True),
                 "term": ("Trimester", True, True), "gradingPeriod": ("Quarter", True, False)}
SEX = {"male": "Male", "female": "Female", "unspecified": "NotSelected", "other": "X"}
RACES = {"americanIndianOrAlaskaNative": "AmericanIndianOrAlaskaNative", "asian": "Asian",
         "blackOrAfricanAmerican": "BlackOrAfricanAmerican",
         "nativeHawaiianOrOtherPacificIslander": "NativeHawaiianOrOtherPacificIslander", "white": "White",
         "demographicRaceTwoOrMoreRaces": "DemographicRaceTwoOrMoreRaces"}
RELATIONSHIPS = {"parent": "Parent", "guardian": "Guardian", "relative": "Relative"}
JOBS = {"teacher": "Teacher", "administrator": "Administrator", "aide": "Aide", "proctor": "Proctor"}


def _one(items: list):
    return items[0] if len(items) == 1 else items


def _split(cell: str) -> list[str]:
    return [x.strip() for x in cell.split(",") if x.strip()]


def _clean(d: dict) -> dict:
    """Drop empty fields, as a provider omits elements it has no value for."""
    return {k: v for k, v in d.items() if v not in (None, "", [], {})}


def _user_ids(cell: str) -> tuple[str | None, list[dict]]:
    state, other = None, []
    for item in _split(cell.replace("},{", "},,{")):
        kind, _, value = item.strip("{}").partition(":")
        if kind.strip().lower() == "state":
            state = value.strip()
        else:
            other.append({"type": kind.strip(), "id": value.strip()})
    return state, other


def _person(u: dict, year: str, email_type: str) -> dict:
    state, other = _user_ids(u["userIds"])
    phones = ([{"phoneNumberType": "Home", "number": u["phone"], "primaryIndicator": "true"}] if u["phone"] else []) \
        + ([{"phoneNumberType": "Mobile", "number": u["sms"], "primaryIndicator": "false" if u["phone"] else "true"}]
           if u["sms"] else [])
    return _clean({
        "refId": u["sourcedId"],
        "name": _clean({"type": "LegalName", "familyName": u["familyName"], "givenName": u["givenName"],
                        "middleName": u["middleName"]}),
        "localId": u["identifier"], "stateProvinceId": state,
        "otherIds": {"otherId": _one(other)} if other else None,
        "appProvisioningInfo": _clean({"loginId": u["username"]}),
        "phoneNumber": phones[0] if phones else None,
        "otherPhoneNumbers": {"phoneNumber": _one(phones[1:])} if len(phones) > 1 else None,
        "email": {"emailType": email_type, "emailAddress": u["email"]} if u["email"] else None,
        "metadata": {"schoolYear": year},
    })


def xpress_objects(data: DistrictData, last_year: bool = True) -> dict[str, list[dict]]:
    """The year's objects; with ``last_year``, a few records of the year before as well (a provider
    holds them too, and a request for this year must not return them)."""
    t = data.tables
    year = next(s["schoolYear"] for s in t["academicSessions"] if s["type"] == "schoolYear")
    meta = {"schoolYear": year}
    district = next(o for o in t["orgs"] if o["type"] == "district")
    schools = [o for o in t["orgs"] if o["type"] == "school"]
    users = {u["sourcedId"]: u for u in t["users"]}
    courses = {c["sourcedId"]: c for c in t["courses"]}
    demographics = {d["sourcedId"]: d for d in t["demographics"]}

    leas = [_clean({"refId": district["sourcedId"], "leaName": district["name"], "ncesId": district["identifier"],
                    "metadata": meta})]
    xschools = [_clean({"refId": s["sourcedId"], "leaRefId": s["parentSourcedId"], "schoolName": s["name"],
                        "otherIds": {"otherId": {"type": "NCES", "id": s["identifier"]}} if s["identifier"] else None,
                        "metadata": meta}) for s in schools]
    sessions = [_clean({"sessionType": SESSION_TYPES[s["type"]][0], "sessionCode": s["sourcedId"],
                        "description": s["title"], "markingTerm": SESSION_TYPES[s["type"]][1],
                        "schedulingTerm": SESSION_TYPES[s["type"]][2], "linkedSessionCode": s["parentSourcedId"],
                        "startDate": s["startDate"], "endDate": s["endDate"]}) for s in t["academicSessions"]]
    calendars = [{"refId": f"cal-{s['sourcedId']}-{year}", "schoolRefId": s["sourcedId"], "schoolYear": year,
                  "sessions": {"sessionList": _one(sessions)}, "metadata": meta} for s in schools]
    calendar_of = {c["schoolRefId"]: c["refId"] for c in calendars}
    xcourses = [_clean({"refId": c["sourcedId"], "schoolRefId": c["orgSourcedId"], "schoolCourseId": c["courseCode"],
                        "courseTitle": c["title"], "subject": c["subjects"],
                        "applicableEducationLevels": {"applicableEducationLevel": _one(_split(c["grades"]))}
                        if c["grades"] else None, "metadata": meta}) for c in t["courses"]]

    members: dict[str, list[dict]] = defaultdict(list)
    for e in t["enrollments"]:
        members[e["classSourcedId"]].append(e)
    rosters = []
    for c in t["classes"]:
        students, staff = [], []
        for e in members[c["sourcedId"]]:
            u = users[e["userSourcedId"]]
            ref = _clean({"refId": u["sourcedId"], "localId": u["identifier"], "givenName": u["givenName"],
                          "familyName": u["familyName"]})
            if e["role"] == "student":
                students.append(ref)
            else:
                staff.append({"staffPersonReference": ref, "teacherOfRecord": e["primary"].lower() == "true"})
        staff.sort(key=lambda s: not s["teacherOfRecord"])
        meetings = [_clean({"timeTablePeriod": p, "roomNumber": c["location"], "sessionCode": term,
                            "schoolCalendarRefId": calendar_of.get(c["schoolSourcedId"])})
                    for term in _split(c["termSourcedIds"]) for p in (_split(c["periods"]) or [""])]
        rosters.append(_clean({
            "refId": c["sourcedId"], "courseRefId": c["courseSourcedId"],
            "courseTitle": courses.get(c["courseSourcedId"], {}).get("title"), "subject": c["subjects"],
            "schoolRefId": c["schoolSourcedId"], "schoolSectionId": c["classCode"], "schoolYear": year,
            "meetingTimes": {"meetingTime": _one(meetings)} if meetings else None,
            "students": {"studentReference": _one(students)} if students else None,
            "primaryStaff": staff[0] if staff and staff[0]["teacherOfRecord"] else None,
            "otherStaffs": {"otherStaff": _one(staff[1:] if staff[0]["teacherOfRecord"] else staff)}
            if len(staff) > (1 if staff and staff[0]["teacherOfRecord"] else 0) else None,
            "metadata": meta}))

    staffs, students, contacts = [], [], []
    for u in t["users"]:
        role, orgs = u["role"], _split(u["orgSourcedIds"])
        if role in JOBS:
            assignments = [_clean({"leaRefId": district["sourcedId"],
                                   "schoolRefId": o if o != district["sourcedId"] else None,
                                   "jobFunction": JOBS[role]}) for o in orgs]
            staffs.append(_clean({**_person(u, year, "Work"), "primaryAssignment": assignments[0] if assignments else None,
                                  "otherAssignments": {"staffPersonAssignment": _one(assignments[1:])}
                                  if len(assignments) > 1 else None}))
        elif role == "student":
            d = demographics.get(u["sourcedId"])
            enrollments = [_clean({"leaRefId": district["sourcedId"], "schoolRefId": o, "membershipType": "Home",
                                   "gradeLevel": _split(u["grades"])[0] if u["grades"] else None}) for o in orgs]
            demo = None
            if d:
                races = [code for flag, code in RACES.items() if d[flag].lower() == "true"]
                demo = _clean({"races": {"race": _one([{"race": r} for r in races])},
                               "hispanicLatinoEthnicity": d["hispanicOrLatinoEthnicity"].lower() or None,
                               "sex": SEX.get(d["sex"]), "birthDate": d["birthDate"],
                               "countryOfBirth": d["countryOfBirthCode"]})
            contacts_of = _split(u["agentSourcedIds"])
            students.append(_clean({**_person(u, year, "Primary"), "demographics": demo,
                                    "enrollment": enrollments[0] if enrollments else None,
                                    "otherEnrollments": {"enrollment": _one(enrollments[1:])}
                                    if len(enrollments) > 1 else None,
                                    "studentContacts": {"contactPersonRefId": _one(contacts_of)} if contacts_of else None}))
        else:
            relations = [{"studentRefId": s, "relationshipCode": RELATIONSHIPS.get(role, "Guardian")}
                         for s in _split(u["agentSourcedIds"])]
            contacts.append(_clean({**_person(u, year, "Home"),
                                    "relationships": {"relationship": _one(relations)} if relations else None}))
    objects = {"xLeas": leas, "xSchools": xschools, "xCalendars": calendars, "xCourses": xcourses, "xRosters": rosters,
               "xStaffs": staffs, "xStudents": students, "xContacts": contacts}
    if not last_year:
        return objects
    # The provider also holds last year's records; a SchoolYear request for this year must not return them.
    last = str(int(year) - 1)
    students.append({**students[0], "refId": students[0]["refId"] + f"-{last}", "metadata": {"schoolYear": last}})
    calendars.append({**calendars[0], "refId": f"cal-{schools[0]['sourcedId']}-{last}", "schoolYear": last,
                      "metadata": {"schoolYear": last}})
    return objects
