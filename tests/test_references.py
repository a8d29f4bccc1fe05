"""The references page: one anchored entry per cited work, every citation made today covered, links well formed.

The static book build (tests/test_book_build.py, ``sphinx-build -W``) checks that every
``[Author Year](references.md#ref-...)`` link in a chapter lands on an entry.
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "chapters" / "references.md"

# Works the book cites or will cite (issue lists of gradient theory, translation, speech, volatility...).
REQUIRED = """elman-1990 werbos-1990 williams-1990 hochreiter-1991 bengio-1994 hochreiter-1997 gers-2000
    cho-2014 chung-2014 pascanu-2013 graves-2006 park-2019 gal-2016 merity-2018 jozefowicz-2015 schuster-1997
    appleyard-2016 bahdanau-2015 papineni-2002 luong-2015 zaremba-2014 bergstra-2012 le-2015 saxe-2014
    kneser-1995 sutskever-2014 bradbury-2017 lei-2018 martin-2018 vaswani-2017 gu-2023 mikolov-2010
    graves-2013 karpathy-2015 sakoe-1978 davis-1980 bollerslev-1986 engle-1982 mandelbrot-1963 cont-2001
    greff-2017 arjovsky-2016 diamos-2016 chen-1998 d2l-2023 d2l-issue-2076 d2l-zh-birnn karpathy-makemore""".split()

# An author-year citation: "Elman 1990", "Cho et al. (2014)", "Pascanu, Mikolov & Bengio (2013)".
_NAME = r"[A-Z][a-z\u00e0-\u017f]+(?:-[A-Z][a-z\u00e0-\u017f]+)?"
CITATION = re.compile(rf"\b({_NAME})(?:,?\s+(?:{_NAME},?\s+)*(?:&|and)\s+{_NAME}|\s+et\s+al\.)?,?\s+\(?((?:19|20)\d\d)\b")
NOT_AUTHORS = {"Jan", "January", "Feb", "February", "Mar", "March", "Apr", "April", "May", "Jun", "June", "Jul",
               "July", "Aug", "August", "Sep", "Sept", "September", "Oct", "October", "Nov", "November", "Dec",
               "December"}


def entries() -> dict[str, str]:
    """Anchor -> the entry's text (up to the next anchor or heading)."""
    text = PAGE.read_text(encoding="utf-8")
    parts = re.split(r"^\((ref-[a-z0-9-]+)\)=\n", text, flags=re.M)
    return {anchor: body.split("\n## ")[0].strip() for anchor, body in zip(parts[1::2], parts[2::2])}


def anchor_for(surname: str, year: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", surname).encode("ascii", "ignore").decode().lower()
    return f"ref-{ascii_name}-{year}"


def citations_in(text: str) -> set[tuple[str, str]]:
    return {(m.group(1), m.group(2)) for m in CITATION.finditer(text) if m.group(1) not in NOT_AUTHORS}


def test_every_entry_has_one_anchor_a_label_and_a_stable_link():
    found = entries()
    anchors = re.findall(r"^\((ref-[a-z0-9-]+)\)=$", PAGE.read_text(encoding="utf-8"), flags=re.M)
    assert len(anchors) == len(set(anchors)), f"duplicate anchors: {sorted(a for a in anchors if anchors.count(a) > 1)}"
    assert len(found) >= len(REQUIRED)
    for anchor, body in found.items():
        assert re.match(r"\*\*[^*]+\.\*\*", body), f"{anchor}: an entry starts with its bold label, e.g. **Elman 1990.**"
        assert re.search(r"\*[^*]+\*", body.split("**", 2)[2]), f"{anchor}: the title must be in italics"
        assert re.search(r"\]\(https://", body), f"{anchor}: no https link"


def test_the_required_works_are_all_there():
    missing = sorted(set(f"ref-{r}" for r in REQUIRED) - set(entries()))
    assert not missing, f"references.md lacks {missing}"


def test_year_in_the_anchor_matches_the_label():
    for anchor, body in entries().items():
        year = re.fullmatch(r"ref-[a-z0-9]+-((?:19|20)\d\d)", anchor)
        if year:
            label = re.match(r"\*\*([^*]+)\*\*", body).group(1)
            assert year.group(1) in label, f"{anchor}: the label {label!r} names another year"


def test_link_text_names_the_doi_or_arxiv_id_it_points_to():
    """A DOI or arXiv id is written twice (shown and linked); the two must agree, and be well formed."""
    text = PAGE.read_text(encoding="utf-8")
    dois = re.findall(r"\[doi:([^\]]+)\]\(https://doi\.org/((?:[^()\s]|\([^()\s]*\))+)\)", text)
    arxivs = re.findall(r"\[arXiv:([^\]]+)\]\(https://arxiv\.org/abs/([^)]+)\)", text)
    assert len(dois) >= 20 and len(arxivs) >= 20, f"found {len(dois)} DOIs and {len(arxivs)} arXiv links"
    for shown, linked in dois:
        assert shown == linked, f"doi text {shown} links to {linked}"
        assert re.fullmatch(r"10\.\d{4,9}/\S+", linked), f"malformed DOI {linked}"
    for shown, linked in arxivs:
        assert shown == linked and re.fullmatch(r"\d{4}\.\d{4,5}", linked), f"arXiv {shown} -> {linked}"
    bare = re.findall(r"\]\((https?://[^)]+)\)", text)
    assert all(u.startswith("https://") for u in bare), [u for u in bare if not u.startswith("https://")]


def test_every_citation_in_the_chapters_and_the_package_has_an_entry():
    sources = [p for p in sorted((ROOT / "chapters").glob("*.md")) if p != PAGE]
    sources += sorted((ROOT / "rnn_book").rglob("*.py")) + [ROOT / "README.md"]
    have = set(entries())
    missing = {}
    for path in sources:
        for surname, year in citations_in(path.read_text(encoding="utf-8")):
            if anchor_for(surname, year) not in have:
                missing.setdefault(f"{surname} {year}", path.relative_to(ROOT).as_posix())
    assert not missing, f"cited without an entry in references.md (anchor ref-<first author>-<year>): {missing}"


def test_citation_pattern_finds_the_forms_the_chapters_use():
    text = ("(Hochreiter & Schmidhuber, 1997; the forget gate is from Gers, Schmidhuber & Cummins, 2000) "
            "Cho et al. (2014); Pascanu, Mikolov & Bengio (2013); Appleyard, Kočiský & Blunsom (2016); "
            "Diamos et al.\n2016; Elman 1990; on Nov 27, 2026 and in November 2026.")
    assert citations_in(text) == {("Hochreiter", "1997"), ("Gers", "2000"), ("Cho", "2014"), ("Pascanu", "2013"),
                                  ("Appleyard", "2016"), ("Diamos", "2016"), ("Elman", "1990")}
    assert anchor_for("Kočiský", "2016") == "ref-kocisky-2016"

