"""Stage 5, deliveries: the committed golden data exported to each of the district's CSV destinations.

Each destination gets its own file (OneRoster 1.1 or 1.2, through its own privacy shield) in its own
folder or on its SFTP server, and its own history row: version, where, checksum, rows, time, status.
One failing destination does not stop the others; any failure marks the version `propagation failed`
and is raised, and the next run or the `retry_deliveries` job delivers what is missing.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa

from passport_pipelines import settings
from passport_pipelines.artifacts.sweep import sweep_partial_files
from passport_pipelines.changes.hold_gate import check_deliverable
from passport_pipelines.config.destinations import OneRosterCsvDestination
from passport_pipelines.config.integration import Integration
from passport_pipelines.delivery.background import started
from passport_pipelines.delivery.changed_people import SPLICED_FILE
from passport_pipelines.delivery.csv_splice import RowSplice
from passport_pipelines.delivery.frame_fingerprints import file_fingerprints, splice_basis
from passport_pipelines.delivery.golden_frames import GoldenFrames, GoldenFrameSource, decided_after
from passport_pipelines.delivery.oneroster_export import (
    export_files,
    metadata_columns,
    plain_header,
    write_oneroster_zip,
)
from passport_pipelines.delivery.previous_lines import PreviousLines
from passport_pipelines.delivery.previous_package import PreviousPackage
from passport_pipelines.delivery.privacy_shield import shield_absent, shield_frames
from passport_pipelines.delivery.propagation import DONE, district_day, expired, fully_propagated
from passport_pipelines.delivery.targets import file_checksum, upload_sftp
from passport_pipelines.model import entities
from passport_pipelines.store.duplicate_review import DuplicateReview
from passport_pipelines.store.golden_store import GoldenStore, Version
from passport_pipelines.store.version_status import COMMITTED, IN_PRODUCTION, PROPAGATION_FAILED

DEFAULT_NAME = "oneroster_export"


class DeliveryFailed(RuntimeError):
    """Some destinations did not receive the version; the others did. Retried by the next run."""


@dataclass
class Outcome:
    destination: str
    format: str
    status: str  # delivered | unchanged | already delivered | expired | failed
    path: str | None = None
    rows: dict | None = None
    checksum: str | None = None
    error: str | None = None
    copied: list[str] | None = None  # files copied from the destination's last package (their inputs unchanged)
    spliced: list[str] | None = None  # files from the last package with the changed people's rows built again

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class _Package:
    """What one destination's package is made of, before any frame is built."""

    fingerprints: dict[str, str]  # file name -> fingerprint of its inputs
    previous: PreviousPackage | None  # the destination's last package, if it can give unchanged files
    copied: frozenset[str]  # the files it gives: their fingerprints are the same now
    frames: frozenset[str]  # the entities whose frames the files to build need
    bases: dict[str, str]  # file name -> splice basis (``frame_fingerprints.splice_basis``), named in the package
    spliceable: bool  # users.csv is built, and may be the last package's with changed people's rows rebuilt


def export_path(integration: Integration, dest: OneRosterCsvDestination, version: Version) -> Path:
    """Where the zip is written: the destination's folder, or (for SFTP) the district's exports folder,
    which keeps a copy of what was uploaded."""
    base = integration.resolve_path(dest.folder) if dest.folder else settings.default_exports_dir(integration.district)
    if dest.sftp is not None:
        base = base / "sftp" / dest.name
    name = "" if dest.name == DEFAULT_NAME else f"_{dest.name}"
    return base / f"{integration.district}_{version.school_year}_v{version.number}{name}_{dest.type[:-4]}.zip"


