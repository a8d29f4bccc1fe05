"""README: every paper it names links to its entry in chapters/references.md, and the parallel-run note is there."""
from __future__ import annotations

import re
from pathlib import Path

from test_references import CITATION, NOT_AUTHORS, anchor_for, entries

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
LINK = re.compile(r"\[([^\]]+)\]\(chapters/references\.md#(ref-[a-z0-9-]+)\)")


def test_every_citation_in_the_readme_is_a_link_to_its_reference_entry():
    linked = {m.span(1): m.group(2) for m in LINK.finditer(README)}
    have = set(entries())
    cited = [m for m in CITATION.finditer(README) if m.group(1) not in NOT_AUTHORS]
    assert cited, "the README names at least one paper (Cho et al. 2014, for the GRU)"
    for m in cited:
        target = next((anchor for (a, b), anchor in linked.items() if a <= m.start() and m.end() <= b), None)
        assert target is not None, f"README cites {m.group(0)!r} without a link to chapters/references.md"
        assert target == anchor_for(m.group(1), m.group(2)) and target in have, \
            f"README: {m.group(0)!r} links {target}, expected an entry {anchor_for(m.group(1), m.group(2))}"


def test_the_parallel_note_names_loadfile_and_keeps_pytest_the_test_command():
    note = README.split("### Parallel chapters", 1)[1].split("\n## ", 1)[0]
    assert "pytest -n auto" in note and "--dist loadfile" in note
    conftest = (ROOT / "conftest.py").read_text(encoding="utf-8")
    assert '"loadfile"' in conftest, "the note describes what conftest.py configures"
