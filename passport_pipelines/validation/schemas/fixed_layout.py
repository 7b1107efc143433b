"""How a drop without a manifest is recognised: it holds exactly the schema's files.

OneRoster packages say what they contain in manifest.csv. The Passport schemas have no
manifest: every file of the schema must be there, and nothing else. Each file is then the
complete set of its records (``bulk``); the source's upload mode says whether what is missing
is deleted (full) or left alone (incremental).
"""

from __future__ import annotations

from typing import Callable

from passport_pipelines.validation.oneroster.findings import Finding, FindingsReport
from passport_pipelines.validation.oneroster.package import Package
from passport_pipelines.validation.oneroster.spec import MANIFEST, FileSpec

Layout = Callable[[Package, FindingsReport], "dict[str, str] | None"]


def fixed_layout(schema: str, files: dict[str, FileSpec]) -> Layout:
    """A layout check for ``schema``: returns file -> 'bulk', or None when the drop is not one."""
    expected = {spec.filename.lower(): spec for spec in files.values()}
    listing = ", ".join(spec.filename for spec in files.values())

    def read(package: Package, report: FindingsReport) -> dict[str, str] | None:
        ok = True
        if package.has(MANIFEST):
            report.add(Finding(MANIFEST, None, None, None, "layout.manifest", "error",
                               f"a {schema} drop has no manifest.csv (a OneRoster package does: set the "
                               f"source's schema to oneroster-1.1 or oneroster-1.2); expected {listing}"))
            return None
        for spec in files.values():
            if not package.has(spec.filename):
                report.add(Finding(spec.filename, None, None, None, "layout.file_missing", "error",
                                   f"{spec.filename} is not in the drop; a {schema} drop holds {listing}"))
                ok = False
        for member in sorted(package.members):
            if member not in expected:
                report.add(Finding(member, None, None, None, "layout.unknown_file", "error",
                                   f"{member} is not a file of the {schema} schema (expected {listing})"))
                ok = False
        return {name: "bulk" for name in files} if ok else None

    return read
