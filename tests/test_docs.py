"""Code comments cite the project's own reference in docs/; every citation must lead somewhere."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("hub", "billing", "models_app", "resources", "community", "moderation", "compat", "tests", "bench")
CITATION = re.compile(r"docs/([a-z0-9-]+\.md)(?:#([a-z0-9-]+))?")


def anchors(doc: Path) -> set[str]:
    """GitHub's anchors for the headings of a Markdown file."""
    found = set()
    for line in doc.read_text().splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^a-z0-9 -]", "", title).replace(" ", "-"))
    return found


def cited() -> list[tuple[Path, str, str | None]]:
    files = [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]
    for folder in SOURCES:
        files += [*(ROOT / folder).rglob("*.py"), *(ROOT / folder).rglob("*.md")]
    return [(path, match[1], match[2]) for path in files for match in CITATION.finditer(path.read_text())]


def test_every_citation_of_docs_names_a_document_and_heading_that_exist():
    citations = cited()
    assert len(citations) > 50  # the code does cite its reference
    broken = []
    for path, doc_name, anchor in citations:
        doc = ROOT / "docs" / doc_name
        if not doc.exists() or (anchor and anchor not in anchors(doc)):
            broken.append(f"{path.relative_to(ROOT)}: docs/{doc_name}{'#' + anchor if anchor else ''}")
    assert broken == []


def test_nothing_cites_a_document_outside_the_repository():
    outside = [
        str(path.relative_to(ROOT))
        for folder in SOURCES
        for path in (ROOT / folder).rglob("*.py")
        if path != Path(__file__) and re.search(r"\bDESIGN(\.md| \d)", path.read_text())
    ]
    assert outside == []
