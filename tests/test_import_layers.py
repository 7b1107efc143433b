"""Imports run one way, down the flow of a sync: the layers contract in pyproject.toml holds, it
names every folder of the package, and it does fail on an import against the flow."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import tomllib

import passport_pipelines

REPO = Path(__file__).resolve().parents[1]
PACKAGE = Path(passport_pipelines.__file__).parent


def _lint(pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)} if pythonpath else dict(os.environ)
    return subprocess.run([sys.executable, "-c", "import sys, importlinter.cli as c; "
                           f"sys.exit(c.lint_imports(config_filename={str(REPO / 'pyproject.toml')!r}, "
                           "no_cache=True, no_logo=True))"],
                          capture_output=True, text=True, env=env, cwd=pythonpath or REPO, timeout=240)


def _layers() -> list[str]:
    contract = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"][0]
    return [name.strip() for layer in contract["layers"] for name in layer.split("|")]


def test_the_package_keeps_its_layers():
    run = _lint()
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Imports run down the flow KEPT" in run.stdout


def test_every_folder_and_module_of_the_package_has_a_layer():
    named = {name.removeprefix("passport_pipelines.") for name in _layers()}
    present = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    present |= {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    assert present == named, f"without a layer: {sorted(present - named)}; gone: {sorted(named - present)}"


def test_an_import_against_the_flow_breaks_the_contract(tmp_path):
    # A copy of the package where the store reads the delivery: a layer importing one above it.
    shutil.copytree(PACKAGE, tmp_path / "passport_pipelines", ignore=shutil.ignore_patterns("__pycache__"))
    schema = tmp_path / "passport_pipelines" / "store" / "schema.py"
    schema.write_text(schema.read_text() + "\nimport passport_pipelines.delivery.deliveries  # noqa\n")
    run = _lint(tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Imports run down the flow BROKEN" in run.stdout
    assert "passport_pipelines.store.schema -> passport_pipelines.delivery.deliveries" in run.stdout
