"""The README and docs/ cite only what the repository holds: every path they name exists in it, and none points
outside it (a reader of a clone has nothing else)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_LINK_TARGET = re.compile(r"\]\(([^)\s]+)\)")
# A path as the documents write one: no spaces, made of path characters, possibly with a trailing slash.
_PATH_SHAPE = re.compile(r"^\.{0,2}/?[\w.-]+(/[\w.-]+)*/?$")


def top_level_directories() -> set[str]:
    return {path.name for path in ROOT.iterdir() if path.is_dir() and not path.name.startswith(".")} | {".ci"}


def cited_paths(text: str) -> list[str]:
    """Link targets that are not URLs or anchors, and code spans that read as paths into the repository (their first
    part is one of its top-level directories) or out of it (``../``)."""
    folders = top_level_directories()
    cited = [
        target.split("#", 1)[0]
        for target in _LINK_TARGET.findall(text)
        if not re.match(r"^[a-z]+:", target) and not target.startswith("#")
    ]
    for span in _CODE_SPAN.findall(text):
        if not _PATH_SHAPE.match(span):
            continue
        if span.startswith("../") or (span.split("/", 1)[0] in folders and "/" in span):
            cited.append(span)
    return cited


def test_the_documents_cite_some_paths() -> None:
    # Guards the test itself: a pattern that stopped matching would make the next test pass on nothing.
    readme = cited_paths((ROOT / "README.md").read_text())
    assert "app.yaml" in readme
    assert "docs/rakuten-api.md" in readme
    assert "bot/subcommands.py" in readme


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_every_path_a_document_cites_is_in_the_repository(document: Path) -> None:
    missing = []
    for cited in cited_paths(document.read_text()):
        target = (document.parent / cited if cited.startswith(".") else ROOT / cited).resolve()
        if not target.is_relative_to(ROOT) or not target.exists():
            missing.append(cited)

    assert missing == [], f"{document.name} cites what the repository does not hold: {missing}"


def test_cited_paths_are_found_in_links_and_code_spans() -> None:
    text = "See [the notes](../shared/notes.md), `bot/cli.py`, `store.json`, `rakuten-bot run` and <https://x.y/>."

    assert cited_paths(text) == ["../shared/notes.md", "bot/cli.py"]
