"""The HTTP layer every API connector shares: retries, time bounds, failure kinds, token handling
and OAuth 1.0a signing, against real local servers."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from passport_pipelines.config.secrets import resolve_secret
from passport_pipelines.sources.errors import ConnectorError, reason_code
from passport_pipelines.sources.http.oauth1 import OAuth1Signer, sign
from passport_pipelines.sources.http.oauth2 import BearerToken
from passport_pipelines.sources.http.transport import HttpTransport, RetryPolicy
from tests.fakes.http_fake import FakeApiServer, FakeResponse

FAST = RetryPolicy(max_attempts=4, max_total_seconds=10, base_delay=0.01, max_delay=0.05)


def ok(request):
    return FakeResponse(200, {"path": request.path})


@pytest.fixture
def server():
    with FakeApiServer(ok) as s:
        yield s


def test_429_burst_is_retried_after_the_servers_retry_after(server):
    server.faults.add("/items", status=429, retry_after=0.3, times=2)
    with HttpTransport(retry=FAST) as http:
        started = time.monotonic()
        response = http.send("GET", f"{server.url}/items")
        assert response.json() == {"path": "/items"}
        assert time.monotonic() - started >= 0.6  # both waits honoured, not the 10 ms backoff
        assert http.retries == 2
    assert len(server.requests_to("/items")) == 3


def test_5xx_and_dropped_connections_are_retried(server):
    server.faults.add("/items", status=500, times=1)
    server.faults.add("/items", status=503, times=1)
    with HttpTransport(retry=FAST) as http:
        assert http.send("GET", f"{server.url}/items").status_code == 200
        assert http.retries == 2


def test_retries_are_bounded_in_attempts(server):
    server.faults.add("/items", status=503, times=100)
    with HttpTransport(retry=FAST) as http, pytest.raises(ConnectorError) as err:
        http.send("GET", f"{server.url}/items")
    assert err.value.kind == "server_error"
    assert "gave up after 4 attempt(s)" in str(err.value)
    assert len(server.requests_to("/items")) == 4


def test_retries_are_bounded_in_total_time(server):
    # A Retry-After beyond the time budget ends the extract now instead of sleeping past it.
    server.faults.add("/items", status=429, retry_after=30, times=1)
    policy = RetryPolicy(max_attempts=10, max_total_seconds=2, base_delay=0.01)
    with HttpTransport(retry=policy) as http, pytest.raises(ConnectorError) as err:
        started = time.monotonic()
        http.send("GET", f"{server.url}/items")
    assert err.value.kind == "rate_limited"
    assert time.monotonic() - started < 1.5


def test_a_slow_answer_times_out_and_is_retried(server):
    server.faults.slow("/items", seconds=1.0, times=1)
    with HttpTransport(timeout=0.3, retry=FAST) as http:
        assert http.send("GET", f"{server.url}/items").status_code == 200
        assert http.retries == 1
    server.faults.slow("/items", seconds=1.0, times=10)
    with HttpTransport(timeout=0.2, retry=RetryPolicy(max_attempts=2, base_delay=0.01)) as http, \
            pytest.raises(ConnectorError) as err:
        http.send("GET", f"{server.url}/items")
    assert err.value.kind == "timeout"


@pytest.mark.parametrize("status, kind", [(401, "bad_credentials"), (403, "missing_scope"), (404, "not_found"),
                                          (400, "bad_response")])
def test_client_errors_fail_at_once_with_their_kind(server, status, kind):
    server.faults.add("/items", status=status, times=1, body={"imsx_codeMajor": "failure",
                                                             "imsx_codeMinor": "unknownobject"})
    with HttpTransport(retry=FAST) as http, pytest.raises(ConnectorError) as err:
        http.send("GET", f"{server.url}/items", params={"filter": "familyName='Smith'"})
    assert err.value.kind == kind
    assert f"HTTP {status}" in str(err.value)
    assert "Smith" not in str(err.value)  # never the query string: it may hold student data
    assert len(server.requests_to("/items")) == 1


def test_refused_connection_is_named():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: connections are refused
        with HttpTransport(retry=RetryPolicy(max_attempts=2, base_delay=0.01)) as http, \
                pytest.raises(ConnectorError) as err:
            http.send("GET", f"http://127.0.0.1:{port}/ws/v1/metadata")
    assert err.value.kind == "connection_refused"
    assert f"127.0.0.1:{port}/ws/v1/metadata" in str(err.value)


def test_unresolvable_host_is_named():
    with HttpTransport(timeout=5, retry=FAST) as http, pytest.raises(ConnectorError) as err:
        http.send("GET", "https://sis.district.invalid/ims/oneroster/v1p1/orgs")
    assert err.value.kind == "unresolvable_host"


def test_untrusted_certificate_is_a_tls_failure_and_ca_bundle_fixes_it(tmp_path):
    with FakeApiServer(ok, tls=True, tmp=tmp_path) as server:
        with HttpTransport(retry=FAST) as http, pytest.raises(ConnectorError) as err:
            http.send("GET", f"{server.url}/items")
        assert err.value.kind == "tls"
        assert "certificate verify failed" in str(err.value)
        with HttpTransport(retry=FAST, ca_bundle=server.ca_file) as http:
            assert http.send("GET", f"{server.url}/items").status_code == 200


def _token_api(secret: str):
    holder: dict = {}

    def handle(request):
        server = holder["server"]
        if request.path == "/oauth/token":
            if request.basic_auth() != ("client", secret):
                return FakeResponse(401, {"error": "invalid_client"})
            return FakeResponse(200, server.tokens.issue("client"))
        if server.tokens.check(request.bearer()) is None:
            return FakeResponse(401, {"error": "invalid_token"})
        return FakeResponse(200, {"ok": True})

    return holder, handle


def test_bearer_token_is_cached_and_fetched_again_when_it_expires():
    holder, handle = _token_api("s3cret")
    with FakeApiServer(handle) as server, HttpTransport(retry=FAST) as http:
        holder["server"] = server
        token = BearerToken(http, f"{server.url}/oauth/token", "client", "s3cret")
        for _ in range(3):
            http.send("GET", f"{server.url}/data", auth=token)
        assert token.fetched == 1  # cached until expiry
        server.tokens.expire_all()  # expiry mid-extract: one 401, a new token, the same request again
        assert http.send("GET", f"{server.url}/data", auth=token).json() == {"ok": True}
        assert token.fetched == 2
        assert http.retries == 0


def test_wrong_client_secret_is_bad_credentials_without_the_secret_in_the_message():
    holder, handle = _token_api("right-secret")
    with FakeApiServer(handle) as server, HttpTransport(retry=FAST) as http:
        holder["server"] = server
        token = BearerToken(http, f"{server.url}/oauth/token", "client", "wrong-secret-value")
        with pytest.raises(ConnectorError) as err:
            http.send("GET", f"{server.url}/data", auth=token)
    assert err.value.kind == "bad_credentials"
    assert "wrong-secret-value" not in str(err.value)
    assert "/oauth/token" in str(err.value)


def test_invalid_scope_at_the_token_endpoint_is_a_missing_scope():
    def handle(request):
        return FakeResponse(400, {"error": "invalid_scope"})

    with FakeApiServer(handle) as server, HttpTransport(retry=FAST) as http, pytest.raises(ConnectorError) as err:
        BearerToken(http, f"{server.url}/token", "c", "s", scopes=["roster.readonly"]).token()
    assert err.value.kind == "missing_scope"


@pytest.mark.parametrize("status, body", [
    (401, {"error": "{secret}"}),  # the refused secret itself as the "error code"
    (400, {"error": "invalid_client: client secret '{secret}' does not match"}),
    (400, {"error": "invalid_client", "error_description": "secret {secret} was refused"}),
])
def test_a_token_endpoint_echoing_the_secret_never_puts_it_in_the_error(monkeypatch, status, body):
    secret = "Echoed-Secret-4711"  # token-shaped: it passes for an error code, so only redaction stops it
    monkeypatch.setenv("PASSPORT_TEST_ECHOED_SECRET", secret)
    answer = {k: v.replace("{secret}", secret) for k, v in body.items()}

    def handle(request):
        return FakeResponse(status, answer)

    with FakeApiServer(handle) as server, HttpTransport(retry=FAST) as http, pytest.raises(ConnectorError) as err:
        client_secret = resolve_secret("env:PASSPORT_TEST_ECHOED_SECRET")  # as every connector gets its secret
        BearerToken(http, f"{server.url}/oauth/token", "client", client_secret).token()
    assert err.value.kind == "bad_credentials"
    assert secret not in str(err.value) and secret not in err.value.detail
    assert f"HTTP {status}" in str(err.value) and "/oauth/token" in str(err.value)


def test_api_error_bodies_give_a_code_never_their_free_text(server):
    server.faults.add(r"/people", status=403, body={"code": "Ada Lovelace (student 4471) may not be read"})
    server.faults.add(r"/classes", status=404, body={"imsx_codeMinor": "unknownobject",
                                                     "imsx_description": "no class for ada@example.org"})
    with HttpTransport(retry=FAST) as http:
        with pytest.raises(ConnectorError) as forbidden:
            http.send("GET", f"{server.url}/people?name=Ada")
        with pytest.raises(ConnectorError) as missing:
            http.send("GET", f"{server.url}/classes")
    assert forbidden.value.detail == "HTTP 403, code unrecognized" and "Ada" not in str(forbidden.value)
    assert missing.value.detail == "HTTP 404, imsx_codeMinor unknownobject" and "ada@" not in str(missing.value)
    assert [reason_code(v) for v in ("invalid_client", "userRateLimitExceeded", 40101, "two words", "x" * 41, True)] \
        == ["invalid_client", "userRateLimitExceeded", "40101", "unrecognized", "unrecognized", "unrecognized"]


def test_oauth1_signature_matches_the_oauth_core_spec_example():
    # OAuth Core 1.0 Appendix A.5: the photos.example.net request and its published signature.
    params = {"oauth_consumer_key": "dpf43f3p2l4k3l03", "oauth_token": "nnch734d00sl2jdk",
              "oauth_signature_method": "HMAC-SHA1", "oauth_timestamp": "1191242096",
              "oauth_nonce": "kllo9940pd9333jh", "oauth_version": "1.0"}
    url = httpx.URL("http://photos.example.net/photos?file=vacation.jpg&size=original")
    assert sign("GET", url, params, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00") == "tR3+Ty81lMeYAr/Fid0kMTYa/WM="


def test_oauth1_signer_signs_every_request_with_a_fresh_nonce():
    request1 = httpx.Request("GET", "https://sis.example.org/ims/oneroster/v1p1/users?limit=100&offset=0")
    request2 = httpx.Request("GET", "https://sis.example.org/ims/oneroster/v1p1/users?limit=100&offset=100")
    signer = OAuth1Signer("key", "secret")
    signer.apply(request1)
    signer.apply(request2)
    h1, h2 = request1.headers["Authorization"], request2.headers["Authorization"]
    assert h1.startswith("OAuth ") and 'oauth_signature_method="HMAC-SHA1"' in h1
    nonce = lambda h: h.split('oauth_nonce="')[1].split('"')[0]  # noqa: E731
    assert nonce(h1) != nonce(h2)
    assert "secret" not in h1
