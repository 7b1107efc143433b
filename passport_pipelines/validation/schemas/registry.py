"""Every CSV schema a drop may follow, and the few things that differ between them.

Validation, normalization and the templates ask this registry instead of branching on schema
names: how a drop is recognised (a manifest, or a fixed set of files), which files and columns
it has, which SQL models map it to the canonical model, and how its files feed the canonical
entities. Everything else (the reader, the value rules, duplicate keys, reference filtering,
findings) is shared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from passport_pipelines.validation.credentials import schema as sso
from passport_pipelines.validation.oneroster.findings import FindingsReport
from passport_pipelines.validation.oneroster.gradebook_files import GRADEBOOK_FILE_ENTITY
from passport_pipelines.validation.oneroster.manifest import read_manifest
from passport_pipelines.validation.oneroster.package import Package
from passport_pipelines.validation.oneroster.spec import FILE_ENTITY, VERSIONS, FileSpec, files_for
from passport_pipelines.validation.schemas import basic_identity
from passport_pipelines.validation.schemas.fixed_layout import Layout, fixed_layout


@dataclass(frozen=True)
class CsvSchema:
    name: str
    title: str
    files: dict[str, FileSpec]
    layout: Layout  # file -> bulk|delta|absent, or None (with findings) when the drop is not one
    entity_modes: Callable[[dict[str, str]], dict[str, str]]  # file modes -> canonical entity modes
    kind: str  # what a source extract of this schema is (SourceExtract.kind)
    models: str | None  # folder of SQL models in dbt_like_transforms/; None: no canonical rows at all
    model_columns: dict[str, tuple[str, ...]]  # raw relations the models read, with their columns
    file_entity: dict[str, str]  # file -> the canonical entity its ids live in
    has_manifest: bool = False
    holds_secrets: bool = False  # the drop is never archived in clear and never reused


def _oneroster(version: str) -> CsvSchema:
    def layout(package: Package, report: FindingsReport) -> dict[str, str] | None:
        manifest = read_manifest(package, version, report)
        return dict(manifest.modes) if manifest else None

    def entity_modes(modes: dict[str, str]) -> dict[str, str]:
        users = modes.get("users", "absent")
        return {
            "orgs": modes.get("orgs", "absent"), "academic_sessions": modes.get("academicSessions", "absent"),
            "courses": modes.get("courses", "absent"), "classes": modes.get("classes", "absent"),
            "users": users, "roles": modes.get("roles", "absent") if version == "1.2" else users,
            "enrollments": modes.get("enrollments", "absent"),
            "demographics": modes.get("demographics", "absent"), "agents": users,
            **{entity: modes.get(file, "absent") for file, entity in GRADEBOOK_FILE_ENTITY.items()},
        }

    # One set of models reads both versions: each file with the columns of either.
    union: dict[str, tuple[str, ...]] = {}
    for v in VERSIONS:
        for name, spec in files_for(v).items():
            union[name] = union.get(name, ()) + tuple(c for c in spec.names if c not in union.get(name, ()))
    return CsvSchema(f"oneroster-{version}", f"OneRoster {version} CSV", files_for(version), layout, entity_modes,
                     "oneroster_csv", "oneroster_csv", dict(sorted(union.items())), FILE_ENTITY, has_manifest=True)


def _fixed(name: str, title: str, files: dict[str, FileSpec], entity_modes, models: str | None,
           file_entity: dict[str, str], holds_secrets: bool = False) -> CsvSchema:
    kind = models or name.replace("-", "_")
    return CsvSchema(name, title, files, fixed_layout(name, files), entity_modes, kind, models,
                     {n: spec.names for n, spec in files.items()} if models else {}, file_entity,
                     holds_secrets=holds_secrets)


SCHEMAS: dict[str, CsvSchema] = {s.name: s for s in (
    _oneroster("1.1"),
    _oneroster("1.2"),
    _fixed(basic_identity.SCHEMA, "Passport Basic Identity", basic_identity.FILES, basic_identity.entity_modes,
           basic_identity.MODELS, basic_identity.FILE_ENTITY),
    _fixed(sso.SCHEMA, "SSO Credentials", sso.FILES, sso.entity_modes, None, {}, holds_secrets=True),
)}


# The kinds of source extract that are validated CSV drops (the others are API raw tables).
CSV_KINDS = frozenset(s.kind for s in SCHEMAS.values())


def csv_schema(name: str) -> CsvSchema:
    try:
        return SCHEMAS[name]
    except KeyError:
        raise ValueError(f"unknown schema {name!r}; expected one of {', '.join(SCHEMAS)}") from None
