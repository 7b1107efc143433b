"""The cache of person records between syncs (reconciliation/people_cache.py): the same findings and
the same store with and without it, and a cache that may no longer show the store is never used."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from passport_pipelines import settings
from passport_pipelines.config.reconciliation import Reconciliation
from passport_pipelines.definitions import defs
from passport_pipelines.jobs.partitions import register_sync_partition, sync_partition_key
from passport_pipelines.jobs.run_tags import COMMITTED_BY_TAG, PREVIEW_TAG
from passport_pipelines.jobs.sync_jobs import ROSTER_SYNC
from passport_pipelines.reconciliation import people_cache
from passport_pipelines.reconciliation.sync_duplicates import attributes_needed
from passport_pipelines.store.duplicate_review import DuplicateReview, RecordRef
from passport_pipelines.store.golden_store import GoldenStore
from tests.conftest import write_integration
from tests.district_files import edit_rows, make_district, read_rows, write_rows
from tests.sync_harness import approve_held

pytestmark = pytest.mark.slow

DISTRICT, YEAR = "lakeside", "2025-2026"
RECONCILIATION = {
    "domains": {"users": [
        {"name": "name_and_email", "attributes": ["given_name", "family_name", "email"]},
        {"name": "name_and_birth_date", "attributes": ["given_name", "family_name", "birth_date"], "match": "fuzzy",
         "threshold": 0.9},
    ]},
    "distinguishing": ["birth_date"],
}
ATTRIBUTES = attributes_needed(Reconciliation.model_validate(RECONCILIATION))


def _run(instance, *, preview: bool = False) -> dict:
    """One roster sync (a preview is held); the change set roster_changes handed on (with its
    ``duplicates``), as a dict."""
    register_sync_partition(instance, DISTRICT, YEAR)
    result = defs.resolve_job_def(ROSTER_SYNC).execute_in_process(
        instance=instance, partition_key=sync_partition_key(DISTRICT, YEAR),
        tags={COMMITTED_BY_TAG: "test", **({PREVIEW_TAG: "true"} if preview else {})}, raise_on_error=False)
    handed_on = result.output_for_node("roster_changes")
    assert (handed_on.held_version is not None) == preview and (preview or result.success)
    return handed_on.changes.__dict__


# ------------------------------------------------------------------ the drop, sync after sync

def _student(rows: list[dict], sourced_id: str) -> dict:
    return next(r for r in rows if r["sourcedId"] == sourced_id)


def _add_user(drop: Path, sourced_id: str, like: str, *, birth_date: str | None = None, **values) -> None:
    """A new user copied from ``like`` (a student), with ``values``; with demographics when
    ``birth_date`` is given."""
    header, users = read_rows(drop / "users.csv")
    users.append({**_student(users, like), "sourcedId": sourced_id, "username": sourced_id, "identifier": "",
                  "agentSourcedIds": "", **values})
    write_rows(drop / "users.csv", header, users)
    if birth_date is not None:
        header, demographics = read_rows(drop / "demographics.csv")
        demographics.append({**demographics[0], "sourcedId": sourced_id, "birthDate": birth_date})
        write_rows(drop / "demographics.csv", header, demographics)


def _set(drop: Path, file: str, sourced_id: str, **values) -> None:
    edit_rows(drop / file, lambda rows: [{**r, **values} if r["sourcedId"] == sourced_id else r for r in rows])


def _drop_rows(drop: Path, file: str, sourced_id: str) -> None:
    edit_rows(drop / file, lambda rows: [r for r in rows if r["sourcedId"] != sourced_id])


def _demographics_absent(drop: Path) -> None:
    (drop / "demographics.csv").unlink(missing_ok=True)
    text = (drop / "manifest.csv").read_text(encoding="utf-8").replace("file.demographics,bulk",
                                                                        "file.demographics,absent")
    (drop / "manifest.csv").write_text(text, encoding="utf-8")


def _birth_date(drop: Path, sourced_id: str) -> str:
    return _student(read_rows(drop / "demographics.csv")[1], sourced_id)["birthDate"]


def _typo(date: str) -> str:
    """One digit of the day mistyped: a fuzzy match that the twin guard holds for review."""
    return date[:-1] + ("1" if date[-1] != "1" else "2")


def _name(drop: Path, sourced_id: str) -> dict:
    u = _student(read_rows(drop / "users.csv")[1], sourced_id)
    return {"givenName": u["givenName"], "familyName": u["familyName"]}


def sync_1(drop: Path) -> None:
    _add_user(drop, "dup-1", "stu-0000003", birth_date=_birth_date(drop, "stu-0000003"))  # a duplicate: merged


def sync_2(drop: Path) -> None:
    _add_user(drop, "new-1", "stu-0000005")  # names and e-mail of stu-5: merged
    typo = _typo(_birth_date(drop, "stu-0000006"))
    # Two new records of stu-6's name and a birth date one digit off: each held for review with stu-6
    # (differs on birth_date), merged with each other.
    _add_user(drop, "new-2", "stu-0000006", email="other6@example.org", birth_date=typo)
    _add_user(drop, "new-7", "stu-0000006", email="more6@example.org", birth_date=typo)
    # A changed user, now stu-8's name and birth date: merged by the fuzzy domain.
    _set(drop, "users.csv", "stu-0000007", **_name(drop, "stu-0000008"))
    _set(drop, "demographics.csv", "stu-0000007", birthDate=_birth_date(drop, "stu-0000008"))
    for file in ("users.csv", "demographics.csv", "enrollments.csv"):  # a user deleted
        edit_rows(drop / file, lambda rows: [r for r in rows if "stu-0000009" not in (r.get("sourcedId"),
                                                                                      r.get("userSourcedId"))])
    # Only stu-10's demographics change (it is not compared itself), to the birth date of a new
    # user of its name: the pair is found only if the new birth date is used.
    _set(drop, "demographics.csv", "stu-0000010", birthDate="2015-03-04")
    _add_user(drop, "new-3", "stu-0000010", email="other10@example.org", birth_date="2015-03-04")
    _drop_rows(drop, "demographics.csv", "stu-0000011")  # no birth date: a fuzzy domain cannot match it
    _add_user(drop, "new-4", "stu-0000011", email="other11@example.org", birth_date="2016-01-01")


def decide_2(store: GoldenStore) -> None:
    """The reviewer deletes new-2 as a duplicate of stu-6: its record goes, its demographics stay."""
    review = DuplicateReview(store)
    [case] = [c for c in review.cases(DISTRICT, YEAR)
              if {c["left_sourced_id"], c["right_sourced_id"]} == {"new-2", "stu-0000006"}]
    review.resolve(case["id"], primary=RecordRef("sis", "stu-0000006"), secondary_action="delete", by="test")


def sync_3(drop: Path) -> None:
    _drop_rows(drop, "users.csv", "new-2")  # stays deleted
    _demographics_absent(drop)  # from now on: demographics as on record
    _add_user(drop, "new-5", "stu-0000012")  # merged


def sync_4(drop: Path) -> None:
    # new-2 comes back: a user new to the cache whose demographics are on record. It now belongs to
    # stu-6's person, new-7 to another: they pair again, by their birth date from the store.
    _add_user(drop, "new-2", "stu-0000006", email="other6@example.org")


STEPS = [("sync", sync_1), ("sync", sync_2), ("decide", decide_2), ("sync", sync_3), ("sync", None),
         ("sync", sync_4)]


def _findings(changes: dict) -> dict[str, list[dict]]:
    folder = Path(changes["duplicates_folder"])
    return {name: pq.read_table(folder / f"{name}.parquet").to_pylist() for name in ("links", "merges", "cases")}


def _world(root: Path, monkeypatch, *, cache: bool) -> list[dict]:
    """The scenario's syncs in a store of their own; with ``cache=False`` the cache is removed
    before every sync. Per sync: the cache's use, the findings, and the people on record after it."""
    home = root / "home"
    for name, value in {"PASSPORT_HOME": home, "DAGSTER_HOME": home / "dagster",
                        "PASSPORT_INTEGRATIONS_DIR": root / "integrations",
                        "PASSPORT_DATABASE_URL": f"sqlite:///{home / 'passport.db'}"}.items():
        monkeypatch.setenv(name, str(value))
    (home / "dagster").mkdir(parents=True)
    (root / "integrations").mkdir()
    drop = make_district(root / "drop", students=30)
    write_integration(root / "integrations", DISTRICT, [{"name": "sis", "type": "csv", "path": str(drop)}],
                      reconciliation=RECONCILIATION)
    store = GoldenStore(settings.database_url())
    out = []
    with dg.instance_for_test() as instance:
        for kind, step in STEPS:
            if kind == "decide":
                step(store)
                continue
            if step:
                step(drop)
            if not cache:
                shutil.rmtree(people_cache.cache_dir(DISTRICT, YEAR), ignore_errors=True)
            changes = _run(instance)
            keys = store.current_keys(DISTRICT, YEAR, "users").sort_by([("source", "ascending"),
                                                                        ("sourced_id", "ascending")])
            out.append({"duplicates": changes.get("duplicates"),
                        "findings": _findings(changes) if changes.get("duplicates_folder") else None,
                        "people": keys.to_pylist(), "cache": _decoded_cache(store)})
    return out


