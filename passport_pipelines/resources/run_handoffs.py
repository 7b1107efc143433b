"""What one asset of a sync hands to the next, kept per run.

Dagster's default IO manager files an asset's output under the asset and partition only, so two
runs of one district and school year at once would read each other's hand-offs: a commit could
take another run's change set. Here each output is a JSON file under the run that produced it
(``artifacts/handoffs/<run id>/``), and an input is read from the run that produced it in this
run's plan (the run itself, or the parent of a re-execution). An input from an asset this run did
not materialize (a delivery retried by hand) comes from that partition's latest materialization.

A stage hands on a small frozen dataclass (``validation/handoff.py``, ``normalize/handoff.py``,
``changes/handoff.py``); its file names the type, and the input is that type again.
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg

from passport_pipelines.artifacts.layout import handoffs_dir
from passport_pipelines.changes.handoff import CommittedVersion, SyncChanges
from passport_pipelines.normalize.handoff import NormalizedRosters
from passport_pipelines.validation.handoff import ApiExtracts, SourceExtracts

EPHEMERAL_RUN_ID = "__EPHEMERAL_RUN_ID"
HANDOFFS = {cls.__name__: cls for cls in (ApiExtracts, SourceExtracts, NormalizedRosters, SyncChanges,
                                          CommittedVersion)}
TYPE_KEY = "handoff"


def _encode(obj: object) -> object:
    if isinstance(obj, tuple(HANDOFFS.values())):
        return {TYPE_KEY: type(obj).__name__, "value": obj.to_json()}
    return obj


def _decode(data: object, context: dg.InputContext) -> object:
    if isinstance(data, dict) and data.get(TYPE_KEY) in HANDOFFS and set(data) == {TYPE_KEY, "value"}:
        return HANDOFFS[data[TYPE_KEY]].from_json(data["value"])
    # Written before the stage handed on its type (a run re-executed across an upgrade): the input's
    # annotated type reads the plain JSON it replaced.
    wanted = getattr(context.dagster_type, "typing_type", None)
    if isinstance(wanted, type) and wanted in HANDOFFS.values() and isinstance(data, dict):
        return wanted.from_json(data)
    return data


def _file(run_id: str, name: str, partition: str | None) -> Path:
    name += f"@{partition}" if partition else ""
    return handoffs_dir(run_id) / f"{name.replace('/', '_')}.json"


def _output_name(context: dg.OutputContext) -> str:
    """An asset's key; for an op's output (the approval and duplicate-review jobs), its step and name."""
    if context.has_asset_key:
        return "__".join(context.asset_key.path)
    return f"{context.step_key}.{context.name}"


class RunHandoffIOManager(dg.ConfigurableIOManager):
    """Asset outputs as JSON files, one folder per run."""

    def handle_output(self, context: dg.OutputContext, obj: object) -> None:
        if obj is None and context.dagster_type.is_nothing:
            return
        partition = context.partition_key if context.has_partition_key else None
        path = _file(context.run_id, _output_name(context), partition)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(_encode(obj)), encoding="utf-8")
        tmp.replace(path)

    def load_input(self, context: dg.InputContext) -> object:
        if not context.has_asset_key:  # an op's output, always of this run
            upstream = context.upstream_output
            path = _file(upstream.run_id, _output_name(upstream),
                         upstream.partition_key if upstream.has_partition_key else None)
            return _decode(json.loads(path.read_text(encoding="utf-8")), context)
        key = context.asset_key
        partition = context.asset_partition_key if context.has_asset_partitions else None
        producer = self._producing_run(context)
        if producer is None:
            # Not materialized in this run's plan: the partition's latest materialization.
            producer = self._latest_materialization_run(context, key, partition)
        path = _file(producer, "__".join(key.path), partition) if producer else None
        if path is None or not path.exists():
            where = f" for {partition}" if partition else ""
            raise dg.Failure(f"{key.to_user_string()}{where} has no output to read: materialize it first "
                             "(or run the whole roster_sync job)")
        return _decode(json.loads(path.read_text(encoding="utf-8")), context)

    @staticmethod
    def _producing_run(context: dg.InputContext) -> str | None:
        """The run that produced the input in this run's plan (this run, or the parent run of a
        re-execution); None when the upstream asset is not in the plan. Never another run's output
        in its place: that is the mix-up this manager exists to prevent."""
        upstream = context.upstream_output
        try:
            run_id = upstream.run_id if upstream is not None else None
        except dg.DagsterInvariantViolationError:
            return None
        # Dagster's stand-in output context for an asset outside the plan names this placeholder run.
        return None if run_id == EPHEMERAL_RUN_ID else run_id

    @staticmethod
    def _latest_materialization_run(context: dg.InputContext, key: dg.AssetKey, partition: str | None) -> str | None:
        records = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition] if partition else None),
            limit=1).records
        return records[0].run_id if records else None
