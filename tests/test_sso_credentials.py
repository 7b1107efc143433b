"""SSO Credentials: validated like every CSV drop, encrypted at rest, never shown, logged or exported."""

from __future__ import annotations

import base64
import json
import os
import zipfile
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import sqlalchemy as sa

from passport_pipelines.store import schema
from passport_pipelines.store.golden_store import GoldenStore
from passport_pipelines.validation.credentials.cipher import (
    KEY_ENV,
    PREVIOUS_KEY_ENV,
    CredentialsKeyError,
    associated_data,
    current_key,
    decrypt,
    reading_keys,
)
from passport_pipelines.validation.oneroster.validation import validate_package
from tests.conftest import write_integration
from tests.csv_drops import CREDENTIALS, write_basic_identity, write_credentials
from tests.sync_harness import run_sync

SCHEMA = "sso-credentials"
PASSWORDS = [c["password"] for c in CREDENTIALS]


def _key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def credentials_for(store: GoldenStore, district: str, school_year: str, application: str) -> list[dict]:
    """The application's credentials, decrypted: user, login, password, url, source; raises
    ``CredentialsKeyError`` (naming the variables) when the keys in the environment cannot read them."""
    keys = reading_keys()
    t = schema.sso_credentials
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(t.c.source, t.c.user_sourced_id, t.c.login, t.c.password_ciphertext, t.c.key_id, t.c.url)
            .where(t.c.district == district, t.c.school_year == school_year, t.c.application == application)
            .order_by(t.c.user_sourced_id, t.c.source)
        ).all()
    return [{"source": r.source, "user_sourced_id": r.user_sourced_id, "login": r.login, "url": r.url,
             "password": decrypt(keys, r.key_id, r.password_ciphertext,
                                 associated_data(district, school_year, r.user_sourced_id, application))}
            for r in rows]


def test_findings_name_the_row_but_never_the_password(tmp_path):
    rows = [dict(c) for c in CREDENTIALS]
    rows.append({**CREDENTIALS[0], "password": "Another-Secret-1"})  # line 5: (stu-1, reading-plus) again
    rows.append({**CREDENTIALS[1], "application": "math", "login": ""})  # line 6: login required
    drop = validate_package(write_credentials(tmp_path / "drop", rows), SCHEMA)
    assert not drop.ok
    found = {(f.rule, f.file, f.line, f.column, f.value) for f in drop.report.samples()}
    # Where and which rule, never a value: in a file of secrets any column may hold one.
    assert found == {
        ("key.duplicate", "credentials.csv", 2, "user_id + application", None),
        ("key.duplicate", "credentials.csv", 5, "user_id + application", None),
        ("value.required", "credentials.csv", 6, "login", None),
    }
    # A ragged row whose text holds a password: the parser's message is cut before the row.
    raw = "user_id,application,login,password\nstu-1,app,ada,Pw-in-a-broken-row,extra\n"
    broken = validate_package(write_credentials(tmp_path / "broken", raw=raw), SCHEMA)
    blanks = validate_package(write_credentials(tmp_path / "blank", [{**CREDENTIALS[0], "password": " "}]), SCHEMA)
    assert [(f.rule, f.line) for f in broken.report.samples()] == [("file.parse", 2)]
    assert [(f.rule, f.line, f.column) for f in blanks.report.samples()] == [("value.required", 2, "password")]
    reports = json.dumps([d.report.to_dict() for d in (drop, broken, blanks)])
    assert not any(p in reports for p in [*PASSWORDS, "Another-Secret-1", "Pw-in-a-broken-row"])


def test_a_file_without_its_header_row_never_shows_the_first_row(tmp_path, passport_home):
    from click.testing import CliRunner

    from passport_pipelines.cli.main import cli

    rows = "".join(f"{c['user_id']},{c['application']},{c['login']},{c['password'].split(',')[0]},{c.get('url', '')}\n"
                   for c in CREDENTIALS)
    folder = write_credentials(tmp_path / "headerless", raw=rows)  # the header row left out
    drop = validate_package(folder, SCHEMA)
    assert not drop.ok
    assert {(f.rule, f.line) for f in drop.report.samples()} >= {("header.missing_column", 1),
                                                                  ("header.unknown_column", 1)}
    unknown = [f for f in drop.report.samples() if f.rule == "header.unknown_column"]
    assert all(f.column is None and "is the header row missing?" in f.message for f in unknown)
    shown = json.dumps(drop.report.to_dict()) + drop.report.render() + json.dumps(drop.report.to_json())
    result = CliRunner().invoke(cli, ["validate", str(folder), "--schema", SCHEMA])
    assert result.exit_code == 1 and "header.missing_column" in result.output
    for text in (shown, result.output):
        for value in ("Tulip-Horse-731", "Maple-Cloud-482", "ada.o", "stu-1", "reading.example"):
            assert value not in text


