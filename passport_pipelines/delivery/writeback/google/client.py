"""Writing to Google Workspace: the Admin SDK Directory API's ``users.insert`` and ``users.patch``,
with the Google source's service account (domain-wide delegation of
``https://www.googleapis.com/auth/admin.directory.user``, the read-write scope) acting as its
``delegated_admin``, over the Google connector's transport (retries, time bounds).

- ``POST {base}/admin/directory/v1/users`` creates an account: ``primaryEmail``, ``name.givenName``,
  ``name.familyName``, ``orgUnitPath``, ``externalIds: [{"type": "organization", "value": <SIS id>}]``,
  and a ``password`` (required by Google): a random one, never kept, shown or logged, with
  ``changePasswordAtNextLogin: true`` (districts sign in through SSO or reset it). Answered with the
  user resource, its ``id`` included.
- ``PATCH {base}/admin/directory/v1/users/{userKey}`` changes only the keys given (names, org unit,
  ``externalIds``, ``suspended``). Answered with the user resource.

A refused record (400 ``invalid``, 404 ``notFound``, 409 ``duplicate``, 412) is that record's failure,
kept with Google's reason code and its scrubbed message. 403 ``userRateLimitExceeded`` /
``rateLimitExceeded`` / ``quotaExceeded`` are retried with the transport's backoff; any other 403 (the
scope not delegated, the admin not an admin), 401, 5xx after the retries or an answer that is not the
documented one is Google failing as a whole: a ``ConnectorError`` for the write-back to stop on. There
is no delete here.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from passport_pipelines.delivery.writeback.google import fields as gf
from passport_pipelines.delivery.writeback.google.rules import check_request
from passport_pipelines.delivery.writeback.messages import scrub
from passport_pipelines.delivery.writeback.records import RecordResult
from passport_pipelines.sources.base import secret
from passport_pipelines.sources.errors import ConnectorError, reason_code
from passport_pipelines.sources.google_workspace.directory import RATE_LIMIT_REASONS, error_reason
from passport_pipelines.sources.google_workspace.service_account import ServiceAccountKey, ServiceAccountToken
from passport_pipelines.sources.http.transport import HttpTransport, where

USERS_PATH = "/admin/directory/v1/users"
_REFUSED = frozenset({400, 403, 404, 409, 412})


def account_body(action: str, changes: dict[str, str]) -> dict:
    """The JSON of one request from a record's allowed changes (field -> value)."""
    body: dict[str, Any] = {}
    for field, value in sorted(changes.items()):
        if field == gf.SIS_ID:
            body["externalIds"] = [{"type": "organization", "value": value}]
        elif field == gf.SUSPENDED:
            body["suspended"] = value == "true"
        elif field.startswith("name."):
            body.setdefault("name", {})[field.split(".", 1)[1]] = value
        else:
            body[field] = value
    return body


class GoogleDirectoryWriter:
    """Writes accounts through one Google source's service account; close it when done."""

    def __init__(self, transport: HttpTransport, token: ServiceAccountToken, base_url: str, sleep=time.sleep):
        self.transport = transport
        self.token = token
        self.url = base_url.rstrip("/") + USERS_PATH
        self.requests = 0
        self._sleep = sleep

    @classmethod
    def open(cls, connector: Any, source: Any) -> "GoogleDirectoryWriter":
        """From the Google connector resource (its transport and retry policy) and the source's
        connection settings; the key is resolved here and never logged."""
        transport = connector.transport(source)
        key = ServiceAccountKey.parse(secret(source, "service_account_key"), f"source {source.name}")
        token = ServiceAccountToken(transport, key, subject=source.delegated_admin,
                                    scopes=[gf.DIRECTORY_WRITE_SCOPE], token_url=source.token_url)
        return cls(transport, token, source.base_url)

    def close(self) -> None:
        self.transport.close()

    def insert(self, changes: dict[str, str]) -> RecordResult:
        body = {**account_body(gf.INSERT, changes), "password": secrets.token_urlsafe(24),
                "changePasswordAtNextLogin": True}
        check_request(gf.INSERT, body)
        return self._send("POST", self.url, body)

    def patch(self, action: str, google_id: str, changes: dict[str, str]) -> RecordResult:
        body = account_body(action, changes)
        check_request(action, body)
        return self._send("PATCH", f"{self.url}/{google_id}", body)

    def _send(self, method: str, url: str, body: dict) -> RecordResult:
        policy = self.transport.retry
        started, attempt = time.monotonic(), 0
        while True:
            attempt += 1
            self.requests += 1
            response = self.transport.send(method, url, auth=self.token, json=body, ok_statuses=_REFUSED,
                                           headers={"Accept": "application/json", "Content-Type": "application/json"})
            try:
                answer = response.json()
            except ValueError:
                raise ConnectorError("bad_response", where(url), f"HTTP {response.status_code}, not JSON") from None
            if response.status_code < 300:
                if not isinstance(answer, dict) or not answer.get("id"):
                    raise ConnectorError("bad_response", where(url), "not a user resource")
                return RecordResult(True, str(answer["id"]))
            reason = error_reason(answer) or "unknown"
            if response.status_code == 403 and reason in RATE_LIMIT_REASONS:
                delay = policy.backoff(attempt, None)
                spent = time.monotonic() - started
                if attempt >= policy.max_attempts or spent + delay > policy.max_total_seconds:
                    raise ConnectorError("rate_limited", where(url), f"HTTP 403, reason {reason}; gave up after "
                                         f"{attempt} attempt(s) in {spent:.0f}s")
                self.transport.retries += 1
                self._sleep(delay)
                continue
            if response.status_code == 403:
                raise ConnectorError("missing_scope", where(url), f"HTTP 403, reason {reason}; delegate "
                                     f"{gf.DIRECTORY_WRITE_SCOPE} to the service account, and make delegated_admin "
                                     "an admin allowed to manage users")
            message = (answer.get("error") or {}).get("message") if isinstance(answer.get("error"), dict) else None
            text = f"HTTP {response.status_code} {reason_code(reason)}" + (f": {scrub(message)}" if message else "")
            return RecordResult(False, message=text)
