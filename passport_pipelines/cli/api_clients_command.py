"""passport api-clients: the secrets of the apps reading the REST provider (each an oneroster-1.2-api
destination of an integration file), and what each has read."""

from __future__ import annotations

import click

from passport_pipelines import settings
from passport_pipelines.cli.output import emit_json, fail
from passport_pipelines.config.loader import IntegrationError, load_district
from passport_pipelines.rest_provider.api_clients import ApiClientError, ApiClients
from passport_pipelines.rest_provider.usage import usage_of
from passport_pipelines.store.golden_store import GoldenStore


@click.group("api-clients")
def api_clients() -> None:
    """Give an app its client secret, rotate it, revoke it, or list the apps and their usage."""


def _secret_once(action: str, client_id: str, secret: str) -> None:
    click.echo(f"{action} client {client_id}; its secret (shown this once, only its hash is kept):")
    click.echo(secret)


def _integration(district: str):
    try:
        return load_district(district)
    except IntegrationError as exc:
        fail(str(exc))


@api_clients.command("add")
@click.argument("district")
@click.argument("destination")
def add(district: str, destination: str) -> None:
    """Create the client of DISTRICT's oneroster-1.2-api DESTINATION and print its secret once."""
    try:
        client, secret = ApiClients(GoldenStore(settings.database_url())).add(_integration(district), destination)
    except ApiClientError as exc:
        fail(str(exc))
    _secret_once("added", client.client_id, secret)


@api_clients.command("rotate")
@click.argument("district")
@click.argument("destination")
def rotate(district: str, destination: str) -> None:
    """Give the client a new secret (printed once); the old secret and its tokens stop working at once."""
    try:
        client, secret = ApiClients(GoldenStore(settings.database_url())).rotate(_integration(district), destination)
    except ApiClientError as exc:
        fail(str(exc))
    _secret_once("rotated", client.client_id, secret)


@api_clients.command("remove")
@click.argument("district")
@click.argument("destination")
def remove(district: str, destination: str) -> None:
    """Revoke the client: its tokens are refused from the next request on."""
    try:
        client_id = ApiClients(GoldenStore(settings.database_url())).remove(district, destination)
    except ApiClientError as exc:
        fail(str(exc))
    click.echo(f"removed client {client_id}: it can no longer get tokens or read {district}")


@api_clients.command("list")
@click.argument("district")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_clients(district: str, as_json: bool) -> None:
    """DISTRICT's API clients and what each read (requests, records served, refused)."""
    store = GoldenStore(settings.database_url())
    clients = ApiClients(store).of_district(district)
    usage = usage_of(store, district)
    if as_json:
        emit_json({"district": district, "clients": [
            {"client_id": c.client_id, "destination": c.destination, "secret_generation": c.generation}
            for c in clients], "usage": usage})
        return
    for c in clients:
        click.echo(f"{c.client_id} ({c.destination}), secret generation {c.generation}")
    for line in usage_lines(usage):
        click.echo(line)


def usage_lines(usage: list[dict]) -> list[str]:
    return [f"api {u['client_id']} {u['school_year']}: {u['requests']} request(s), {u['records']} record(s) served, "
            f"{u['refused']} refused, last {u['last_request_at']:%Y-%m-%d %H:%M}" for u in usage]
