"""Deliveries through the real sync job: several destinations (OneRoster 1.1 to a folder, 1.2 to a real SFTP
server), each behind its own privacy shield, with its own history; the round trip through our own validator
and back in as a source; failed destinations retried; "until" dates."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest
from pydantic import ValidationError

from passport_pipelines.assets.oneroster_exports import destination_key
from passport_pipelines.config.destinations import OneRosterCsvDestination, PrivacyShield
from passport_pipelines.definitions import build_defs, defs
from passport_pipelines.jobs.partitions import register_sync_partition, sync_partition_key
from passport_pipelines.jobs.sync_jobs import RETRY_DELIVERIES
from passport_pipelines.store.golden_store import GoldenStore
from tests.conformance.exports import assert_conforms
from tests.conftest import write_integration
from tests.district_files import make_district, read_rows
from tests.fakes.sftp_server import running_sftp_server
from tests.sync_harness import run_sync, summary_of

YEAR = "2025-2026"


def _members(path: Path) -> dict[str, list[dict]]:
    with zipfile.ZipFile(path) as z:
        return {n: list(csv.DictReader(io.TextIOWrapper(z.open(n), encoding="utf-8"))) for n in z.namelist()}


def _raw(path: Path) -> bytes:
    with zipfile.ZipFile(path) as z:
        return b"\n".join(z.read(n) for n in z.namelist())


def _sftp_destination(server, **more) -> dict:
    return {"name": "lms", "type": "oneroster-1.2-csv",
            "sftp": {"host": server.host, "port": server.port, "username": server.username,
                     "password": "env:LMS_SFTP_PASSWORD", "remote_path": "/inbox", "host_key": server.host_key_line},
            **more}


@pytest.mark.slow
def test_each_destination_gets_its_own_shielded_file_and_history(tmp_path, sqlite_store, monkeypatch):
    drop = make_district(tmp_path / "drop", students=40)
    _, orgs = read_rows(drop / "orgs.csv")
    school = next(o for o in orgs if o["type"] == "school")
    _, users = read_rows(drop / "users.csv")
    _, demographics = read_rows(drop / "demographics.csv")
    monkeypatch.setenv("LMS_SFTP_PASSWORD", "s3cret")
    (tmp_path / "sftp" / "inbox").mkdir(parents=True)
    with running_sftp_server(tmp_path / "sftp") as server, dg.instance_for_test() as instance:
        write_integration(tmp_path / "integrations", "lakeside", [
            {"name": "sis", "type": "csv", "path": str(drop)}], destinations=[
            {"name": "library", "type": "oneroster-1.1-csv", "folder": str(tmp_path / "library")},
            _sftp_destination(server, shield={
                "schools": [school["sourcedId"]],
                "entities": ["orgs", "academic_sessions", "courses", "classes", "users", "roles", "enrollments"],
                "attributes": {"users": ["username", "given_name", "family_name", "grades", "identifier"]}}),
        ])
        # The code location as it loads with these files: one delivery asset per destination.
        location = build_defs()
        register_sync_partition(instance, "lakeside", YEAR)
        result = location.resolve_job_def("roster_sync").execute_in_process(
            instance=instance, partition_key=sync_partition_key("lakeside", YEAR), raise_on_error=False)
        summary = summary_of(instance, result)
        own = {name: instance.get_latest_materialization_event(destination_key(name)).asset_materialization.metadata
               for name in ("library", "lms")}
    assert summary["status"] == "successfully in production", summary["errors"]

    store = GoldenStore(sqlite_store)
    version = store.latest_version("lakeside", YEAR)
    history = {d["destination"]: d for d in store.deliveries(version.id)}
    for name in ("library", "lms"):  # each destination's own asset says what it received
        assert own[name]["checksum"].value == history[name]["checksum"]
        assert own[name]["version"].value == 1 and own[name]["status"].value == "delivered"
    library = Path(history["library"]["path"])
    assert library.parent == tmp_path / "library" and library.name == "lakeside_2025-2026_v1_library_oneroster-1.1.zip"
    uploaded = tmp_path / "sftp" / "inbox" / "lakeside_2025-2026_v1_lms_oneroster-1.2.zip"
    assert history["lms"]["path"].endswith("/inbox/lakeside_2025-2026_v1_lms_oneroster-1.2.zip")
    assert history["lms"]["path"].startswith("sftp://")
    assert not list((tmp_path / "sftp" / "inbox").glob(".*.part"))
    for name, path in (("library", library), ("lms", uploaded)):
        assert history[name]["status"] == "delivered"
        assert history[name]["checksum"] == hashlib.sha256(path.read_bytes()).hexdigest()

    # The library sees everything, in 1.1.
    full = _members(library)
    assert len(full["users.csv"]) == len(users) and len(full["demographics.csv"]) == len(demographics)
    # The LMS sees one school, in 1.2, without demographics, e-mails or phones.
    lms = _members(uploaded)
    manifest = {r["propertyName"]: r["value"] for r in lms["manifest.csv"]}
    assert manifest["oneroster.version"] == "1.2" and manifest["file.demographics"] == "absent"
    assert manifest["file.roles"] == "bulk" and "demographics.csv" not in lms
    assert "role" not in lms["users.csv"][0] and "primaryOrgSourcedId" in lms["users.csv"][0]
    [kept_school] = [o for o in lms["orgs.csv"] if o["type"] == "school"]
    assert {c["schoolSourcedId"] for c in lms["classes.csv"]} == {kept_school["sourcedId"]}
    assert {e["schoolSourcedId"] for e in lms["enrollments.csv"]} == {kept_school["sourcedId"]}
    other_schools = {o["sourcedId"] for o in full["orgs.csv"] if o["type"] == "school"} - {kept_school["sourcedId"]}
    for user in lms["users.csv"]:
        assert user["email"] == "" and user["phone"] == ""
        assert not set(user["primaryOrgSourcedId"].split(",")) & other_schools
    assert 0 < len(lms["users.csv"]) < len(users)
    # A withheld attribute appears in no delivered file of the LMS, whatever the column.
    body = _raw(uploaded)
    # (An e-mail that is also the user's username is delivered as the username, which is allowed.)
    emails = [u["email"] for u in users if u["email"] and u["email"] != u["username"]]
    assert emails
    for value in emails + [d["birthDate"] for d in demographics if d["birthDate"]]:
        assert value.encode() not in body, value
    assert any(u["email"].encode() in _raw(library) for u in users if u["email"])

    # Round trip: both files conform to their binding, to the letter (no finding at all).
    assert_conforms(library, "1.1")
    assert_conforms(uploaded, "1.2")


@pytest.mark.slow
def test_a_delivered_export_read_back_as_a_source_reproduces_the_delivered_data(tmp_path, sqlite_store):
    drop = make_district(tmp_path / "drop", students=30)
    write_integration(tmp_path / "integrations", "lakeside", [{"name": "sis", "type": "csv", "path": str(drop)}],
                      destinations=[{"name": "lms", "type": "oneroster-1.2-csv", "folder": str(tmp_path / "out")}])
    with dg.instance_for_test() as instance:
        assert run_sync(instance, "lakeside")["status"] == "successfully in production"
        [export] = (tmp_path / "out").glob("*.zip")
        assert_conforms(export, "1.2")
        write_integration(tmp_path / "integrations", "mirror", [{"name": "hub", "type": "csv", "path": str(export),
                                                                 "schema": "oneroster-1.2"}], destinations=[])
        mirrored = run_sync(instance, "mirror")
    assert mirrored["status"] == "successfully in production", mirrored["errors"]
    store = GoldenStore(sqlite_store)
    delivered = _members(export)
    for entity, file, columns in (("users", "users.csv", ("given_name", "givenName", "family_name", "familyName",
                                                          "username", "username", "email", "email")),
                                  ("classes", "classes.csv", ("title", "title", "class_code", "classCode")),
                                  ("enrollments", "enrollments.csv", ("role", "role", "class_sourced_id",
                                                                      "classSourcedId"))):
        ours = {r["sourced_id"]: tuple(r[c] or "" for c in columns[::2])
                for r in store.current_records("mirror", YEAR, entity).to_pylist()}
        theirs = {r["sourcedId"]: tuple(r[c] for c in columns[1::2]) for r in delivered[file]}
        assert ours == theirs, entity
    assert store.count_records("mirror", YEAR)["demographics"] == len(delivered["demographics.csv"])


@pytest.mark.slow
def test_a_failed_destination_marks_the_version_and_is_retried(tmp_path, sqlite_store, monkeypatch):
    drop = make_district(tmp_path / "drop", students=20)
    monkeypatch.setenv("LMS_SFTP_PASSWORD", "s3cret")
    (tmp_path / "sftp" / "inbox").mkdir(parents=True)
    store = GoldenStore(sqlite_store)
    with dg.instance_for_test() as instance:
        with running_sftp_server(tmp_path / "sftp") as server:
            destinations = [{"name": "library", "type": "oneroster-1.1-csv", "folder": str(tmp_path / "library")},
                            _sftp_destination(server)]
        # The SFTP server is gone: its destination fails, the folder one is delivered.
        write_integration(tmp_path / "integrations", "lakeside", [{"name": "sis", "type": "csv", "path": str(drop)}],
                          destinations=destinations)
        summary = run_sync(instance, "lakeside")
        assert summary["status"] == "propagation failed"
        version = store.latest_version("lakeside", YEAR)
        assert version.status == "propagation failed"
        history = {d["destination"]: d for d in store.deliveries(version.id)}
        assert history["library"]["status"] == "delivered"
        assert history["lms"]["status"] == "failed" and "SFTP destination" in history["lms"]["error"]
        assert "s3cret" not in history["lms"]["error"]
        assert store.count_records("lakeside", YEAR)["users"] > 0  # committed: nothing lost

        # The server is back on the same port: the retry job delivers the missing file only.
        with running_sftp_server(tmp_path / "sftp") as server:
            write_integration(tmp_path / "integrations", "lakeside",
                              [{"name": "sis", "type": "csv", "path": str(drop)}],
                              destinations=[destinations[0], _sftp_destination(server)])
            retry = defs.resolve_job_def(RETRY_DELIVERIES).execute_in_process(
                instance=instance, partition_key=sync_partition_key("lakeside", YEAR), raise_on_error=False)
        assert retry.success
        assert store.version(version.id).status == "successfully in production"
        statuses = [(d["destination"], d["status"]) for d in store.deliveries(version.id)]
        assert statuses == [("library", "delivered"), ("lms", "failed"), ("lms", "delivered")]
        assert (tmp_path / "sftp" / "inbox" / "lakeside_2025-2026_v1_lms_oneroster-1.2.zip").exists()
        delivered = retry.output_for_node("oneroster_exports", "oneroster_exports")
        outcome = {d["destination"]: d["status"] for d in delivered}
        assert outcome == {"library": "already delivered", "lms": "delivered"}


@pytest.mark.slow
def test_nothing_is_delivered_after_a_destinations_until_date(tmp_path, sqlite_store):
    drop = make_district(tmp_path / "drop", students=10)
    write_integration(tmp_path / "integrations", "lakeside", [{"name": "sis", "type": "csv", "path": str(drop)}],
                      destinations=[{"name": "old_lms", "type": "oneroster-1.1-csv", "folder": str(tmp_path / "old"),
                                     "until": str(date.today() - timedelta(days=1))}])
    with dg.instance_for_test() as instance:
        summary = run_sync(instance, "lakeside")
    assert summary["status"] == "successfully in production" and summary["deliveries"] == []
    assert not (tmp_path / "old").exists()


@pytest.mark.parametrize("raw, message", [
    ({"entities": ["users", "enrollments"]}, "enrollments needs classes"),
    ({"entities": ["students"]}, "unknown entity students"),
    ({"attributes": {"users": ["role"]}}, "role always delivered"),
    ({"attributes": {"users": ["shoe_size"]}}, "unknown attribute(s) shoe_size"),
])
def test_a_shield_that_cannot_be_honoured_is_named(raw, message):
    with pytest.raises(ValidationError) as caught:
        PrivacyShield.model_validate(raw)
    assert message in str(caught.value)


def test_a_destination_has_one_target_and_a_known_format():
    with pytest.raises(ValidationError, match="give folder or sftp, not both"):
        OneRosterCsvDestination.model_validate({"folder": "/x", "sftp": {
            "host": "h", "username": "u", "password": "env:P", "remote_path": "/", "host_key": "ssh-ed25519 AAAA"}})
    with pytest.raises(ValidationError, match="secrets must be env:VAR"):
        OneRosterCsvDestination.model_validate({"sftp": {
            "host": "h", "username": "u", "password": "plain", "remote_path": "/", "host_key": "ssh-ed25519 AAAA"}})
    shield = PrivacyShield.model_validate({"attributes": {"users": ["username"]}})
    assert "email" in shield.withheld("users") and "username" not in shield.withheld("users")


@pytest.mark.slow
def test_history_lists_each_destinations_delivery(tmp_path, sqlite_store):
    import json

    from click.testing import CliRunner

    from passport_pipelines.cli.main import cli

    drop = make_district(tmp_path / "drop", students=10)
    write_integration(tmp_path / "integrations", "lakeside", [{"name": "sis", "type": "csv", "path": str(drop)}],
                      destinations=[{"name": "library", "type": "oneroster-1.1-csv", "folder": str(tmp_path / "a")},
                                    {"name": "lms", "type": "oneroster-1.2-csv", "folder": str(tmp_path / "b")}])
    assert CliRunner().invoke(cli, ["sync", "lakeside"]).exit_code == 0
    text = CliRunner().invoke(cli, ["history", "lakeside"]).output
    assert "-> library (oneroster-1.1-csv) delivered" in text and "-> lms (oneroster-1.2-csv) delivered" in text
    [version] = json.loads(CliRunner().invoke(cli, ["history", "lakeside", "--json"]).output)["versions"]
    assert [(d["destination"], d["status"]) for d in version["deliveries"]] == [("library", "delivered"),
                                                                               ("lms", "delivered")]
    assert all(len(d["checksum"]) == 64 for d in version["deliveries"])


@pytest.fixture
def full_disk(tmp_path):
    """A folder on a file system with 4 KiB of room (a tmpfs), for a delivery that finds the disk full."""
    import subprocess

    folder = tmp_path / "full_disk"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


@pytest.mark.slow
def test_a_full_disk_fails_the_destination_and_loses_nothing(tmp_path, sqlite_store, full_disk):
    drop = make_district(tmp_path / "drop", students=20)
    write_integration(tmp_path / "integrations", "lakeside", [{"name": "sis", "type": "csv", "path": str(drop)}],
                      destinations=[{"name": "library", "type": "oneroster-1.1-csv", "folder": str(full_disk)}])
    store = GoldenStore(sqlite_store)
    with dg.instance_for_test() as instance:
        summary = run_sync(instance, "lakeside")
        assert summary["status"] == "propagation failed"
        version = store.latest_version("lakeside", YEAR)
        [failed] = store.deliveries(version.id)
        assert failed["status"] == "failed" and "No space left on device" in failed["error"]
        assert list(full_disk.iterdir()) == []  # no partial zip left behind
        assert store.count_records("lakeside", YEAR)["users"] > 0  # the version is committed: nothing lost

        import subprocess
        subprocess.run(["umount", str(full_disk)], check=True)  # room again
        retry = defs.resolve_job_def(RETRY_DELIVERIES).execute_in_process(
            instance=instance, partition_key=sync_partition_key("lakeside", YEAR), raise_on_error=False)
        assert retry.success
    assert store.version(version.id).status == "successfully in production"
    assert [p.name for p in full_disk.iterdir()] == ["lakeside_2025-2026_v1_library_oneroster-1.1.zip"]
