"""passport serve: the OneRoster 1.2 REST provider (docs/rest-api.md)."""

from __future__ import annotations

import click

from passport_pipelines import settings
from passport_pipelines.rest_provider.app import Provider, create_app
from passport_pipelines.rest_provider.warmer import Warmer
from passport_pipelines.store.golden_store import GoldenStore


def app_from_environment():
    """The application as uvicorn's ``--factory`` builds it (several workers behind a reverse proxy:
    set PASSPORT_API_TOKEN_KEY so each accepts the others' tokens)."""
    provider = Provider(GoldenStore(settings.database_url()))
    Warmer(provider.snapshots).start()
    return create_app(provider)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8400, show_default=True, help="Port to listen on.")
@click.option("--public-prefix", default="", help="The path the reverse proxy serves this under, e.g. /oneroster "
                                                  "(for the href of references).")
def serve(host: str, port: int, public_prefix: str) -> None:
    """Serve the golden rosters of every district to its oneroster-1.2-api apps: the OneRoster 1.2
    rostering REST API at /{district}/{school_year}/ims/oneroster/rostering/v1p2, tokens at /oauth2/token."""
    import uvicorn

    provider = Provider(GoldenStore(settings.database_url()), prefix=public_prefix)
    warmer = Warmer(provider.snapshots)
    warmer.start()
    click.echo(f"OneRoster 1.2 REST provider on http://{host}:{port} (tokens: POST /oauth2/token)", err=True)
    try:
        # No access log: a query string can carry names (filter=givenName='...'); usage is counted instead.
        uvicorn.run(create_app(provider), host=host, port=port, proxy_headers=True, log_level="warning",
                    access_log=False)
    finally:
        warmer.stop()
