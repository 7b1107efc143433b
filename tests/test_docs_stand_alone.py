"""The repository's documentation stands alone: nothing cites a document outside it, and every relative
link in README.md and docs/ leads to a file (and heading) that is there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("passport_pipelines", "tests", "benchmarks", "docs", "dbt_like_transforms", "deploy", "demo",
           "integrations", "README.md", "Makefile", "pyproject.toml", "workspace.yaml")
TEXT = {".py", ".md", ".sql", ".yaml", ".yml", ".toml", ".txt", ".cfg", ".ini", ".j2", ".html", ".sh", ".json"}
SKIPPED_DIRS = {"__pycache__", ".pytest_cache", ".ruff_cache", ".venv", "node_modules"}
# A design document readers of this repository do not have: "SPEC §9", "per the SPEC", REFERENCE.md, ../shared/.
OUTSIDE = re.compile(r"\bSPEC\s*§|\bthe SPEC\b|\bREFERENCE\.md\b|(\.\./)+shared\b")
LINK = re.compile(r"\[[^\]]*\]\(([^()\s]+)(?:\s+\"[^\"]*\")?\)")


def _files() -> list[Path]:
    found = []
    for name in SCANNED:
        path = ROOT / name
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found += [p for p in sorted(path.rglob("*")) if p.is_file()
                      and (p.suffix in TEXT or p.name in {"Makefile", "Dockerfile"})
                      and not SKIPPED_DIRS.intersection(p.relative_to(ROOT).parts)]
    return [p for p in found if p != Path(__file__).resolve()]


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        return []


def test_nothing_cites_a_document_outside_the_repository():
    files = _files()
    assert any(p.name == "settings.py" for p in files) and any(p.suffix == ".sql" for p in files)
    citations = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
                 for p in files for n, line in enumerate(_lines(p), 1) if OUTSIDE.search(line)]
    assert not citations, "cites a document outside the repository:\n" + "\n".join(citations)


@pytest.mark.parametrize("text", ["(SPEC §4.4)", "SPEC §9 semantics", "as per the SPEC", "shared/REFERENCE.md",
                                  "see ../shared/notes"])
def test_the_citation_pattern_finds_them(text):
    assert OUTSIDE.search(text)


@pytest.mark.parametrize("text", ['SPEC_11 = spec.files_for("1.1")', "SPEC[name].names", "the spec's columns",
                                  "model.entities.REFERENCES", "RFC 6749 §5.2", "PASSPORT_SHARED_DIR"])
def test_the_citation_pattern_leaves_other_words_alone(text):
    assert not OUTSIDE.search(text)


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped (``-`` and ``_`` kept), spaces to ``-``."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    anchors, fenced = set(), False
    for line in _lines(path):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and (m := re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)):
            base, n = _anchor(m.group(1)), 0
            while (anchor := base if n == 0 else f"{base}-{n}") in anchors:
                n += 1
            anchors.add(anchor)
    return anchors


def _links(path: Path) -> list[tuple[int, str]]:
    links, fenced = [], False
    for n, line in enumerate(_lines(path), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            prose = re.sub(r"`[^`]*`", "", line)  # a link written inside a code span is not a link
            links += [(n, target) for target in LINK.findall(prose)
                      if not re.match(r"[a-z][a-z0-9+.-]*:", target, re.IGNORECASE)]  # http:, mailto:, ...
    return links


def test_every_relative_link_in_the_docs_leads_to_a_file_of_the_repository():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    assert len(pages) > 5
    broken = []
    for page in pages:
        for n, target in _links(page):
            file_part, _, anchor = target.partition("#")
            linked = (page.parent / file_part).resolve() if file_part else page
            where = f"{page.relative_to(ROOT)}:{n}: {target}"
            if not linked.is_relative_to(ROOT):
                broken.append(f"{where} (outside the repository)")
            elif not linked.exists():
                broken.append(f"{where} (no such file)")
            elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
                broken.append(f"{where} (no such heading in {linked.relative_to(ROOT)})")
    assert not broken, "broken links:\n" + "\n".join(broken)
