"""Notifications of finished, held and failed syncs: real syncs, the run-status sensors evaluated on
their runs, a real HTTP receiver for webhooks and a real SMTP server process for e-mail."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from pathlib import Path

import dagster as dg
import pytest

from passport_pipelines.config.integration import Integration
from passport_pipelines.definitions import defs
from passport_pipelines.jobs.partitions import sync_partition_key
from passport_pipelines.jobs.run_tags import APPROVED_VERSION_TAG, COMMITTED_BY_TAG, DISTRICT_TAG
from passport_pipelines.jobs.sync_jobs import COMMIT_APPROVED_SYNC
from passport_pipelines.notifications.errors import NotificationError
from passport_pipelines.resources.golden_store import GoldenStoreResource
from passport_pipelines.resources.integrations import IntegrationsResource
from passport_pipelines.resources.notifier import NotifierResource
from passport_pipelines.sensors.notifications import notify_failed_syncs, notify_finished_syncs
from passport_pipelines.store.golden_store import GoldenStore
from passport_pipelines.store.sync_holds import SyncHolds
from tests.conftest import write_integration
from tests.district_files import edit_rows, make_district, read_rows
from tests.fakes.smtp_sink import received, running_smtp_sink
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.sync_harness import run_sync

YEAR = "2025-2026"
SECRET_VAR = "PASSPORT_TEST_WEBHOOK_SECRET"
SECRET = "s3cr3t-hook-key-8a1f"
SENDER = "passport@hub.example.org"
DATA_TEAM = "data-team@lakeside.k12.us"
REGISTRAR = "registrar@lakeside.k12.us"


# ------------------------------------------------------------------ a webhook receiver on a real socket

@pytest.fixture
def webhook():
    receiver = WebhookReceiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


# ------------------------------------------------------------------ an SMTP server process

@pytest.fixture(scope="module")
def smtp_server(tmp_path_factory):
    with running_smtp_sink(tmp_path_factory.mktemp("smtp") / "mail") as info:
        yield info


@pytest.fixture
def mailbox(smtp_server) -> Path:
    """The SMTP sink, emptied."""
    for old in smtp_server.folder.glob("*.json"):
        old.unlink()
    return smtp_server.folder


@pytest.fixture
def notifier(smtp_server) -> NotifierResource:
    """The notifier, sending through the SMTP sink."""
    return NotifierResource(smtp_host=smtp_server.host, smtp_port=str(smtp_server.port), sender=SENDER,
                            webhook_backoff_seconds=0.05)


# ------------------------------------------------------------------ a district with notifications

@pytest.fixture
def sqlite_store(passport_home, monkeypatch) -> str:
    """SQLite only (as conftest's store_url does for sqlite): the notifications do not depend on the
    database, and the whole-sync tests stay fast."""
    url = f"sqlite:///{passport_home / 'passport.db'}"
    monkeypatch.setenv("PASSPORT_DATABASE_URL", url)
    return url


@pytest.fixture
def district(tmp_path, sqlite_store, webhook, mailbox, monkeypatch) -> Path:
    """lakeside: a drop of 40 students, a signed webhook for every event, the data team's e-mail on
    finished and failed, the registrar's on held only."""
    monkeypatch.setenv(SECRET_VAR, SECRET)
    folder = make_district(tmp_path / "drop", students=40)
    write_integration(
        tmp_path / "integrations", "lakeside",
        [{"name": "sis", "type": "csv", "path": str(folder), "schema": "oneroster-1.1", "mode": "full"}],
        notifications=[
            {"type": "webhook", "url": webhook.url(), "secret": f"env:{SECRET_VAR}"},
            {"type": "email", "to": [DATA_TEAM], "events": ["finished", "failed"]},
            {"type": "email", "to": [REGISTRAR], "events": ["held"]},
        ])
    return folder


def _resources(notifier: NotifierResource | None = None) -> dict:
    """The sensors' resources; without ``notifier``, one that sends webhooks only (no SMTP host)."""
    return {"golden_store": GoldenStoreResource(), "integrations": IntegrationsResource(),
            "notifier": notifier or NotifierResource(webhook_backoff_seconds=0.05)}


def _last_event(instance: dg.DagsterInstance, run_id: str, event_type: dg.DagsterEventType) -> dg.DagsterEvent:
    records = instance.get_records_for_run(run_id=run_id, of_type=event_type).records
    assert records, f"run {run_id} has no {event_type}"
    return records[-1].event_log_entry.dagster_event


def _notify_finished(instance: dg.DagsterInstance, run_id: str, notifier: NotifierResource | None = None) -> None:
    event = _last_event(instance, run_id, dg.DagsterEventType.RUN_SUCCESS)
    with dg.build_run_status_sensor_context(
            sensor_name=notify_finished_syncs.name, dagster_instance=instance,
            dagster_run=instance.get_run_by_id(run_id), dagster_event=event, resources=_resources(notifier)) as ctx:
        assert notify_finished_syncs(ctx) is None


def _notify_failed(instance: dg.DagsterInstance, run_id: str, notifier: NotifierResource | None = None) -> None:
    event = _last_event(instance, run_id, dg.DagsterEventType.RUN_FAILURE)
    with dg.build_run_status_sensor_context(
            sensor_name=notify_failed_syncs.name, dagster_instance=instance,
            dagster_run=instance.get_run_by_id(run_id), dagster_event=event, resources=_resources(notifier)) as ctx:
        assert notify_failed_syncs(ctx.for_run_failure()) is None


def _drop_students(folder: Path, share: float) -> int:
    """A truncated SIS export (as in test_sync_holds): the first ``share`` of the students gone."""
    gone = {u["sourcedId"] for u in _students(folder)[: int(len(_students(folder)) * share)]}
    edit_rows(folder / "users.csv", lambda rows: [r for r in rows if r["sourcedId"] not in gone])
    edit_rows(folder / "demographics.csv", lambda rows: [r for r in rows if r["sourcedId"] not in gone])
    edit_rows(folder / "enrollments.csv", lambda rows: [r for r in rows if r["userSourcedId"] not in gone])
    return len(gone)


def _students(folder: Path) -> list[dict]:
    return [u for u in read_rows(folder / "users.csv")[1] if u["role"] == "student"]


def _assert_no_student_data(text: str, students: list[dict]) -> None:
    assert students
    for s in students:
        for value in (f"{s['givenName']} {s['familyName']}", s["email"], s["sourcedId"], s["username"]):
            assert value not in text


def _assert_signed(request: dict) -> None:
    expected = "sha256=" + hmac.new(SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request["headers"]["x-passport-signature"], expected)


# ------------------------------------------------------------------ whole syncs

@pytest.mark.slow
def test_a_finished_sync_posts_a_signed_webhook_and_mails_the_data_team(district, webhook, mailbox, notifier,
                                                                       tmp_path):
    students = _students(district)
    with dg.instance_for_test() as instance:
        summary = run_sync(instance, "lakeside")
        assert summary["status"] == "successfully in production", summary["errors"]
        _notify_finished(instance, summary["run_id"], notifier)
        # A district whose integration file is gone by the time the sensor looks: skipped, not an error.
        (tmp_path / "integrations" / "lakeside.yaml").rename(tmp_path / "lakeside.yaml.removed")
        _notify_finished(instance, summary["run_id"], notifier)

    [request] = webhook.requests
    assert (request["method"], request["path"]) == ("POST", "/hooks/passport")
    headers = request["headers"]
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "passport-data-sync"
    assert headers["x-passport-event"] == "finished"
    _assert_signed(request)

    body = json.loads(request["body"])
    assert set(body) == {"event", "district", "school_year", "version", "status", "run_id", "job", "changes",
                         "reasons", "error", "started_by", "at"}
    assert body["event"] == "finished" and body["status"] == "successfully in production"
    assert (body["district"], body["school_year"], body["version"]) == ("lakeside", YEAR, 1)
    assert (body["run_id"], body["job"], body["started_by"]) == (summary["run_id"], "roster_sync", "test")
    assert body["changes"]["users"] == summary["changes"]["users"]
    assert body["changes"]["users"]["added"] > 40 and body["changes"]["users"]["deleted"] == 0
    assert body["reasons"] == [] and body["error"] is None
    assert datetime.fromisoformat(body["at"]).tzinfo is not None

    # Ids and counts only: no student, no secret.
    raw = request["body"].decode() + json.dumps(headers)
    _assert_no_student_data(raw, students)
    assert SECRET not in raw

    # One e-mail, to the data team only: the registrar asked for held syncs alone.
    [mail] = received(mailbox)
    assert mail.rcpt_tos == [DATA_TEAM] and mail.mail_from == SENDER
    assert mail.message["To"] == DATA_TEAM and mail.message["From"] == SENDER
    assert mail.message["Subject"] == "[passport] lakeside 2025-2026: finished (version 1)"
    text = mail.body
    assert "successfully in production" in text and summary["run_id"] in text
    assert f"users{'':<13}{body['changes']['users']['added']:>9}" in text
    _assert_no_student_data(text, students)
    assert SECRET not in text


@pytest.mark.slow
def test_held_approved_and_failed_syncs(district, webhook, mailbox, notifier):
    store = GoldenStore(GoldenStoreResource().store().url)
    with dg.instance_for_test() as instance:
        assert run_sync(instance, "lakeside")["status"] == "successfully in production"

        # Held: most students gone. The run ends held (a success, tagged held); the notification says held.
        gone = _drop_students(district, 0.6)
        held = run_sync(instance, "lakeside")
        assert held["status"] == "held" and held["version"] == 2
        assert instance.get_run_by_id(held["run_id"]).status == dg.DagsterRunStatus.SUCCESS
        _notify_finished(instance, held["run_id"], notifier)

        [request] = webhook.requests
        assert request["headers"]["x-passport-event"] == "held"
        _assert_signed(request)
        body = json.loads(request["body"])
        assert (body["event"], body["status"], body["version"], body["run_id"]) == (
            "held", "held", 2, held["run_id"])
        assert body["changes"]["users"]["deleted"] == gone
        assert body["reasons"] == held["hold_reasons"]
        assert any(r.startswith(f"users: {gone} of") for r in body["reasons"])
        assert body["error"] is None

        [mail] = received(mailbox)
        assert mail.rcpt_tos == [REGISTRAR]
        assert mail.message["Subject"] == "[passport] lakeside 2025-2026: held (version 2)"
        assert body["reasons"][0] in mail.body
        assert "passport approve lakeside 2 --school-year 2025-2026 --by EMAIL" in mail.body

        # From here on the failure sensor is evaluated as the daemon does, tick by tick: the first
        # tick only places its cursor after the events so far.
        ticks = dg.build_sensor_context(instance=instance, resources=_resources(notifier))
        first = notify_failed_syncs.evaluate_tick(ticks)
        assert first.skip_message and first.skip_message.startswith("Initiating")
        ticks.update_cursor(first.cursor)

        # Approved: the commit run finishes version 2.
        approved = SyncHolds(store).decide("lakeside", YEAR, 2, approve=True, by=REGISTRAR)
        commit = defs.resolve_job_def(COMMIT_APPROVED_SYNC).execute_in_process(
            instance=instance, partition_key=sync_partition_key("lakeside", YEAR), raise_on_error=False,
            tags={APPROVED_VERSION_TAG: str(approved.number), COMMITTED_BY_TAG: REGISTRAR, DISTRICT_TAG: "lakeside"})
        assert commit.success
        _notify_finished(instance, commit.run_id, notifier)
        body = webhook.json_bodies()[-1]
        assert (body["event"], body["version"], body["status"]) == ("finished", 2, "successfully in production")
        assert (body["job"], body["run_id"], body["started_by"]) == ("commit_approved_sync", commit.run_id, REGISTRAR)
        assert body["changes"]["users"]["deleted"] == gone

        # Failed: users.csv missing from the drop, so drop_is_valid stops the run.
        (district / "users.csv").unlink()
        failed = run_sync(instance, "lakeside")
        assert failed["status"] == "failed validation"
        tick = notify_failed_syncs.evaluate_tick(ticks)
        assert tick.dagster_run_reactions and all(r.error is None for r in tick.dagster_run_reactions)

    assert len(webhook.requests) == 3
    request = webhook.requests[-1]
    assert request["headers"]["x-passport-event"] == "failed"
    _assert_signed(request)
    body = json.loads(request["body"])
    assert (body["event"], body["status"], body["version"], body["run_id"]) == (
        "failed", "failed", None, failed["run_id"])
    assert body["error"]["step"] == "source_extracts"
    assert body["error"]["failed_checks"] == ["drop_is_valid"]
    assert "drop_is_valid" in body["error"]["message"] and len(body["error"]["message"]) <= 300
    assert body["changes"] == {} and body["reasons"] == []

    mails = received(mailbox)
    assert [m.rcpt_tos for m in mails] == [[REGISTRAR], [DATA_TEAM], [DATA_TEAM]]
    assert mails[1].message["Subject"] == "[passport] lakeside 2025-2026: finished (version 2)"
    assert mails[2].message["Subject"] == "[passport] lakeside 2025-2026: failed"
    assert "Failed in step source_extracts" in mails[2].body and "drop_is_valid" in mails[2].body


# ------------------------------------------------------------------ delivery, without a sync

MESSAGE = {"event": "finished", "district": "lakeside", "school_year": YEAR, "version": 3,
           "status": "successfully in production", "run_id": "run-1", "job": "roster_sync",
           "changes": {"users": {"added": 1, "updated": 2, "deleted": 0}}, "reasons": [], "error": None,
           "started_by": "test", "at": "2025-09-02T06:01:13+00:00"}


def _integration(tmp_path: Path, notifications: list[dict]) -> Integration:
    return Integration(district="lakeside", name="Lakeside", school_years=[YEAR],
                       sources=[{"name": "sis", "type": "csv", "path": str(tmp_path), "schema": "oneroster-1.1"}],
                       notifications=notifications)


def test_a_webhook_answering_500_is_retried_until_it_takes_the_message(tmp_path, webhook, monkeypatch):
    monkeypatch.setenv(SECRET_VAR, SECRET)
    webhook.statuses.extend([500, 503])
    notifier = NotifierResource(webhook_backoff_seconds=0.01)
    [result] = notifier.send(_integration(tmp_path, [
        {"type": "webhook", "url": webhook.url(), "secret": f"env:{SECRET_VAR}"}]), MESSAGE)
    assert (result.outcome, result.detail) == ("sent", "HTTP 200")
    assert len(webhook.requests) == 3
    assert len({r["body"] for r in webhook.requests}) == 1  # the same signed body each time
    for request in webhook.requests:
        _assert_signed(request)
    assert json.loads(webhook.requests[0]["body"]) == MESSAGE


def test_a_failing_target_does_not_stop_the_others_and_errors_name_only_the_host(tmp_path, webhook, mailbox,
                                                                                  smtp_server):
    webhook.statuses.extend([500, 500, 500, 404])
    token_url = webhook.url("/services/T000/B000/XyzSecretToken")
    notifier = NotifierResource(smtp_host=smtp_server.host, smtp_port=str(smtp_server.port), sender=SENDER,
                                webhook_backoff_seconds=0.01)
    integration = _integration(tmp_path, [
        {"type": "webhook", "url": token_url},                      # 500 three times: gives up
        {"type": "webhook", "url": token_url},                      # 404: refused, not retried
        {"type": "email", "to": [DATA_TEAM]},
        {"type": "webhook", "url": webhook.url("/ok")},
    ])
    with pytest.raises(NotificationError) as failure:
        notifier.send(integration, MESSAGE)
    text = str(failure.value)
    assert "2 of 4 notifications" in text
    assert f"webhook 127.0.0.1:{webhook.port} failed after 3 attempts: HTTP 500" in text
    assert "refused the notification: HTTP 404" in text
    assert "XyzSecretToken" not in text and "/services/" not in text
    assert [r["path"] for r in webhook.requests] == ["/services/T000/B000/XyzSecretToken"] * 4 + ["/ok"]
    assert "X-Passport-Signature".lower() not in webhook.requests[-1]["headers"]  # no secret, no signature
    [mail] = received(mailbox)
    assert mail.rcpt_tos == [DATA_TEAM]


def test_events_filter_targets_and_email_is_skipped_without_an_smtp_server(tmp_path, webhook, monkeypatch, caplog):
    monkeypatch.delenv("PASSPORT_SMTP_HOST", raising=False)
    integration = _integration(tmp_path, [
        {"type": "webhook", "url": webhook.url("/failures"), "events": ["failed"]},
        {"type": "webhook", "url": webhook.url("/all")},
        {"type": "email", "to": [DATA_TEAM]},
    ])
    with dg.build_resources({"notifier": NotifierResource.from_environment()}) as resources:
        results = resources.notifier.send(integration, MESSAGE)
    assert [(r.target, r.outcome) for r in results] == [
        (f"webhook 127.0.0.1:{webhook.port}", "sent"), (f"email {DATA_TEAM}", "skipped")]
    assert [r["path"] for r in webhook.requests] == ["/all"]
    assert "no SMTP server: set PASSPORT_SMTP_HOST" in caplog.text


def test_a_missing_webhook_secret_fails_that_target_by_the_variable_name(tmp_path, webhook, monkeypatch):
    monkeypatch.delenv(SECRET_VAR, raising=False)
    integration = _integration(tmp_path, [{"type": "webhook", "url": webhook.url(), "secret": f"env:{SECRET_VAR}"}])
    with pytest.raises(NotificationError, match=f"environment variable {SECRET_VAR}"):
        NotifierResource().send(integration, MESSAGE)
    assert webhook.requests == []  # never sent unsigned


def test_the_code_location_takes_the_smtp_settings_from_the_environment(monkeypatch):
    from passport_pipelines.definitions import build_defs
    from passport_pipelines.resources.notifier import SMTP_VARIABLES

    for variable in SMTP_VARIABLES.values():
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("PASSPORT_SMTP_HOST", "mail.lakeside.k12.us")
    monkeypatch.setenv("PASSPORT_SMTP_STARTTLS", "yes")
    notifier = build_defs(destinations=[]).resources["notifier"]
    # Set as dg.EnvVar (resolved when a run or a tick starts, never shown in the UI), not as values.
    assert isinstance(notifier.smtp_host, dg.EnvVar) and notifier.smtp_host.env_var_name == "PASSPORT_SMTP_HOST"
    monkeypatch.setenv("PASSPORT_SMTP_HOST", "relay.lakeside.k12.us")
    with dg.build_resources({"notifier": notifier}) as resources:
        settings = resources.notifier.smtp_settings()
    # The unset variables keep their documented defaults.
    assert (settings.host, settings.port, settings.starttls, settings.user, settings.password, settings.sender) == (
        "relay.lakeside.k12.us", 25, True, None, None, "passport@localhost")
    monkeypatch.delenv("PASSPORT_SMTP_HOST")
    monkeypatch.delenv("PASSPORT_SMTP_STARTTLS")
    with dg.build_resources({"notifier": build_defs(destinations=[]).resources["notifier"]}) as resources:
        assert resources.notifier.smtp_settings() is None  # no SMTP host: e-mail is skipped
