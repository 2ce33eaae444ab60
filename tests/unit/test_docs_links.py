"""The documentation stands on its own: every relative link of the README and `docs/` reaches a file
of the repository (and, for a Markdown file, one of its headings), and nothing points outside it.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
# Written in two pieces so that this file does not contain what it looks for.
OUTSIDE_NOTES = "../" + "shared"
# Not part of the repository: version control, the virtualenvs, and what the tools leave behind
# (all git-ignored).
NOT_THE_REPOSITORY = {
    ".git",
    ".venv",
    ".venv-checkov",
    ".local",
    ".aws-sam",
    ".bench",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".hypothesis",
    "test-artifacts",
    "__pycache__",
    "node_modules",
}

_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.MULTILINE)
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def links(markdown: str) -> list[str]:
    """The link targets of a Markdown text, outside code blocks and code spans."""
    prose = _CODE_SPAN.sub("", _FENCE.sub("", markdown))
    return _INLINE_LINK.findall(prose) + _REFERENCE_LINK.findall(prose)


def anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives a Markdown file's headings (repeated headings get -1, -2, …)."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for heading in _HEADING.findall(_FENCE.sub("", markdown)):
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading: its text
        slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def relative_links() -> list[tuple[Path, str]]:
    return [
        (document, target)
        for document in DOCUMENTS
        for target in links(document.read_text(encoding="utf-8"))
        if not _SCHEME.match(target)
    ]


@pytest.mark.parametrize(
    ("document", "target"),
    relative_links(),
    ids=lambda value: value.relative_to(ROOT).as_posix() if isinstance(value, Path) else str(value),
)
def test_a_relative_link_reaches_a_file_of_the_repository(document: Path, target: str) -> None:
    path_part, _, anchor = target.partition("#")
    linked = (document.parent / unquote(path_part)).resolve() if path_part else document

    assert linked.is_relative_to(ROOT), f"{target} in {document.name} points outside the repository"
    assert linked.exists(), f"{target} in {document.name}: no such file"
    if anchor and linked.suffix == ".md":
        headings = anchors(linked.read_text(encoding="utf-8"))
        assert anchor in headings, f"{target} in {document.name}: {linked.name} has no heading #{anchor}"


def test_the_documents_have_links_to_check() -> None:
    assert len(DOCUMENTS) > 1
    assert relative_links()


def repository_files() -> list[Path]:
    files = []
    pending = [ROOT]
    while pending:
        folder = pending.pop()
        for entry in folder.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                if entry.name not in NOT_THE_REPOSITORY:
                    pending.append(entry)
            elif entry.is_file():
                files.append(entry)
    return files


def test_nothing_in_the_repository_points_to_notes_outside_it() -> None:
    pointing = [
        path.relative_to(ROOT).as_posix()
        for path in repository_files()
        if OUTSIDE_NOTES.encode() in path.read_bytes()
    ]

    assert pointing == [], f"these files point to {OUTSIDE_NOTES}, which users of Remit do not have"


def test_anchors_are_github_s() -> None:
    markdown = "# Money and rounding\n## A tour: charges, drafts\n## Money and rounding\n"

    assert anchors(markdown) == {"money-and-rounding", "a-tour-charges-drafts", "money-and-rounding-1"}
