"""Reading integration files, with errors that name the file, the key and what is wrong."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from passport_pipelines import settings
from passport_pipelines.config.bounded_yaml import YamlLimitError, load_bounded_yaml
from passport_pipelines.config.integration import Integration
from passport_pipelines.config.sources import SOURCE_TYPES

# pydantic puts the chosen union member's tag in an error's path; the user never wrote it.
DISCRIMINATOR_TAGS = frozenset(SOURCE_TYPES) | {"oneroster-1.1-csv"}


class IntegrationError(ValueError):
    """An integration file that cannot be used; the message says where and why."""


def _key_path(loc: tuple) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item in DISCRIMINATOR_TAGS and parts and parts[-1].endswith("]"):
            continue  # pydantic's discriminator tag, not a key the user wrote
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(top level)"


def load_integration(path: Path) -> Integration:
    path = Path(path)
    try:
        raw = load_bounded_yaml(path)
    except FileNotFoundError:
        raise IntegrationError(f"{path}: no such integration file") from None
    except YamlLimitError as exc:
        raise IntegrationError(f"{path}: {exc}") from None
    except RecursionError:
        raise IntegrationError(f"{path}: values are nested too deeply") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise IntegrationError(f"{path}:{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(raw, dict):
        raise IntegrationError(f"{path}: expected a mapping of keys at the top level")
    try:
        integration = Integration.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            elif err["type"] == "missing":
                msg = "required key is missing"
            lines.append(f"{path}: {_key_path(err['loc'])}: {msg}")
        raise IntegrationError("\n".join(lines)) from None
    if path.stem != integration.district:
        raise IntegrationError(
            f"{path}: district: {integration.district!r} must match the file name ({path.stem}.yaml)"
        )
    return integration.model_copy(update={"file": path.resolve()})


def integration_files(directory: Path | None = None) -> list[Path]:
    directory = directory or settings.integrations_dir()
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and not p.name.startswith("."))


def load_all(directory: Path | None = None) -> tuple[dict[str, Integration], list[str]]:
    """Every valid integration by district, and the errors of the files that are not."""
    found: dict[str, Integration] = {}
    errors: list[str] = []
    for path in integration_files(directory):
        try:
            integration = load_integration(path)
        except IntegrationError as exc:
            errors.append(str(exc))
            continue
        found[integration.district] = integration
    return found, errors


def load_district(district: str, directory: Path | None = None) -> Integration:
    directory = directory or settings.integrations_dir()
    for suffix in (".yaml", ".yml"):
        path = directory / f"{district}{suffix}"
        if path.exists():
            return load_integration(path)
    raise IntegrationError(f"no integration file for district {district!r} in {directory}")