def _decoded_cache(store: GoldenStore) -> dict | None:
    """The cache as values: golden id and normalized attributes per record key (None when unusable)."""
    latest = store.latest_version(DISTRICT, YEAR)
    cached, _ = people_cache.load(store, DISTRICT, YEAR, attributes=ATTRIBUTES, base_version_id=latest.id,
                                  decisions=people_cache.decisions_marker(store, DISTRICT, YEAR))
    if cached is None:
        return None
    columns = {"golden_id": cached.ids.column("golden_id")}
    for name, a in cached.prepared.attributes.items():
        columns[name] = a.uniques.take(pa.array(a.codes, mask=a.codes < 0))
    table = pa.table({"record_key": cached.prepared.keys, **columns})
    return {r.pop("record_key"): r for r in table.to_pylist()}


def test_the_cache_changes_nothing_but_the_time(tmp_path, monkeypatch):
    with_cache = _world(tmp_path / "a", monkeypatch, cache=True)
    without = _world(tmp_path / "b", monkeypatch, cache=False)

    reads = [s["duplicates"]["cache"]["read"] if s["duplicates"] else "unchanged" for s in with_cache]
    assert reads == ["no cache", "used", "a person decided on duplicates since", "unchanged", "used"]
    assert all(s["duplicates"] is None or s["duplicates"]["cache"]["read"] == "no cache" for s in without)
    for a, b in zip(with_cache, without):
        assert a["findings"] == b["findings"]
        assert a["people"] == b["people"]
        assert a["duplicates"] is None or (a["duplicates"]["by_domain"], a["duplicates"]["compared"]) == \
            (b["duplicates"]["by_domain"], b["duplicates"]["compared"])
    # After every sync the cache is an image of the store: the one built from the cache and the one
    # built from the store are equal, value for value. (A sync of unchanged data writes none: the
    # last one holds.)
    assert all(s["cache"] for s in with_cache)
    assert [s["cache"] for s in without] == [s["cache"] if s["duplicates"] else None for s in with_cache]
    assert with_cache[3]["cache"] == with_cache[2]["cache"]

    # The scenario did what it says: each kind of change made its pair.
    merged = {(frozenset((m["primary_sourced_id"], m["secondary_sourced_id"])), m["domain"])
              for s in with_cache if s["findings"] for m in s["findings"]["merges"]}
    assert {(frozenset(("dup-1", "stu-0000003")), "name_and_email"),
            (frozenset(("new-1", "stu-0000005")), "name_and_email"),
            (frozenset(("stu-0000007", "stu-0000008")), "name_and_birth_date"),
            (frozenset(("new-3", "stu-0000010")), "name_and_birth_date"),
            (frozenset(("new-5", "stu-0000012")), "name_and_email")} <= merged
    last = with_cache[-1]["findings"]
    assert ("name_and_birth_date", {"new-2", "new-7"}) in [
        (m["domain"], {m["primary_sourced_id"], m["secondary_sourced_id"]}) for m in last["merges"]]
    assert not any("new-4" in pair for pair, _ in merged)
    cases = [(c["left_sourced_id"], c["right_sourced_id"], c["reason"]) for c in with_cache[1]["findings"]["cases"]]
    assert ("new-2", "stu-0000006", "differs on birth_date") in cases


