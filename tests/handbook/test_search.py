"""The handbook's search: segmentation, synonyms, BM25, and that no text can break it."""

from __future__ import annotations

import contextlib
import os
import stat
from array import array
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import handbook, segmenter
from storage import handbook_default as default
from storage.handbook import clean_query, clean_synonyms, document, expand, rank, words, would_cycle
from storage.models import HandbookEntry, HandbookSearchMonth, HandbookTopic
from storage.profile_rules import InvalidInput
from tests.support.clock import T0, shanghai


def _entries(count: int = 0) -> list[SimpleNamespace]:
    rows = [
        SimpleNamespace(id=i, title_zh=a, title_en=b, body_zh=c, body_en=e)
        for i, _, a, b, c, e in default.ENTRIES
    ]
    for n in range(count):
        base = rows[n % len(default.ENTRIES)]
        rows.append(SimpleNamespace(**{**vars(base), "id": 1000 + n, "title_zh": f"条目{n}"}))
    return rows


GROUPS = [w.split() for _, w in default.SYNONYMS]


def _best(query: str) -> list[str]:
    entries = _entries()
    found = rank([document(e) for e in entries], expand(words(query), GROUPS))
    return [entries[i].title_zh for i, _ in found]


def test_chinese_is_segmented_and_english_lowered_and_singular() -> None:
    assert words("困难职工帮扶申请") == ["困难", "职工", "帮扶", "申请"]
    assert words("工伤认定") == ["工伤", "认定"]
    assert words("How to apply for Wages?") == ["apply", "wage"]
    assert words("ＬＥＧＡＬ　ａｉｄ") == ["legal", "aid"]  # full-width letters and space


def test_ranking_by_title_words_and_synonyms() -> None:
    assert _best("工资被拖欠")[0] == "工资被拖欠怎么办"
    assert _best("薪酬")[0] == "工资被拖欠怎么办"  # only through the group 工资/薪酬/薪水
    assert _best("legal aid")[0] == "劳动争议法律援助"
    assert _best("dues") == ["会费怎么缴纳"]
    assert _best("停车") == [] and _best("你好") == []


def test_a_synonym_group_is_one_term() -> None:
    concepts = expand(words("薪水 申请"), GROUPS)
    assert len(concepts) == 2 and {"工资", "wage", "薪水"} <= concepts[0]


def test_queries_and_synonyms_are_checked() -> None:
    assert clean_query("  工资   wages ") == "工资 wages"
    for bad, code in (
        ("", "empty"),
        ("/start", "command"),
        ("x" * 101, "too_long"),
        ("a\x00", "control"),
    ):
        with pytest.raises(InvalidInput) as refused:
            clean_query(bad)
        assert refused.value.code == code
    assert clean_synonyms("工资，薪酬/薪水 工资") == ["工资", "薪酬", "薪水"]
    with pytest.raises(InvalidInput):
        clean_synonyms("工资 工资")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200), st.lists(st.lists(st.text(max_size=10), max_size=4), max_size=4))
def test_search_never_crashes_on_any_text(query: str, groups: list[list[str]]) -> None:
    entries = _entries()
    found = rank([document(e) for e in entries], expand(words(query), groups))
    assert len(found) <= 3
    assert all(score > 0 for _, score in found)
    assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)


def test_a_query_segments_only_itself() -> None:
    """Recomputed per query: 300 entries, segmentation cached by text.

    Each query after the first document pass costs the segmenter only its own
    text; the entries' words come from the cache. How fast that is in seconds
    belongs to a benchmark, not here.
    """
    from storage.handbook import _words

    entries = _entries(300)
    [document(e) for e in entries]  # warm: what the first query after an edit pays
    queries = ("工资被拖欠怎么办", "legal aid", "困难帮扶", "会费")
    before = _words.cache_info()
    for query in queries:
        rank([document(e) for e in entries], expand(words(query), GROUPS))
    after = _words.cache_info()
    assert after.misses - before.misses <= len(queries) + sum(len(g) for g in GROUPS)
    assert after.hits - before.hits >= len(queries) * len(entries)


