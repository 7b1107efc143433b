"""Zip drops: members matched by exact path, and zips that would unpack to too much refused before
anything is unpacked (zip bombs, forged sizes, too many entries)."""

from __future__ import annotations

import tracemalloc
import zipfile

import pytest

from passport_pipelines.config.package_limits import PackageLimits
from passport_pipelines.validation.oneroster.validation import validate_package
from tests.malformed_drops import _zip_of, build, package_members, users_bytes
from tests.oneroster_packages import valid_rows


@pytest.fixture(autouse=True)
def _one_duckdb_thread(monkeypatch):
    monkeypatch.setenv("PASSPORT_DUCKDB_THREADS", "1")


def _rules(drop) -> dict[str, int]:
    return drop.report.totals()


def _files(drop, rule: str) -> list[str]:
    return [f.file for f in drop.report.samples() if f.rule == rule]


# --- which members are the drop's files ------------------------------------------------------------------

def test_a_member_that_climbs_out_is_refused_and_never_taken_for_the_file_of_its_name(tmp_path):
    members = package_members(tmp_path, files=["users"])
    impostor = [{**valid_rows()["users"][0], "sourcedId": "impostor-1"}]
    members["../../../users.csv"] = users_bytes(impostor)  # after users.csv: it used to win
    drop = validate_package(_zip_of(tmp_path, members), "oneroster-1.1")
    assert _rules(drop) == {"package.unsafe_path": 1}
    assert _files(drop, "package.unsafe_path") == ["../../../users.csv"]
    assert "impostor-1" not in drop.report.render()


@pytest.mark.parametrize("name,why", [
    ("/etc/users.csv", "starts at the root"), ("C:/export/users.csv", "drive letter"),
    ("export\\users.csv", "backslash"), ("./users.csv", "'.' part"), ("export//users.csv", "'.' part"),
])
def test_paths_that_are_not_plain_are_refused(tmp_path, name, why):
    members = {**package_members(tmp_path, files=["orgs"]), name: users_bytes()}
    drop = validate_package(_zip_of(tmp_path, members), "oneroster-1.1")
    [finding] = [f for f in drop.report.samples() if f.rule == "package.unsafe_path"]
    assert finding.file == name and why in finding.message


def test_a_zip_of_one_top_folder_is_read_from_that_folder(tmp_path):
    # What macOS and Windows "compress folder" make, with macOS's resource forks beside it.
    members = {f"Lakeside Export/{n}": d for n, d in package_members(tmp_path).items()}
    members["__MACOSX/Lakeside Export/._users.csv"] = b"\x00\x05\x16\x07 resource fork"
    members["Lakeside Export/README.txt"] = b"not a csv"
    drop = validate_package(_zip_of(tmp_path, members), "oneroster-1.1")
    assert drop.ok and drop.report.count() == 0, drop.report.render()
    assert drop.rows["users"] == 4


def test_a_csv_beside_the_top_folder_is_a_finding(tmp_path):
    members = {f"export/{n}": d for n, d in package_members(tmp_path, files=["users"]).items()}
    members["users.csv"] = users_bytes()
    drop = validate_package(_zip_of(tmp_path, members), "oneroster-1.1")
    # The files no longer share one folder: the common folder is the top, and export/ is a subfolder.
    assert set(_files(drop, "package.nested_file")) == {"export/manifest.csv", "export/users.csv"}
    assert not drop.ok


def test_a_name_twice_is_a_finding_not_the_last_one_winning(tmp_path):
    path = tmp_path / "drop.zip"
    members = package_members(tmp_path, files=["users"])
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        with pytest.warns(UserWarning, match="Duplicate name"):
            zf.writestr("users.csv", users_bytes([{**valid_rows()["users"][0], "sourcedId": "second-copy"}]))
    drop = validate_package(path, "oneroster-1.1")
    [finding] = [f for f in drop.report.samples() if f.rule == "package.duplicate_name"]
    assert finding.file == "users.csv" and "2 times" in finding.message
    assert "users" not in drop.present


