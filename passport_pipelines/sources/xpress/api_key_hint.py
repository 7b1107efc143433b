"""What to fix when an xPress provider refuses the credentials: often it is the API key.

Providers that ask for an API key (sent in its own header, ``X-API-Key`` unless ``api_key_header``
says otherwise) answer a missing or wrong one with the same 401 as a wrong password, at the token
URL or at the data URLs. The generic hint ("check client_id and the secret's env var") would send an
operator to the wrong setting, so a refusal from an xPress source names the API key too: the
variable it is read from when one is configured, or how to configure one when none is. The key
itself is never shown.
"""

from __future__ import annotations

from passport_pipelines.sources.errors import ConnectorError


def api_key_hint(source) -> str:
    header = source.api_key_header
    if source.api_key:
        return (f"the provider refused the credentials (401): check the API key first (api_key: {source.api_key}, "
                f"sent in the {header} header: is it the key the provider issued for this application, and is "
                f"{header} the header it expects?), then client_id and the other secrets' env vars")
    return ("the provider refused the credentials (401): check client_id and the secrets' env vars; if the provider "
            f"issues an API key, set api_key: env:VAR (sent in the {header} header, or name another with api_key_header)")


def with_api_key_hint(exc: ConnectorError, source) -> ConnectorError:
    """``exc`` again with the API key named in its hint, when the credentials were refused."""
    if exc.kind != "bad_credentials":
        return exc
    return ConnectorError(exc.kind, exc.where, exc.detail, hint=api_key_hint(source))