def deliver_version(integration: Integration, version: Version, store: GoldenStore, *,
                    raise_on_failure: bool = True, only: set[str] | None = None) -> list[dict]:
    """Deliver the version to every CSV destination (``only``: to these); returns one outcome per
    destination, and raises ``DeliveryFailed`` when one failed (unless ``raise_on_failure`` is false:
    the caller reports the failed outcomes). The version is in production once every destination that
    should have it has it (``fully_propagated``). Nothing is delivered while a sync of the district's year is
    held (``SyncHeld``)."""
    check_deliverable(store, version)
    for dest in integration.csv_destinations:
        sweep_partial_files(export_path(integration, dest, version).parent)  # what a killed delivery left
    outcomes: list[Outcome] = []
    pending = []
    today = district_day(integration)
    for dest in integration.csv_destinations:
        if only is not None and dest.name not in only:
            continue
        skipped = _skipped(store, version, dest, today)
        if skipped is not None:
            outcomes.append(skipped)
        else:
            pending.append(dest)
    if pending:
        # Each last package is checked (its SHA-256, a second at a million students) while the store's keys
        # are read and the fingerprints made, which say whether it is needed.
        earlier = {dest.name: _previous_package(integration, store, version, dest) for dest in pending}
        with GoldenFrameSource(integration, version, store) as source:
            fingerprints, inputs = source.fingerprints(), source.people_inputs()
            packages = {dest.name: _package(dest, version, earlier[dest.name], fingerprints, inputs)
                        for dest in pending}
            needed = set().union(*(p.frames for p in packages.values()))
            if not any(SPLICED_FILE in p.copied for p in packages.values()):
                needed.add("users")  # the people's lineage is recorded unless a delivery showed it unchanged
            people, reading = _people_splices(source, version, packages,
                                              {dest.name: dest.version for dest in pending})
            golden = source.frames(only=needed, people=people)
            splices = _splices(reading, people)
            if people is not None and (splices is None or metadata_columns(golden.frames["users"])):
                # A last users file not in id order (an older release's), or changed people with extension
                # fields it has no columns for: built whole.
                whole = source.frames(only={"users", "agents"} & set(golden.frames))
                golden.frames.update(whole.frames)
                golden.lineage, people, splices = whole.lineage, None, {}
        review = DuplicateReview(store)
        if golden.lineage is not None and people is not None:
            review.splice_lineage(version.district, version.school_year, version.id, people, golden.lineage)
        elif golden.lineage is not None:
            review.replace_lineage(version.district, version.school_year, version.id, golden.lineage)
        else:  # no users file was built: its inputs, and so their lineage, are the last delivery's
            review.carry_lineage(version.district, version.school_year, version.id)
        outcomes += [_deliver_one(integration, version, store, dest, golden, packages[dest.name],
                                  splices.get(dest.name), last=dest is pending[-1]) for dest in pending]
    failed = [o for o in outcomes if o.status == "failed"]
    complete = fully_propagated(store, integration, version.id, today)
    store.set_status(version.id, IN_PRODUCTION if complete and not failed else PROPAGATION_FAILED)
    if failed and raise_on_failure:
        raise DeliveryFailed(f"{version.district} {version.school_year} version {version.number}: "
                             + "; ".join(f"{o.destination}: {o.error}" for o in failed)
                             + " (the next run, or the retry_deliveries job, delivers again)")
    return [o.as_dict() for o in outcomes]


def _skipped(store: GoldenStore, version: Version, dest: OneRosterCsvDestination, today: date) -> Outcome | None:
    """The outcome of a destination that needs no new file, or None when it needs one."""
    if expired(dest, today):
        why = f"nothing is delivered after {dest.until}"
        # Recorded once per version, so that its history says why this destination got nothing.
        if not any(d["destination"] == dest.name and d["status"] == "expired" for d in store.deliveries(version.id)):
            store.record_delivery(version.id, dest.name, dest.type, None, {}, "expired", error=why)
        return Outcome(dest.name, dest.type, "expired", error=why)
    mine = [d for d in store.deliveries(version.id) if d["destination"] == dest.name and d["status"] in DONE]
    if mine:  # a retry: this destination already has this version
        d = mine[-1]
        return Outcome(dest.name, dest.type, "already delivered", d["path"], d["rows"], d["checksum"])
    if any(sum(c.values()) for c in version.changes.values()):
        return None
    # Nothing changed: the file already delivered is still current, so no new file appears for the
    # app to pick up again; unless a duplicate decision since then changed who is delivered.
    previous = _previous_delivery(store, version, dest)
    decided = DuplicateReview(store).last_decided_at(version.district, version.school_year)
    if previous is None or decided_after(decided, previous["delivered_at"]):
        return None
    store.record_delivery(version.id, dest.name, dest.type, previous["path"], previous["rows"], "unchanged",
                          checksum=previous["checksum"])
    return Outcome(dest.name, dest.type, "unchanged", previous["path"], previous["rows"], previous["checksum"])


def _previous_delivery(store: GoldenStore, version: Version, dest: OneRosterCsvDestination) -> dict | None:
    """What the version just before this one delivered to the destination, if it is still there."""
    earlier = [v for v in store.versions(version.district, version.school_year)
               if v.number < version.number and v.status in COMMITTED]
    if not earlier:
        return None
    for d in reversed(store.deliveries(earlier[-1].id)):
        if d["destination"] == dest.name and d["format"] == dest.type and d["status"] in DONE and d["path"] and \
                (d["path"].startswith("sftp://") or Path(d["path"]).exists()):
            return d
    return None