def test_the_key_comes_from_the_environment_with_clear_errors(monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(CredentialsKeyError, match=f"^{KEY_ENV} is not set"):
        current_key()
    bad = "not-a-key-but-a-leak-if-shown"
    monkeypatch.setenv(KEY_ENV, bad)
    with pytest.raises(CredentialsKeyError, match=f"{KEY_ENV} is not a valid key") as err:
        current_key()
    assert bad not in str(err.value)
    key = _key()
    monkeypatch.setenv(KEY_ENV, key)
    assert current_key().key_id == current_key().key_id and key not in current_key().key_id


@pytest.fixture
def district(tmp_path, passport_home, store_url, monkeypatch):
    """A district provisioned from Basic Identity, with SSO credentials in a second source."""
    monkeypatch.setenv(KEY_ENV, _key())
    people = write_basic_identity(tmp_path / "people")
    creds = write_credentials(tmp_path / "creds")
    write_integration(tmp_path / "integrations", "lakeside", [
        {"name": "provisioning", "type": "csv", "path": str(people), "schema": "passport-basic-identity"},
        {"name": "vault", "type": "csv", "path": str(creds), "schema": SCHEMA, "mode": "full"}])
    return creds


def _raw_rows(url: str) -> list[dict]:
    engine = GoldenStore(url).engine
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.text("SELECT * FROM sso_credentials")).mappings()]


def _files_text(root: Path) -> str:
    """Every file under root as text; Parquet files decoded, so compression hides nothing."""
    parts = []
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        if path.suffix == ".parquet":
            parts.append(str(duckdb.sql(f"SELECT * FROM read_parquet('{path}')").fetchall()))
        elif path.suffix == ".zip":
            with zipfile.ZipFile(path) as zf:
                parts += [zf.read(n).decode("utf-8", "replace") for n in zf.namelist()]
        else:
            parts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(parts)


@pytest.mark.slow
def test_credentials_are_stored_encrypted_and_read_back_only_with_the_key(district, store_url, passport_home,
                                                                            monkeypatch):
    with dg.instance_for_test() as instance:
        summary = run_sync(instance, "lakeside")
        assert summary["status"] == "successfully in production", summary["errors"]
        logs = "\n".join(str(e) for e in instance.all_logs(summary["run_id"]))
    assert "sso_credentials" in logs and not any(p in logs for p in PASSWORDS)  # events carry counts only

    rows = _raw_rows(store_url)
    assert len(rows) == 3 and not any(p in json.dumps(rows, default=str) for p in PASSWORDS)
    assert {r["key_id"] for r in rows} == {current_key().key_id}
    # Everything the sync wrote to disk: archive (sealed copy + report), Parquet tables, the export.
    written = _files_text(passport_home)
    assert not any(p in written for p in PASSWORDS)
    if store_url.startswith("sqlite"):
        assert not any(p.encode() in (passport_home / "passport.db").read_bytes() for p in PASSWORDS)
    archive = Path(GoldenStore(store_url).latest_version("lakeside", "2025-2026").archive_path) / "vault"
    assert sorted(p.name for p in archive.iterdir()) == ["credentials.encrypted.csv", "validation_report.json"]
    [export] = summary["deliveries"]
    assert "ada.o" in _files_text(Path(export).parent)  # the export is there, with the people in it

    store = GoldenStore(store_url)
    reading = credentials_for(store, "lakeside", "2025-2026", "reading-plus")
    assert [(c["user_sourced_id"], c["login"], c["password"], c["url"]) for c in reading] == [
        ("stu-1", "ada.o", "Tulip-Horse-731", "https://reading.example/login"),
        ("stu-2", "ben.l", "Maple-Cloud-482", None)]
    assert credentials_for(store, "lakeside", "2025-2026", "gradebook")[0]["password"] == CREDENTIALS[2]["password"]

    old = os.environ[KEY_ENV]
    monkeypatch.setenv(KEY_ENV, _key())  # rotated, without the previous key: unreadable, clearly said
    with pytest.raises(CredentialsKeyError, match=f"neither {KEY_ENV} nor {PREVIOUS_KEY_ENV}") as err:
        credentials_for(store, "lakeside", "2025-2026", "reading-plus")
    assert old not in str(err.value)
    monkeypatch.setenv(PREVIOUS_KEY_ENV, old)  # rotation: the old rows stay readable
    assert credentials_for(store, "lakeside", "2025-2026", "reading-plus")[0]["password"] == "Tulip-Horse-731"


