"""Section references in the docs and the code name sections that exist.

The results are split over two pages: docs/RESULTS.md (the current version) and docs/results-history.md (every
earlier one, under the titles the sections had before the split). Code comments, help texts and the other docs cite
them as `docs/RESULTS.md, section "Softplus fusion"`; a reference that names a page must find the section on that
page, and one that names no page must find it on one of the two (RESULTS.md says that a section missing there is in
the history). A title is matched by its start, since references shorten long titles.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = {"RESULTS.md": ROOT / "docs" / "RESULTS.md", "results-history.md": ROOT / "docs" / "results-history.md"}
# `docs/RESULTS.md, section "A"`, `[results-history.md](results-history.md), sections "A" and "B"`, `section "A"`.
REFERENCE = re.compile(
    r'(?:(RESULTS\.md|results-history\.md)\)?,\s+)?sections?\s+((?:"[^"]+"(?:,?\s+(?:and\s+)?)?)+)', re.MULTILINE
)


def _squash(text: str) -> str:
    return " ".join(text.split())


def _titles(page: Path) -> list[str]:
    return [_squash(line.lstrip("#")) for line in page.read_text().splitlines() if line.startswith("#")]


def _references(text: str) -> list[tuple[str | None, str]]:
    found = []
    for match in REFERENCE.finditer(text):
        for name in re.findall(r'"([^"]+)"', match.group(2)):
            found.append((match.group(1), _squash(name)))
    return found


def _sources() -> list[Path]:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    for folder in ("vgisgan", "benchmarks"):
        files += sorted((ROOT / folder).rglob("*.py"))
    return files


def test_the_reference_pattern_reads_pages_and_names():
    text = 'x (docs/RESULTS.md, sections "Fresh seeds 25 and 26" and "Reversed\n  views") and section "Cell levels".'
    assert _references(text) == [
        ("RESULTS.md", "Fresh seeds 25 and 26"),
        ("RESULTS.md", "Reversed views"),
        (None, "Cell levels"),
    ]


def test_every_section_reference_finds_its_section():
    titles = {name: _titles(path) for name, path in PAGES.items()}
    missing = []
    for source in _sources():
        for page, name in _references(source.read_text()):
            candidates = titles[page] if page else titles["RESULTS.md"] + titles["results-history.md"]
            if not any(title.startswith(name) for title in candidates):
                missing.append(f"{source.relative_to(ROOT)}: {page or 'either page'}, section {name!r}")
    assert not missing, "\n".join(missing)