def test_names_differing_by_case_are_a_finding(tmp_path):
    path, _ = build("zip_case_duplicates", tmp_path)
    drop = validate_package(path, "oneroster-1.1")
    [finding] = [f for f in drop.report.samples() if f.rule == "package.duplicate_name"]
    assert "users.csv and Users.csv" in finding.message or "Users.csv and users.csv" in finding.message


def test_a_symlink_member_is_refused(tmp_path):
    path, _ = build("zip_symlink", tmp_path)
    drop = validate_package(path, "oneroster-1.1")
    assert drop.report.totals("error") == {"package.symlink": 1, "manifest.file_missing": 1}


# --- sizes ----------------------------------------------------------------------------------------------

def test_a_zip_bomb_is_refused_without_unpacking_it(tmp_path):
    path, _ = build("zip_bomb", tmp_path)  # users.csv: 64 MiB packed ~1000:1
    tracemalloc.start()
    try:
        drop = validate_package(path, "oneroster-1.1")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    [finding] = [f for f in drop.report.samples() if f.rule == "package.compression_ratio"]
    assert finding.file == "users.csv" and "64 MiB" in finding.message and "max_compression_ratio" in finding.message
    assert peak < 8 << 20, f"validation allocated {peak >> 20} MiB"


def test_the_ratio_limit_is_per_source(tmp_path):
    path, _ = build("zip_bomb", tmp_path)
    drop = validate_package(path, "oneroster-1.1", limits=PackageLimits(max_compression_ratio=5000))
    assert "package.compression_ratio" not in drop.report.totals()
    assert drop.rows["users"] > 500_000


def _forge_sizes(path, sizes: dict[str, int]) -> None:
    """Overwrite the unpacked sizes the central directory declares for some members."""
    data = bytearray(path.read_bytes())
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        name_len = int.from_bytes(data[at + 28:at + 30], "little")
        name = data[at + 46:at + 46 + name_len].decode()
        if name in sizes:
            data[at + 24:at + 28] = sizes[name].to_bytes(4, "little")
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(data)


def test_total_unpacked_size_over_the_default_limit_is_refused_before_unpacking(tmp_path):
    members = {**package_members(tmp_path, files=["users"]), "enrollments.csv": b"x" * 100}
    path = _zip_of(tmp_path, members)
    _forge_sizes(path, {"users.csv": 0xFFFF0000, "enrollments.csv": 0xFFFF0000})  # 2 x 4 GiB declared
    drop = validate_package(path, "oneroster-1.1")
    [finding] = drop.report.samples()
    assert (finding.rule, finding.file) == ("package.too_large", "drop.zip")
    assert "8 GiB" in finding.message and "4 GiB" in finding.message


def test_a_member_holding_more_than_it_declares_is_not_read_past_its_declared_size(tmp_path):
    path = _zip_of(tmp_path, package_members(tmp_path, files=["users"]))
    _forge_sizes(path, {"users.csv": 100})
    drop = validate_package(path, "oneroster-1.1")
    [finding] = [f for f in drop.report.samples() if f.rule == "package.unreadable_member"]
    assert finding.file == "users.csv" and "damaged" in finding.message


def test_too_many_entries_are_refused_before_the_directory_is_read(tmp_path):
    path = tmp_path / "drop.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(1001):
            zf.writestr(f"f{i}.txt", b"")
    drop = validate_package(path, "oneroster-1.1")
    [finding] = drop.report.samples()
    assert (finding.rule, finding.file) == ("package.too_many_files", "drop.zip")
    assert "1001 entries" in finding.message and "max_files (1000)" in finding.message


def test_a_forged_entry_count_is_refused_before_python_reads_the_directory(tmp_path):
    # The end record claims 60,000 entries: zipfile would build that many records from the directory.
    path = _zip_of(tmp_path, package_members(tmp_path, files=["users"]))
    data = bytearray(path.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    data[end + 8:end + 12] = (60_000).to_bytes(2, "little") * 2
    path.write_bytes(data)
    drop = validate_package(path, "oneroster-1.1")
    assert drop.report.totals() == {"package.too_many_files": 1}