@pytest.mark.slow
def test_a_new_upload_updates_changed_credentials_and_removes_missing_ones(district, store_url):
    with dg.instance_for_test() as instance:
        assert run_sync(instance, "lakeside")["status"] == "successfully in production"
        before = {(r["user_sourced_id"], r["application"]): r for r in _raw_rows(store_url)}
        write_credentials(district, [CREDENTIALS[0], {**CREDENTIALS[1], "password": "Changed-Pass-9"}])
        summary = run_sync(instance, "lakeside")
        assert summary["status"] == "successfully in production", summary["errors"]
        event = instance.get_latest_materialization_event(dg.AssetKey("golden_records"))
    counts = event.asset_materialization.metadata["sso_credentials"].value
    assert counts == {"vault": {"added": 0, "updated": 1, "deleted": 1}}
    after = {(r["user_sourced_id"], r["application"]): r for r in _raw_rows(store_url)}
    assert set(after) == {("stu-1", "reading-plus"), ("stu-2", "reading-plus")}
    unchanged, changed = after[("stu-1", "reading-plus")], after[("stu-2", "reading-plus")]
    assert unchanged["password_ciphertext"] == before[("stu-1", "reading-plus")]["password_ciphertext"]
    assert unchanged["updated_version_id"] == unchanged["created_version_id"]
    assert changed["updated_version_id"] != changed["created_version_id"]
    reading = credentials_for(GoldenStore(store_url), "lakeside", "2025-2026", "reading-plus")
    assert [c["password"] for c in reading] == ["Tulip-Horse-731", "Changed-Pass-9"]


@pytest.mark.slow
def test_without_the_key_the_sync_fails_naming_the_variable(district, store_url, passport_home, monkeypatch):
    monkeypatch.delenv(KEY_ENV)
    with dg.instance_for_test() as instance:
        summary = run_sync(instance, "lakeside")
    assert summary["status"] == "failed" and summary["version"] is None
    assert any(KEY_ENV in e and "is not set" in e for e in summary["errors"]), summary["errors"]
    assert GoldenStore(store_url).latest_version("lakeside", "2025-2026") is None
    assert not any(p in _files_text(passport_home) for p in PASSWORDS)  # the drop was not even fetched


def test_test_connection_checks_the_files_and_the_key(tmp_path, passport_home, monkeypatch):
    from passport_pipelines.config.loader import load_district
    from passport_pipelines.validation.connection_checks import check_sources

    monkeypatch.delenv(KEY_ENV, raising=False)
    people = write_basic_identity(tmp_path / "people")
    write_integration(tmp_path / "integrations", "lakeside", [
        {"name": "provisioning", "type": "csv", "path": str(people), "schema": "passport-basic-identity"},
        {"name": "vault", "type": "csv", "path": str(write_credentials(tmp_path / "creds")), "schema": SCHEMA}])
    provisioning, vault = check_sources(load_district("lakeside"))
    assert provisioning.ok and "schools.csv, people.csv found" in provisioning.steps[0].detail
    assert vault.failure == "missing_secret" and KEY_ENV in vault.steps[-1].detail
    key = _key()
    monkeypatch.setenv(KEY_ENV, key)
    (people / "schools.csv").unlink()
    provisioning, vault = check_sources(load_district("lakeside"))
    assert provisioning.failure == "drop_unavailable" and "no schools.csv" in provisioning.steps[0].detail
    assert vault.ok and key not in json.dumps(vault.as_dict())


