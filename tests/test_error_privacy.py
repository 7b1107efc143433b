"""No secret or student data in any error: each failure that could once carry one, run as a whole sync
through `passport sync` (the real job on the DAGSTER_HOME instance), then reported by the failure
sensor to a real webhook receiver. Everything an operator or a receiver sees is scanned: the CLI
output, the run's event log (step errors, asset and check metadata), the validation reports and
the notification."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from passport_pipelines.cli.main import cli
from passport_pipelines.validation.credentials.cipher import KEY_ENV
from tests.conftest import write_integration
from tests.csv_drops import CREDENTIALS, write_basic_identity, write_credentials
from tests.district_files import make_district, read_rows, write_rows
from tests.fakes.district_data import make_district_data
from tests.fakes.oneroster_api_server import oneroster_source_config, start_oneroster_fake
from tests.test_notifications import WebhookReceiver, _notify_failed

pytestmark = pytest.mark.slow

HOOK_SECRET_VAR = "PASSPORT_TEST_PRIVACY_HOOK_SECRET"


@pytest.fixture
def webhook(monkeypatch):
    monkeypatch.setenv(HOOK_SECRET_VAR, "hook-signing-key-1234")
    receiver = WebhookReceiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def _district(tmp_path: Path, webhook: WebhookReceiver, sources: list[dict]) -> None:
    write_integration(tmp_path / "integrations", "lakeside", sources,
                      notifications=[{"type": "webhook", "url": webhook.url(), "secret": f"env:{HOOK_SECRET_VAR}",
                                      "events": ["failed"]}])


def _everything_shown(passport_home: Path, webhook: WebhookReceiver) -> tuple[dict, str]:
    """Run the failing sync from the CLI and send its failure notification; the summary, and all
    that anyone is shown of it as one text."""
    result = CliRunner().invoke(cli, ["sync", "lakeside", "--json"])
    summary = json.loads(result.stdout)
    shown = [result.output, result.stderr]  # the summary, and the run's log lines on the terminal
    with dg.DagsterInstance.get() as instance:
        # Every event of the run, serialized whole: messages, step errors, asset and check metadata.
        shown += [dg.serialize_value(record) for record in instance.all_logs(summary["run_id"])]
        _notify_failed(instance, summary["run_id"])
    shown += [r["body"].decode() + json.dumps(r["headers"]) for r in webhook.requests]
    shown += [p.read_text() for p in passport_home.rglob("validation_report.json")]
    assert webhook.requests, "the failure was notified"
    return summary, "\n".join(shown)


def test_a_bad_value_in_a_mapped_true_false_column(tmp_path, passport_home, sqlite_store, webhook):
    drop = make_district(tmp_path / "drop", students=20)
    header, rows = read_rows(drop / "users.csv")
    for r in rows:
        r["metadata.active"] = "yes"
    rows[5]["metadata.active"] = "kai.cook77@example.org"
    write_rows(drop / "users.csv", header + ["metadata.active"], rows)
    _district(tmp_path, webhook, [{"name": "sis", "type": "csv", "path": str(drop),
                                   "attributes": {"users": {"enabled_user": "metadata.active"}}}])
    summary, shown = _everything_shown(passport_home, webhook)
    assert summary["status"] == "failed"
    assert any("rule attributes.users.enabled_user" in e and "not true/false" in e for e in summary["errors"])
    assert json.loads(webhook.requests[-1]["body"])["error"]["step"] == "normalized_rosters"
    assert "kai.cook77" not in shown and "Could not convert" not in shown


def test_a_token_endpoint_that_echoes_the_client_secret(tmp_path, passport_home, sqlite_store, webhook, monkeypatch):
    secret = "Echo-Me-9f3k-Secret"
    data = make_district_data(tmp_path / "data", students=10)
    with start_oneroster_fake(data, version="1.2", auth="oauth2", client_secret=secret) as server:
        config, env = oneroster_source_config(server)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        # The provider refuses the credentials and quotes them back, in the code and in the text.
        server.faults.add(r"/oauth2/token$", status=401, times=100,
                          body={"error": secret, "error_description": f"client secret {secret} is not valid"})
        _district(tmp_path, webhook, [config])
        summary, shown = _everything_shown(passport_home, webhook)
    assert summary["status"] == "failed"
    assert any("bad credentials" in e and "HTTP 401" in e for e in summary["errors"]), summary["errors"]
    assert secret not in shown
    assert base64.b64encode(f"passport-client:{secret}".encode()).decode() not in shown


def test_an_sso_credentials_file_without_its_header(tmp_path, passport_home, sqlite_store, webhook, monkeypatch):
    monkeypatch.setenv(KEY_ENV, base64.urlsafe_b64encode(os.urandom(32)).decode())
    first = CREDENTIALS[0]
    headerless = "".join(f"{c['user_id']},{c['application']},{c['login']},{c['password'].split(',')[0]},\n"
                         for c in CREDENTIALS)
    _district(tmp_path, webhook, [
        {"name": "provisioning", "type": "csv", "path": str(write_basic_identity(tmp_path / "people")),
         "schema": "passport-basic-identity"},
        {"name": "vault", "type": "csv", "path": str(write_credentials(tmp_path / "creds", raw=headerless)),
         "schema": "sso-credentials"}])
    summary, shown = _everything_shown(passport_home, webhook)
    assert summary["status"] == "failed validation"
    assert "header.missing_column" in shown and "is the header row missing?" in shown
    for value in (first["password"], CREDENTIALS[1]["password"], first["login"], "reading-plus"):
        assert value not in shown