def test_a_cache_that_may_not_show_the_store_is_not_used(tmp_path, passport_home, sqlite_store):
    drop = make_district(tmp_path / "drop", students=20)
    write_integration(tmp_path / "integrations", DISTRICT, [{"name": "sis", "type": "csv", "path": str(drop)}],
                      reconciliation=RECONCILIATION)
    store = GoldenStore(sqlite_store)
    folder = people_cache.cache_dir(DISTRICT, YEAR)

    def load():
        base = store.latest_version(DISTRICT, YEAR)
        return people_cache.load(store, DISTRICT, YEAR, attributes=ATTRIBUTES, base_version_id=base.id,
                                 decisions=people_cache.decisions_marker(store, DISTRICT, YEAR))[1]

    with dg.instance_for_test() as instance:
        _run(instance)
        assert load() == "used"
        # A held sync (here a preview) computes its cache, but the current one stays until a commit:
        # the approval's.
        _add_user(drop, "new-0", "stu-0000004")
        assert _run(instance, preview=True)["duplicates"]["cache"]["read"] == "used"
        assert load() == "used" and store.latest_version(DISTRICT, YEAR).number == 1
        assert approve_held(instance, DISTRICT, 2)["status"] == "successfully in production"
        assert load() == "used" and store.latest_version(DISTRICT, YEAR).number == 2
        shutil.copytree(folder, tmp_path / "first")
        _add_user(drop, "new-1", "stu-0000005")
        assert _run(instance)["duplicates"]["cache"]["read"] == "used"
        # The first sync's cache, though a later version changed records: not used.
        shutil.rmtree(folder)
        shutil.copytree(tmp_path / "first", folder)
        assert load() == "version 3 changed records since"
        # Not marked committed (a sync that failed or waits for approval).
        (folder / people_cache.COMMITTED_FILE).unlink()
        assert load() == "the sync that wrote it was not committed"
        _run(instance)  # computed from the store again (nothing changed: no search, the cache stays)
        shutil.rmtree(folder)
        _add_user(drop, "new-2", "stu-0000006")
        _run(instance)
        assert load() == "used"
        # Another attribute set, other code, or a damaged file.
        assert people_cache.load(store, DISTRICT, YEAR, attributes=[*ATTRIBUTES, "phone"],
                                 base_version_id=store.latest_version(DISTRICT, YEAR).id,
                                 decisions=people_cache.decisions_marker(store, DISTRICT, YEAR))[1] == \
            "written by other code or for other attributes"
        people = folder / people_cache.PEOPLE_FILE
        people.write_bytes(people.read_bytes()[:100])
        assert load().startswith("unreadable")
        (folder / "stamp.json").write_text("{", encoding="utf-8")
        assert load() == "no cache"
