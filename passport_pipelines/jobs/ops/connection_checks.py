"""The Test Connection job: launched from the Launchpad with a district (and optionally one source)."""

import dagster as dg

from passport_pipelines.sources.registry import CONNECTORS, resource_key
from passport_pipelines.validation.connection_checks import check_sources

TEST_CONNECTION = "test_connection"

_CHECK_SCHEMA = dg.TableSchema(columns=[
    dg.TableColumn("source", "string"), dg.TableColumn("type", "string"), dg.TableColumn("step", "string"),
    dg.TableColumn("ok", "bool"), dg.TableColumn("detail", "string"),
])


class ConnectionCheckConfig(dg.Config):
    district: str
    source: str | None = None


class ConnectionFailed(dg.Failure):
    """A source failed its check; the message names the source, the failure and the step."""


@dg.op(required_resource_keys={"integrations", *(resource_key(t) for t in CONNECTORS)})
def check_connections(context: dg.OpExecutionContext, config: ConnectionCheckConfig) -> dict:
    """Reach every source of the district (or the one named) and try its credentials; fails with
    the first failing step of each source that does not pass."""
    integration = context.resources.integrations.load(config.district)
    connectors = {t: getattr(context.resources, resource_key(t)) for t in CONNECTORS}
    try:
        checks = check_sources(integration, config.source, connectors)
    except KeyError as exc:
        raise ConnectionFailed(str(exc.args[0])) from None
    rows = [dg.TableRecord({"source": c.source, "type": c.type, "step": s.name, "ok": s.ok, "detail": s.detail})
            for c in checks for s in c.steps]
    summary = {c.source: ("ok" if c.ok else c.failure) for c in checks}
    context.add_output_metadata({"results": dg.MetadataValue.table(rows, schema=_CHECK_SCHEMA),
                                 "summary": dg.MetadataValue.json(summary)})
    failed = [c for c in checks if not c.ok]
    if failed:
        raise ConnectionFailed(
            "; ".join(f"{c.source}: {c.failure.replace('_', ' ')} — {c.steps[-1].detail}" for c in failed),
            metadata={"summary": dg.MetadataValue.json(summary)})
    return summary


@dg.job(name=TEST_CONNECTION, description="Test Connection: reachability and credentials of a district's sources.")
def test_connection_job():
    check_connections()
