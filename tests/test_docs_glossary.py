"""Chapter 00's term tables: every term links to the chapter that introduces it, and that chapter uses it."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
START = CHAPTERS / "00_start_here.md"


def term_rows() -> list[dict]:
    """The rows of the tables under chapter 00's "Terms" heading: Chinese terms, English, linked chapters."""
    text = START.read_text(encoding="utf-8")
    section = text.split("## Terms", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 5 or cells[0] in ("中文", "---"):
            continue
        rows.append({"zh": [t.strip() for t in cells[0].split(" / ")], "en": cells[1],
                     "chapters": re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", cells[2]), "d2l": cells[4]})
    return rows


def test_the_tables_hold_the_source_terms_and_the_chapters_terms():
    zh = {t for r in term_rows() for t in r["zh"]}
    source_terms = {"循环神经网络", "隐藏状态", "时间步", "长短期记忆", "记忆单元", "门控循环单元", "梯度消失", "过拟合",
                    "调参", "机器翻译", "文本生成", "语音识别", "股票价格预测"}
    later = {"泛化差距", "丢弃法", "权重衰减", "早停", "短期记忆", "梯度裁剪", "注意力机制", "束搜索", "强制教学", "困惑度",
             "双向循环神经网络", "深度循环神经网络", "数据并行"}
    assert source_terms | later <= zh, f"missing from chapter 00's terms: {sorted((source_terms | later) - zh)}"


def test_every_term_links_a_chapter_that_uses_it():
    rows = term_rows()
    assert len(rows) > 30
    for r in rows:
        assert r["chapters"], f"{r['zh']}: no chapter linked"
        for name in r["chapters"]:
            chapter = CHAPTERS / name
            assert chapter.is_file(), f"{r['zh']}: links {name}, which is not a chapter"
            text = chapter.read_text(encoding="utf-8")
            for term in r["zh"]:
                assert term in text, f"{term} ({r['en']}) is linked to {name}, which never writes it"


def test_d2l_names_differ_from_ours():
    for r in term_rows():
        assert r["d2l"] not in r["zh"], f"{r['zh']}: the d2l-zh column is for words that differ"