NASTY = [
    "",
    " ",
    "\x00",
    "'; DROP TABLE handbook_entries; --",
    "%_%",
    "😀" * 50,
    "工资" * 60,
    "a\u0301" * 40,
    "\ud7ff\ufffd",
    "<b>工资</b>",
]


async def test_search_on_the_database_never_crashes(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        assert await handbook.ensure_default(session)
        assert not await handbook.ensure_default(session)  # once
        for query in NASTY:
            assert len(await handbook.search(session, query)) <= 3
            with contextlib.suppress(InvalidInput):
                await handbook.record_search(
                    session, clean_query(query), False, now=T0, zone=ZoneInfo("Asia/Shanghai")
                )
        assert await handbook.misses(session)
        assert await handbook.misses(session, handbook.month_of(T0, ZoneInfo("Asia/Shanghai")))


async def test_searches_count_in_their_local_month(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Midnight in Shanghai, not in UTC, starts a month; a found search counts, not its text."""
    zone = ZoneInfo("Asia/Shanghai")
    end_of_november = shanghai(2026, 11, 30, 23, 59)  # 15:59 UTC: still November locally
    first_of_december = shanghai(2026, 12, 1, 0, 1)  # 16:01 UTC on 30 November
    async with sessions() as session, session.begin():
        for moment in (end_of_november, end_of_november, first_of_december):
            await handbook.record_search(session, "停车位", False, now=moment, zone=zone)
        await handbook.record_search(session, "工资", True, now=first_of_december, zone=zone)
    async with sessions() as session:
        months = {
            row.month: (row.searches, row.found)
            for row in await session.scalars(select(HandbookSearchMonth))
        }
        assert months == {date(2026, 11, 1): (2, 0), date(2026, 12, 1): (2, 1)}
        assert await handbook.misses(session, date(2026, 11, 1)) == [("停车位", 2)]
        assert await handbook.misses(session, date(2026, 12, 1)) == [("停车位", 1)]
        assert await handbook.misses(session) == [("停车位", 3)]
        assert await handbook.misses(session, date(2026, 10, 1)) == []


async def test_default_handbook_is_complete_and_safe(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        assert await handbook.ensure_default(session)
        topics = await handbook.topics_under(session, None)
        assert [t.title_en for t in topics] == [
            "Member rights",
            "Hardship assistance",
            "Legal aid",
            "Joining and dues",
            "Contacts",
            "FAQ",
        ]
        for topic in topics:
            assert await handbook.entries_in(session, topic.id)
        # The sequences moved on: a new row after the seeded ids works on PostgreSQL too.
        topic = HandbookTopic(parent_id=None, position=9, title_zh="新", title_en="New")
        session.add(topic)
        await session.flush()
        session.add(
            HandbookEntry(
                topic_id=topic.id, position=1, title_zh="a", title_en="a", body_zh="", body_en=""
            )
        )
        await session.flush()
        assert topic.id > len(default.TOPICS)


@st.composite
def _trees(draw: st.DrawFn) -> dict[int, int | None]:
    """A forest of topics 1..n, each under an earlier one or at the top."""
    n = draw(st.integers(1, 12))
    return {
        i: draw(st.one_of(st.none(), st.integers(1, i - 1))) if i > 1 else None
        for i in range(1, n + 1)
    }


@given(_trees(), st.lists(st.tuples(st.integers(1, 12), st.one_of(st.none(), st.integers(1, 12)))))
def test_moving_topics_never_makes_a_cycle(
    tree: dict[int, int | None], moves: list[tuple[int, int | None]]
) -> None:
    for topic, parent in moves:
        if topic not in tree or (parent is not None and parent not in tree):
            continue
        if not would_cycle(tree, topic, parent):
            tree[topic] = parent
        else:
            assert parent is not None  # the top is always allowed
    for start in tree:  # every topic still reaches the top
        seen = set()
        node: int | None = start
        while node is not None:
            assert node not in seen
            seen.add(node)
            node = tree[node]


def test_the_compact_prefix_table_answers_as_jiebas_own(tmp_path: Path) -> None:
    """`segmenter.Frequencies` against the dict `jieba.Tokenizer.gen_pfdict` builds."""
    import jieba

    lines = [f"{w} {n} n" for w, n in (("劳动", 900), ("劳动合同", 7), ("合同", 500), ("a", 3))]
    lines += [f"词{i}语{i} {i + 5}" for i in range(3000)]  # enough to grow the table
    path = tmp_path / "dict.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with path.open("rb") as f:
        expected, total = jieba.Tokenizer.gen_pfdict(f)
    table = segmenter.Frequencies.read(path)
    assert len(table) == len(expected) and table.total == total
    for key, count in expected.items():
        assert key in table and table[key] == count and table.get(key) == count
    assert table["劳动合"] == 0  # a prefix of a word, no word itself
    for absent in ("劳动者", "合同法", "", "b", "词3000"):
        assert absent not in table and table.get(absent) is None and table.get(absent, 1) == 1
    with pytest.raises(KeyError):
        table["合同法"]
    saved = tmp_path / "dict.table"
    table.save(saved)
    loaded = segmenter.Frequencies.load(saved)
    assert loaded is not None and len(loaded) == len(table) and loaded.total == total
    assert all(loaded.get(key) == count for key, count in expected.items())
    assert "合同法" not in loaded
    saved.write_bytes(saved.read_bytes()[:-1])  # cut short: made again, never half read
    assert segmenter.Frequencies.load(saved) is None
    assert segmenter.Frequencies.load(tmp_path / "none.table") is None


def test_a_table_not_of_save_s_making_is_refused(tmp_path: Path) -> None:
    """Whole and well sized, but every slot taken (a lookup of a missing key would probe
    for ever) or a key number out of range (it would fail): made again instead."""
    table = segmenter.Frequencies.read(_dictionary(tmp_path))
    header = len(segmenter.Frequencies._MAGIC) + segmenter.Frequencies._HEADER.size
    for forged in (0, 10_000):
        table.save(tmp_path / "good.table")
        data = bytearray((tmp_path / "good.table").read_bytes())
        slots = len(table._slots)
        data[header : header + 4 * slots] = array("i", [forged] * slots).tobytes()
        (tmp_path / "forged.table").write_bytes(bytes(data))
        assert segmenter.Frequencies.load(tmp_path / "forged.table") is None
    assert segmenter.Frequencies.load(tmp_path / "good.table") is not None


def _dictionary(folder: Path) -> Path:
    path = folder / "dict.txt"
    path.write_text("劳动 900 n\n合同 500 n\n", encoding="utf-8")
    return path


def test_the_dictionary_folder_must_be_this_user_s_alone(tmp_path: Path) -> None:
    """Another user's folder, or one others may write in, is not used: a file there could
    change what the handbook finds."""
    own = segmenter.private_folder(tmp_path)
    assert own == tmp_path / f"union-bot-{os.getuid()}"
    assert stat.S_IMODE(own.stat().st_mode) == 0o700
    assert segmenter.private_folder(tmp_path) == own  # the same one next time
    own.chmod(0o777)
    shared = segmenter.private_folder(tmp_path)
    assert (
        shared != own and shared.parent == tmp_path and stat.S_IMODE(shared.stat().st_mode) == 0o700
    )
    own.rmdir()
    (tmp_path / "elsewhere").mkdir()
    own.symlink_to(tmp_path / "elsewhere")  # a link planted under the expected name
    assert segmenter.private_folder(tmp_path) not in (own, tmp_path / "elsewhere")
