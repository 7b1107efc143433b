"""manifest.csv: which OneRoster version, and for each file whether it is bulk, delta or absent."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from passport_pipelines.config.package_limits import KIB, size_text
from passport_pipelines.validation.oneroster.findings import Finding, FindingsReport
from passport_pipelines.validation.oneroster.package import Package
from passport_pipelines.validation.oneroster.spec import MANIFEST, MODES, VERSIONS, files_for

# A manifest is some twenty short lines: anything far bigger is not one, and is not parsed.
MAX_MANIFEST_SIZE = 64 * KIB
MANIFEST_VERSION = "1.0"
# The properties both CSV bindings define besides one ``file.<name>`` per data file of the version.
KNOWN_PROPERTIES = {"manifest.version", "oneroster.version", "source.systemName", "source.systemCode"}


@dataclass
class Manifest:
    version: str
    modes: dict[str, str] = field(default_factory=dict)  # roster file name -> bulk|delta|absent

    def present(self) -> list[str]:
        return [name for name, mode in self.modes.items() if mode != "absent"]


def _err(rule: str, message: str, line: int | None = None, value: str | None = None) -> Finding:
    return Finding(MANIFEST, line, "value" if value is not None else None, value, rule, "error", message)


def read_manifest(package: Package, expected_version: str, report: FindingsReport) -> Manifest | None:
    """Parse and check the manifest against the files actually in the package."""
    if not package.has(MANIFEST):
        report.add(_err("manifest.missing", "no manifest.csv in the drop; a OneRoster package must have one"))
        return None
    data = package.read(MANIFEST, report)
    if data is None:
        return None
    if len(data) > MAX_MANIFEST_SIZE:
        report.add(_err("manifest.too_large", f"manifest.csv is {size_text(len(data))}; a manifest is a few "
                                              f"lines, at most {size_text(MAX_MANIFEST_SIZE)}"))
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        report.add(_err("file.encoding", "manifest.csv is not UTF-8 text"))
        return None
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        report.add(_err("file.parse", f"manifest.csv cannot be read as CSV ({exc})"))
        return None
    if not rows or [c.strip().lower() for c in rows[0][:2]] != ["propertyname", "value"]:
        report.add(_err("manifest.header", "the header must be propertyName,value", line=1))
        return None

    props: dict[str, tuple[str, int]] = {}
    ok = True
    for line, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        name = row[0].strip()
        value = row[1].strip() if len(row) > 1 else ""
        if name in props:
            report.add(_err("manifest.duplicate_property", f"property {name!r} is given twice", line, value))
            ok = False
            continue
        props[name] = (value, line)

    version, vline = props.get("oneroster.version", ("", None))
    if version not in VERSIONS:
        report.add(_err("manifest.version", "oneroster.version must be 1.1 or 1.2", vline, version))
        return None
    if version != expected_version:
        report.add(_err("manifest.version",
                        f"the drop is OneRoster {version} but the source is configured for oneroster-{expected_version}",
                        vline, version))
        return None
    files = files_for(version)
    for name, (value, line) in props.items():
        if name in KNOWN_PROPERTIES or (name.startswith("file.") and name[5:] in files):
            continue
        report.add(_err("manifest.unknown_property", _unknown_property(name, version), line, value))
        ok = False
    if "manifest.version" not in props:
        report.add(_err("manifest.version", f"manifest.version is missing (expected {MANIFEST_VERSION})"))
        ok = False
    elif props["manifest.version"][0] != MANIFEST_VERSION:
        value, line = props["manifest.version"]
        report.add(_err("manifest.version", f"manifest.version must be {MANIFEST_VERSION}", line, value))
        ok = False
    ok = _check_other_files(package, version, report) and ok

    manifest = Manifest(version=version)
    for fname in files:
        # Not declared at all is read as absent (the bindings want every file declared: a warning); a
        # file in the drop that is not declared is then reported below.
        if f"file.{fname}" not in props and not package.has(f"{fname}.csv"):
            report.add(_undeclared(fname, version))
        value, line = props.get(f"file.{fname}", ("absent", None))
        mode = value.lower()
        if mode not in MODES:
            what = "blank" if not value else f"{value!r}"
            report.add(_err("manifest.mode", f"file.{fname} is {what}; expected absent, bulk or delta", line, value))
            ok = False
            continue
        has_file = package.has(f"{fname}.csv")
        if mode in ("bulk", "delta") and not has_file:
            report.add(_err("manifest.file_missing", f"file.{fname} is declared {mode} but {fname}.csv is not in the drop",
                            line, value))
            ok = False
        elif mode == "absent" and has_file:
            declared = f"file.{fname}" in props
            rule_msg = (f"{fname}.csv is in the drop but declared absent" if declared
                        else f"{fname}.csv is in the drop but the manifest does not declare file.{fname}")
            report.add(_err("manifest.file_not_declared", rule_msg, line, value if declared else None))
            ok = False
        manifest.modes[fname] = mode
    return manifest if ok else None


def _unknown_property(name: str, version: str) -> str:
    if name.startswith("file."):
        other = [v for v in VERSIONS if v != version and name[5:] in files_for(v)]
        if other:
            return (f"{name} is a OneRoster {other[0]} file, not one of the OneRoster {version} CSV binding's "
                    "files (is oneroster.version right?)")
        return f"{name} is not one of the OneRoster {version} CSV binding's files"
    return (f"unknown property {name!r}: a manifest holds manifest.version, oneroster.version, one file.<name> "
            "per data file, source.systemName and source.systemCode")


def _undeclared(fname: str, version: str) -> Finding:
    return Finding(MANIFEST, None, None, None, "manifest.file_undeclared", "warning",
                   f"file.{fname} is not declared; the OneRoster {version} CSV binding wants every file declared "
                   "(absent, bulk or delta): read as absent")


def _check_other_files(package: Package, version: str, report: FindingsReport) -> bool:
    """CSV files of the drop that are not the version's: a file of the other version is an error (its rows
    would be lost without a word), any other CSV a warning (it is not read)."""
    own = {spec.filename.lower() for spec in files_for(version).values()} | {MANIFEST}
    ok = True
    for member in sorted(set(package.members) - own):
        other = [v for v in VERSIONS if v != version
                 and member in {spec.filename.lower() for spec in files_for(v).values()}]
        if other:
            report.add(Finding(member, None, None, None, "package.other_version_file", "error",
                               f"{member} is a OneRoster {other[0]} file; a OneRoster {version} package has no "
                               "such file, so its rows would be lost"))
            ok = False
        else:
            report.add(Finding(member, None, None, None, "package.unknown_file", "warning",
                               f"{member} is not a OneRoster {version} file; it is not read"))
    return ok
