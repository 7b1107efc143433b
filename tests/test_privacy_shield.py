"""The privacy shield on delivered frames: schools, entities and attributes, without a sync."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from passport_pipelines.config.destinations import PrivacyShield
from passport_pipelines.delivery.privacy_shield import shield_frames


def _frames() -> dict[str, pd.DataFrame]:
    orgs = pd.DataFrame({
        "sourced_id": ["g-dist", "g-north", "g-south", "g-south-art"],
        "name": ["District", "North High", "South High", "South Art Dept"],
        "type": ["district", "school", "school", "department"],
        "identifier": [None, "NCES-N", "NCES-S", None],
        "parent_sourced_id": [None, "g-dist", "g-dist", "g-south"], "status": "active", "extensions": None})
    users = pd.DataFrame({
        "sourced_id": ["u-ann", "u-bo", "u-cy", "u-mom"],
        "username": ["ann", "bo", "cy", "mom"], "given_name": ["Ann", "Bo", "Cy", "Mia"],
        "family_name": ["North", "South", "Both", "North"], "email": ["ann@x.org", "bo@x.org", "cy@x.org", "m@x.org"],
        "role": ["student", "student", "teacher", "guardian"],
        "org_sourced_ids": ["g-north", "g-south", "g-south,g-north", None], "status": "active", "extensions": None})
    classes = pd.DataFrame({"sourced_id": ["c-n", "c-s"], "title": ["Math N", "Math S"],
                            "school_sourced_id": ["g-north", "g-south"], "status": "active"})
    enrollments = pd.DataFrame({"sourced_id": ["e1", "e2", "e3"], "class_sourced_id": ["c-n", "c-s", "c-n"],
                                "school_sourced_id": ["g-north", "g-south", "g-north"],
                                "user_sourced_id": ["u-ann", "u-bo", "u-cy"], "role": ["student", "student", "teacher"],
                                "status": "active"})
    agents = pd.DataFrame({"sourced_id": ["a1"], "user_sourced_id": ["u-ann"], "agent_sourced_id": ["u-mom"],
                           "status": "active"})
    demographics = pd.DataFrame({"sourced_id": ["u-ann", "u-bo"], "birth_date": ["2012-01-02", "2011-03-04"],
                                 "status": "active"})
    return {"orgs": orgs, "users": users, "classes": classes, "enrollments": enrollments, "agents": agents,
            "demographics": demographics}


def test_a_school_list_keeps_its_people_classes_and_guardians_and_nothing_of_other_schools():
    org_keys = pa.table({"source": ["sis"], "sourced_id": ["north-1"], "golden_id": ["g-north"]})
    for name in ("north-1", "g-north", "NCES-N"):  # its id in the source, its delivered id, its identifier
        frames, absent = shield_frames(_frames(), PrivacyShield(schools=[name]), org_keys=org_keys)
        assert absent == frozenset()
        assert sorted(frames["orgs"]["sourced_id"]) == ["g-dist", "g-north"]  # not South, nor its department
        users = frames["users"].set_index("sourced_id")
        assert sorted(users.index) == ["u-ann", "u-cy", "u-mom"]  # Ann's guardian comes with her
        assert users.loc["u-cy", "org_sourced_ids"] == "g-north"  # South cut from the teacher's orgs
        assert list(frames["classes"]["sourced_id"]) == ["c-n"]
        assert sorted(frames["enrollments"]["sourced_id"]) == ["e1", "e3"]
        assert list(frames["demographics"]["sourced_id"]) == ["u-ann"]
        assert list(frames["agents"]["sourced_id"]) == ["a1"]


def test_withheld_entities_are_absent_and_withheld_attributes_blank_or_masked():
    shield = PrivacyShield(entities=["orgs", "academic_sessions", "courses", "users", "classes", "enrollments"],
                           attributes={"users": ["grades"], "classes": []})
    frames, absent = shield_frames(_frames(), shield)
    assert absent == frozenset({"demographics"}) and "agents" not in frames and "demographics" not in frames
    users = frames["users"]
    assert users["email"].isna().all()
    assert set(users["given_name"]) == {"withheld"} and set(users["family_name"]) == {"withheld"}
    assert list(users["username"]) == list(users["sourced_id"])  # a username is required: masked as the id
    assert set(frames["classes"]["title"]) == {"withheld"}
    assert list(frames["orgs"]["name"]) == list(_frames()["orgs"]["name"])  # orgs: every attribute allowed


def test_an_open_shield_passes_the_frames_through():
    frames = _frames()
    shielded, absent = shield_frames(frames, PrivacyShield())
    assert absent == frozenset() and all(shielded[e] is frames[e] for e in frames)
