"""Downloadable templates: a zip of header-only CSVs plus README.md, the column guide.

OneRoster templates come with a manifest.csv declaring each file ``bulk``, rostering, gradebook and
resources alike (so the empty template is itself a valid, if empty, package).
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
import zipfile
from pathlib import Path

from passport_pipelines.validation.credentials.cipher import KEY_ENV
from passport_pipelines.validation.oneroster.spec import MANIFEST
from passport_pipelines.validation.schemas.column_guide import readme
from passport_pipelines.validation.schemas.registry import CsvSchema, csv_schema

_LAYOUT = {
    "passport-basic-identity": "Two files, no manifest: exactly `schools.csv` and `people.csv` (no other CSV). Each "
    "file is the complete set: with the source's `mode: full`, people and schools missing from it are deleted; "
    "with `mode: incremental` they are left as they are. Only schools, people and their roles are synced; "
    "sessions, classes and enrollments are left untouched.",
    "sso-credentials": "One file, no manifest: exactly `credentials.csv`. The `password` column is encrypted at "
    f"rest with the key in the environment variable `{KEY_ENV}` and is never logged, shown or exported; the "
    "archived copy of the drop keeps it encrypted. With `mode: full` the file is the source's complete set of "
    "credentials (the others are removed); with `mode: incremental` rows are added or updated only.",
}


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def template_files(schema: CsvSchema) -> dict[str, bytes]:
    """File name -> content of the schema's template."""
    files: dict[str, bytes] = {}
    if schema.has_manifest:
        version = schema.name.rsplit("-", 1)[1]
        props = [["propertyName", "value"], ["manifest.version", "1.0"], ["oneroster.version", version]]
        props += [[f"file.{name}", "bulk"] for name in schema.files]
        props += [["source.systemName", ""]]
        files[MANIFEST] = _csv(props)
        layout = (f"A OneRoster {version} bulk package: `manifest.csv` declares every file `bulk` (the complete "
                  "set), the rostering files and the gradebook and resources files alike. Declare a file `absent` "
                  "and leave it out to keep what is on record, or `delta` to send changes only (rows then need "
                  "`status` and `dateLastModified`). The `password` columns are never imported or exported; "
                  "results are student data.")
    else:
        layout = _LAYOUT[schema.name]
    for spec in schema.files.values():
        files[spec.filename] = _csv([list(spec.names)])
    files["README.md"] = readme(schema, layout).encode("utf-8")
    return files


def write_template(name: str, out: Path) -> list[str]:
    """Write the template of schema ``name`` to the zip ``out`` (atomically); returns its file names."""
    files = template_files(csv_schema(name))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            for filename, content in files.items():
                zf.writestr(filename, content)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return list(files)
