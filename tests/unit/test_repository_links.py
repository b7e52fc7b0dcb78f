"""The repository stands alone: no file points at a document outside it, and every relative link
in the README and ``docs/`` leads to a file (and heading) that exists.

A new engineer who clones the project has only the repository. A comment that cites a design
document kept elsewhere, or a guide whose link leads nowhere since a module moved, sends them
looking for something they cannot find. ``docs/architecture.md`` is where the design lives now.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Final

import pytest

ROOT: Final = Path(__file__).resolve().parents[2]
#: Citations of documents outside the repository: the founding design (by its upper-case name,
#: with or without a section number or ".md"), the style notes, and the shared folder. The names
#: are split here so that this file does not cite what it looks for.
OUTSIDE: Final = re.compile(r"\bDES" r"IGN\b|\bSTY" r"LE\.md\b|\.\./sha" r"red\b")
#: An inline Markdown link or image: ``[text](target)`` or ``[text](target "title")``.
INLINE_LINK: Final = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
#: A reference definition: ``[label]: target``.
REFERENCE: Final = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$", re.MULTILINE)
FENCE: Final = re.compile(r"^\s{0,3}(```|~~~).*?^\s{0,3}\1", re.MULTILINE | re.DOTALL)
INLINE_CODE: Final = re.compile(r"(`+).+?\1", re.DOTALL)
HEADING: Final = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
EXTERNAL: Final = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def tracked_files() -> list[Path]:
    """Every file git tracks that is present in the working tree."""
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    paths = (ROOT / name for name in listing.split("\0") if name)
    return sorted(path for path in paths if path.is_file())


def markdown_documents() -> list[Path]:
    """The README and every Markdown file under ``docs/``."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _prose(text: str) -> str:
    """``text`` without fenced code blocks and inline code, where brackets are not links."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def links(text: str) -> Iterator[str]:
    """The link targets of a Markdown document, outside code."""
    prose = _prose(text)
    yield from INLINE_LINK.findall(prose)
    yield from REFERENCE.findall(prose)


def slug(heading: str) -> str:
    """The anchor a heading gets, as GitHub renders it: inline code marks and punctuation
    dropped, lower case, spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    return re.sub(r"[^\w\- ]", "", text.replace("`", "").strip().lower()).replace(" ", "-")


@cache
def anchors(path: Path) -> frozenset[str]:
    """The anchors of a Markdown file's headings (a repeated heading gets ``-1``, ``-2``, ...)."""
    seen: dict[str, int] = {}
    found = set()
    for heading in HEADING.findall(FENCE.sub("", path.read_text(encoding="utf-8"))):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return frozenset(found)


def broken_link(document: Path, target: str) -> str | None:
    """Why ``target``, linked from ``document``, leads nowhere (None: it resolves)."""
    if EXTERNAL.match(target):
        return None
    path_part, _, fragment = target.partition("#")
    destination = (document.parent / path_part).resolve() if path_part else document
    if not destination.exists():
        return f"{target}: no such file"
    if ROOT not in destination.parents and destination != ROOT:
        return f"{target}: outside the repository"
    if fragment and destination.suffix == ".md" and fragment not in anchors(destination):
        return f"{target}: no heading with anchor #{fragment} in {destination.relative_to(ROOT)}"
    return None


def test_no_tracked_file_points_outside_the_repository() -> None:
    me = Path(__file__).resolve()
    offenders = []
    for path in tracked_files():
        if path == me:
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    assert not offenders, (
        "these lines cite a document outside the repository; point at docs/architecture.md, "
        "an ADR or docs/api.md instead:\n" + "\n".join(offenders)
    )


@pytest.mark.parametrize(
    "document", markdown_documents(), ids=lambda path: str(path.relative_to(ROOT))
)
def test_relative_links_resolve(document: Path) -> None:
    problems = [
        problem
        for target in links(document.read_text(encoding="utf-8"))
        if (problem := broken_link(document, target)) is not None
    ]
    assert not problems, f"{document.relative_to(ROOT)} links to:\n" + "\n".join(problems)


def test_architecture_is_linked_from_the_readme_and_covers_every_adr() -> None:
    readme = ROOT / "README.md"
    architecture = ROOT / "docs" / "architecture.md"
    assert "docs/architecture.md" in set(links(readme.read_text(encoding="utf-8")))
    linked = {
        (architecture.parent / target).resolve()
        for target in links(architecture.read_text(encoding="utf-8"))
    }
    missing = [
        adr.name for adr in sorted((ROOT / "docs" / "adr").glob("*.md")) if adr not in linked
    ]
    assert not missing, f"docs/architecture.md does not say where these ADRs apply: {missing}"


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Where a write becomes durable", "where-a-write-becomes-durable"),
        (
            "`ledger/`: the library, used by the CLI and the service",
            "ledger-the-library-used-by-the-cli-and-the-service",
        ),
        ("Joint licensing (多证联办)", "joint-licensing-多证联办"),
    ],
)
def test_slug_follows_github(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor


def test_a_missing_file_or_heading_is_reported() -> None:
    """The checks can fail: a link to a file that is not there, or to a heading that is not."""
    architecture = ROOT / "docs" / "architecture.md"
    assert broken_link(architecture, "missing.md") == "missing.md: no such file"
    assert broken_link(architecture, "#trust-model") is None
    assert "no heading" in (broken_link(architecture, "api.md#no-such-heading") or "")
    assert OUTSIDE.search("see " + "DES" + "IGN" + " section 8")
    assert not OUTSIDE.search("the design decisions in docs/adr/")