def _package(dest: OneRosterCsvDestination, version: Version, earlier: Future[PreviousPackage | None] | None,
             frames: dict[str, str], people_inputs: str | None) -> _Package:
    """Which files of the destination's package can come from its last package (``earlier``, being
    opened), and which frames the others need (a shield by school reads them all)."""
    allowed = {e for e in entities.ENTITIES if dest.shield.allows(e)}
    files = export_files(dest.version, allowed, shield_absent(dest.shield))
    fingerprints = file_fingerprints(frames, dest, files)
    previous = earlier.result() if earlier is not None and fingerprints else None
    copied = frozenset(previous.unchanged(fingerprints)) if previous is not None else frozenset()
    built = set(files) - copied
    if not built:
        needed = set()
    elif dest.shield.schools is not None:
        needed = allowed
    else:
        needed = {e for f in built for e in files[f]} & allowed
    bases = ({SPLICED_FILE: splice_basis(people_inputs, dest, SPLICED_FILE)}
             if people_inputs and SPLICED_FILE in fingerprints else {})
    # A shield by school keeps the people of some schools: which ones follows the schools, not the people.
    spliceable = (SPLICED_FILE in built and bases and previous is not None and dest.shield.schools is None
                  and previous.version_id == version.base_version_id
                  and previous.bases.get(SPLICED_FILE) == bases[SPLICED_FILE])
    return _Package(fingerprints, previous, copied, frozenset(needed), bases, bool(spliceable))


def _people_splices(source: GoldenFrameSource, version: Version, packages: dict[str, _Package],
                    versions: dict[str, str]) -> tuple[pa.Array | None, dict[str, PreviousLines]]:
    """The people whose users rows are built again, and per destination (``versions``: its OneRoster
    version) the users file of its last package they are spliced into, being read meanwhile; ``(None, {})``
    when the users frame is built whole: some destination that needs it cannot splice (no such package,
    anything but user records changed since, a shield by school, ``metadata.*`` columns in the file), or who
    changed cannot be told."""
    needing = [(name, p) for name, p in packages.items() if "users" in p.frames]
    if not needing or not all(p.spliceable for _, p in needing) or version.base_version_id is None:
        return None, {}
    reading = {}
    for name, package in needing:
        reading[name] = PreviousLines(package.previous.path, SPLICED_FILE, "sourcedId")
        if reading[name].header != plain_header(versions[name], SPLICED_FILE):
            people = None
            break
    else:
        people = source.changed_people()
    if people is None:
        for lines in reading.values():
            lines.abandon()
        return None, {}
    return people, reading


def _splices(reading: dict[str, PreviousLines], people: pa.Array | None) -> dict[str, RowSplice] | None:
    """Per destination, the splice of ``people``'s rows into its last users file; None when some file turned
    out not to be one our writer wrote in id order."""
    splices = {}
    for name, lines in reading.items():
        previous = lines.result()
        if previous is None:
            return None
        splices[name] = RowSplice(previous, people)
    return splices


def _previous_package(integration: Integration, store: GoldenStore, version: Version,
                      dest: OneRosterCsvDestination) -> Future[PreviousPackage | None] | None:
    """The destination's last package, on this machine (an SFTP destination's local copy), being opened
    on another thread; None when there is none."""
    earlier = _previous_delivery(store, version, dest)
    if earlier is None:
        return None
    path = earlier["path"]
    if path.startswith("sftp://"):
        before = store.version(earlier["version_id"])
        path = str(export_path(integration, dest, before))
    return started("previous-package", PreviousPackage.open, Path(path), earlier.get("checksum"),
                   earlier.get("rows"), earlier["version_id"])


def _deliver_one(integration: Integration, version: Version, store: GoldenStore, dest: OneRosterCsvDestination,
                 golden: GoldenFrames, package: _Package, splice: RowSplice | None, *, last: bool) -> Outcome:
    """One destination's file. The ``last`` destination to be written is the frames' last reader: it takes
    them over, and the export lets each go once written (a million students' frames are 3 GB)."""
    path = export_path(integration, dest, version)
    where = str(path)
    try:
        given = golden.frames
        if last:
            golden.frames = {}
        # The files the shield withholds, whichever frames this delivery had to build.
        frames, _ = shield_frames(given, dest.shield, org_keys=golden.org_keys)
        absent = shield_absent(dest.shield)
        del given
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = write_oneroster_zip(frames, path, dest.version, absent=absent, release=last,
                                   fingerprints=package.fingerprints, previous=package.previous,
                                   bases=package.bases, spliced={SPLICED_FILE: splice} if splice else None)
        checksum = file_checksum(path)
        if dest.sftp is not None:
            where = upload_sftp(path, dest.sftp, integration)
    except Exception as exc:  # recorded and reported per destination; the others still go out
        error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
        store.record_delivery(version.id, dest.name, dest.type, where, {}, "failed", error=error)
        return Outcome(dest.name, dest.type, "failed", where, error=error)
    store.record_delivery(version.id, dest.name, dest.type, where, rows, "delivered", checksum=checksum)
    return Outcome(dest.name, dest.type, "delivered", where, rows, checksum, copied=sorted(package.copied & set(rows)),
                   spliced=[SPLICED_FILE] if splice else [])
