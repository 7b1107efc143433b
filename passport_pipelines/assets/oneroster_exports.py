"""OneRoster exports: the committed golden data delivered to each CSV destination of the district.

One step delivers every destination of the district (the golden frames are built once and shared),
and materializes, besides ``oneroster_exports``, the asset of each destination it delivered to:
``destinations/<name>``, with that delivery's version, file, checksum and rows. So each destination
has its own history in the UI. The destination assets are the names found in the integration files
when the code location loads; a new name appears after a reload of the code location, and until
then its deliveries are recorded on ``oneroster_exports`` and in ``passport history``.
"""

from typing import Iterable

import dagster as dg

from passport_pipelines.assets.sync_outcome import tag_outcome
from passport_pipelines.changes.handoff import CommittedVersion
from passport_pipelines.delivery.deliveries import DeliveryFailed, deliver_version
from passport_pipelines.jobs.asset_groups import DELIVERY, sync_asset
from passport_pipelines.jobs.partitions import partition_of, sync_partitions
from passport_pipelines.resources.golden_store import GoldenStoreResource
from passport_pipelines.resources.integrations import IntegrationsResource

EXPORTS = "oneroster_exports"
DESTINATION_PREFIX = "destinations"

_DESTINATIONS = dg.TableSchema(columns=[
    dg.TableColumn("destination", "string"), dg.TableColumn("format", "string"), dg.TableColumn("status", "string"),
    dg.TableColumn("path", "string"), dg.TableColumn("rows", "int"), dg.TableColumn("checksum", "string"),
    dg.TableColumn("error", "string"),
    # Files whose inputs had not changed since the destination's last package: copied from it as they were.
    dg.TableColumn("copied", "string"),
    # Files that are the last package's with the rows of the people who changed built again.
    dg.TableColumn("spliced", "string"),
])


def destination_key(name: str) -> dg.AssetKey:
    return dg.AssetKey([DESTINATION_PREFIX, name])


def _output_name(name: str) -> str:
    return f"destination__{name}"


def _row(d: dict) -> dict:
    return {"destination": d["destination"], "format": d["format"], "status": d["status"], "path": d.get("path", ""),
            "rows": sum((d.get("rows") or {}).values()), "checksum": d.get("checksum", ""),
            "error": d.get("error", ""), "copied": ", ".join(d.get("copied") or []),
            "spliced": ", ".join(d.get("spliced") or [])}


def build_oneroster_exports(destination_names: Iterable[str] = ()) -> dg.AssetsDefinition:
    """The delivery step, with one asset per destination name in ``destination_names``."""
    names = sorted(set(destination_names))
    outs = {
        EXPORTS: dg.AssetOut(key=EXPORTS, **sync_asset(DELIVERY), kinds={"csv", "sftp"}, description=(
            "One OneRoster 1.1 or 1.2 zip per destination, through the destination's privacy shield, to its "
            "folder or SFTP server; ids are golden ids and spreadsheet formulas are neutralized. The version "
            "becomes 'successfully in production' once every destination has its file; a failed destination "
            "marks it 'propagation failed' and the next run or the retry_deliveries job delivers it again. "
            "Nothing is delivered while a sync of the district's year is held.")),
        **{_output_name(n): dg.AssetOut(key=destination_key(n), **sync_asset(DELIVERY), is_required=False,
                                        dagster_type=dg.Nothing, kinds={"csv"},
                                        description=f"What the destinations named {n!r} received, per district "
                                                    "and school year: version, file, checksum, rows.")
           for n in names},
    }

    # Subsettable, so that oneroster_exports alone can be materialized (the retry_deliveries job, by hand).
    @dg.multi_asset(name=EXPORTS, outs=outs, partitions_def=sync_partitions, ins={"golden_records": dg.AssetIn()},
                    can_subset=True)
    def _oneroster_exports(context: dg.AssetExecutionContext, golden_records: CommittedVersion,
                           golden_store: GoldenStoreResource, integrations: IntegrationsResource):
        district, _ = partition_of(context)
        store = golden_store.store()
        version = store.version(golden_records.id)
        selected = context.op_execution_context.selected_output_names
        # Only destination assets selected (materialized by hand): deliver to those destinations only.
        only = None if EXPORTS in selected else {n for n in names if _output_name(n) in selected}
        delivered = deliver_version(integrations.load(district), version, store, raise_on_failure=False, only=only)
        status = store.version(version.id).status
        tag_outcome(context, status, version=version.number)
        if EXPORTS in selected:
            yield dg.Output(delivered, output_name=EXPORTS, metadata={
                "version": version.number,
                "version_status": status,
                "dagster/row_count": sum(sum((d.get("rows") or {}).values()) for d in delivered),
                "destinations": dg.MetadataValue.table([dg.TableRecord(_row(d)) for d in delivered],
                                                       schema=_DESTINATIONS),
                "files": dg.MetadataValue.json([d["path"] for d in delivered if d.get("path")])})
        for d in delivered:
            if _output_name(d["destination"]) in selected and d["status"] in ("delivered", "unchanged"):
                yield dg.Output(None, output_name=_output_name(d["destination"]), metadata={
                    "version": version.number, **{k: v for k, v in _row(d).items() if k != "destination"},
                    # Which files it got (the gradebook only where its shield asks for it), with their rows.
                    "rows_by_file": dg.MetadataValue.json(d.get("rows") or {})})
        failed = [d for d in delivered if d["status"] == "failed"]
        if failed:
            raise DeliveryFailed(f"{district} {version.school_year} version {version.number}: "
                                 + "; ".join(f"{d['destination']}: {d['error']}" for d in failed)
                                 + " (the next run, or the retry_deliveries job, delivers again)")

    return _oneroster_exports