def _plain_copies(*roots: Path) -> list[Path]:
    """Every file named like the drop's plain-text file under ``roots`` (the archive keeps only
    credentials.encrypted.csv)."""
    # os.walk, not rglob: the sync creates and removes its working folders while this looks, and a
    # folder gone between listing and entering it is skipped rather than raised.
    return [Path(folder) / "credentials.csv" for root in roots for folder, _, files in os.walk(root)
            if "credentials.csv" in files]


@pytest.mark.slow
def test_a_sync_killed_while_it_holds_plain_passwords_leaves_none_behind(tmp_path, passport_home, sqlite_store,
                                                                         monkeypatch):
    """A real SIGKILL of a `passport sync` while the plain-text drop waits to be sealed; the next
    sync removes what the killed one could not."""
    import signal
    import subprocess
    import sys
    import time

    monkeypatch.setenv(KEY_ENV, _key())
    # Big enough that validating and sealing it takes a moment to catch the drop in.
    many = [{"user_id": f"stu-{i}", "application": "reading-plus", "login": f"user{i}",
             "password": f"Pw-{i:07d}-Secret"} for i in range(3, 150_000)]
    creds = write_credentials(tmp_path / "creds", [*CREDENTIALS, *many])
    write_integration(tmp_path / "integrations", "lakeside", [
        {"name": "provisioning", "type": "csv", "path": str(write_basic_identity(tmp_path / "people")),
         "schema": "passport-basic-identity"},
        {"name": "vault", "type": "csv", "path": str(creds), "schema": SCHEMA, "mode": "full"}])
    system_tmp = tmp_path / "system-tmp"  # where tempfile puts things, for both processes
    system_tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(system_tmp)}
    passport = str(Path(sys.executable).with_name("passport"))

    killed = subprocess.Popen([passport, "sync", "lakeside"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while not (landed := _plain_copies(passport_home, system_tmp)):
        assert killed.poll() is None, "the sync ended before its drop was seen landing"
        assert time.monotonic() < deadline, "the drop never landed"
        time.sleep(0.002)
    killed.send_signal(signal.SIGKILL)
    killed.wait()

    # Killed outright, the sync could not clean up; but what it left is in a private folder
    # of PASSPORT_HOME, not in the system temp folder.
    [copy] = landed
    assert passport_home / "landing" in copy.parents, copy
    assert copy.parent.stat().st_mode & 0o777 == 0o700 and (passport_home / "landing").stat().st_mode & 0o077 == 0

    after = subprocess.run([passport, "sync", "lakeside", "--json"], env=env, capture_output=True, text=True)
    assert after.returncode == 0, after.stdout + after.stderr
    assert json.loads(after.stdout)["status"] == "successfully in production"
    assert _plain_copies(passport_home, system_tmp) == []
    assert list((passport_home / "landing").iterdir()) == []
    left = _files_text(passport_home) + _files_text(system_tmp)
    assert not any(p in left for p in [*PASSWORDS[:2], "Pw-0000003-Secret", "Pw-0149999-Secret"])


@pytest.mark.slow
@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_credentials_of_an_account_no_source_has_are_reported_and_not_stored(district, store_url, tmp_path):
    from click.testing import CliRunner

    from passport_pipelines.cli.main import cli

    stranger = {"user_id": "stu-404", "application": "reading-plus", "login": "ghost", "password": "Never-Stored-1"}
    write_credentials(district, [*CREDENTIALS, stranger])
    result = CliRunner().invoke(cli, ["sync", "lakeside"])
    assert result.exit_code == 0, result.output
    assert "sso credentials vault: +3 ~0 -0" in result.stdout
    assert "1 not stored: no source has the account (stu-404)" in result.stdout
    assert "ghost" not in result.output and "Never-Stored-1" not in result.output
    rows = _raw_rows(store_url)
    assert {r["user_sourced_id"] for r in rows} == {"stu-1", "stu-2", "tch-1"}

    # Once a source has the account, the same file stores it.
    from tests.csv_drops import PEOPLE

    write_basic_identity(tmp_path / "people", people=[*PEOPLE, {"person_id": "stu-404", "role": "student", "given_name": "Gus",
                                                   "family_name": "Host", "school_id": "sch-1", "grade": "02"}])
    result = CliRunner().invoke(cli, ["sync", "lakeside", "--json"])
    assert json.loads(result.stdout)["sso_credentials"] == {"vault": {"added": 1, "updated": 0, "deleted": 0}}
    assert "stu-404" in {r["user_sourced_id"] for r in _raw_rows(store_url)}
