"""The member service handbook (职工服务手册): its tree, its search, what searches missed.

Search: Chinese has no spaces, so texts are cut into words by `jieba` in
search mode, on a trimmed dictionary (`storage.segmenter`: 40 MB less memory;
set phrases such as 劳动合同 are cut into 劳动, 合同); English is lowercased and
split the same way, with a plural "s" dropped. Entries are ranked by BM25 over
their words (title counted twice, both languages in one document, so a query
in either finds the entry), after the query has been widened by the synonym
groups admins keep (工资/薪酬/薪水).

The index is recomputed per query from one SELECT: segmentation of an entry's
text is cached by its text (`_words`), so an edit is seen at once and the
ranking itself is arithmetic over a few hundred entries. Measured on this
machine: 300 entries, about 10 ms per query once warm
(`tests/handbook/test_search.py::test_search_is_fast`).

Searches a member asks for are counted per local calendar month (a month
bucket of a total, nothing finer): how many, how many found something, and each
normalised query that found nothing with its count, that month and all time
(`record_search`). No member is kept, so the list helps write entries and tells
nobody who asked what.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from functools import lru_cache
from html import escape
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage import handbook_default as default
from storage import segmenter
from storage.broadcast_rules import MarkupError, utf16_length, visible_text
from storage.db import insert_for
from storage.models import (
    HandbookEntry,
    HandbookLink,
    HandbookMiss,
    HandbookMonthMiss,
    HandbookSearchMonth,
    HandbookSynonym,
    HandbookTopic,
)
from storage.profile_rules import InvalidInput, clean_label

QUERY_MAX = 100  # characters of a search
MISS_MAX = 128  # characters of a stored miss (the column)
SYNONYMS_MAX = 256
RESULTS = 3
TITLE_WEIGHT = 3  # a title's words count as often as this
K1 = 1.5
B = 0.75
_STOPWORDS = (
    "的 了 吗 被 呢 吧 啊 是 我 您 你 他 她 我们 怎么 怎么办 怎样 如何 什么 哪里 一下 请问 想 要 能 可以 和 与 在 有 "
    "a an and are be can do does for how i in is it me my of on or the to what when where "
    "who why will with you your"
)
STOPWORDS = frozenset(_STOPWORDS.split())
_WORD = re.compile(r"\w", re.UNICODE)


class HandbookNotFound(LookupError):
    """A topic or entry that is not (or no longer) there."""


@dataclass(frozen=True)
class Hit:
    entry: HandbookEntry
    score: float


def normalise(text: str) -> str:
    """Compare-ready: NFKC (full-width letters and digits), lower case, spaces folded."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().lower()


def _stem(word: str) -> str:
    if word.isascii() and len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@lru_cache(maxsize=8192)
def _words(text: str) -> tuple[str, ...]:
    return tuple(
        _stem(word)
        for word in (w.strip() for w in segmenter.cut_for_search(normalise(text)))
        if word and _WORD.search(word) and word not in STOPWORDS
    )


def warm_up() -> None:
    """Load jieba's dictionary (a second or two, once per process) before a member waits on it."""
    segmenter.tokenizer()


def words(text: str) -> list[str]:
    """The search words of a text, in order (repeats kept, stop words dropped)."""
    return list(_words(text))


def clean_query(text: str) -> str:
    """A search as typed: one line, not empty, not a command, at most QUERY_MAX characters."""
    if text.lstrip().startswith("/"):
        raise InvalidInput("command")
    return normalise(clean_label(text, QUERY_MAX))


def _plain(markup: str) -> str:
    try:
        return visible_text(markup)
    except MarkupError:  # stored bodies are checked on save; never fail a search on one
        return markup


def document(entry: HandbookEntry) -> list[str]:
    title = f"{entry.title_zh} {entry.title_en}"
    return [
        *words(title),
        *words(title),
        *words(_plain(entry.body_zh)),
        *words(_plain(entry.body_en)),
    ]


def expand(query_words: Iterable[str], groups: Sequence[Sequence[str]]) -> list[frozenset[str]]:
    """The query's concepts: each word with its synonyms (a group's words, segmented too).

    A group counts as one term in the ranking, so an entry that says 工资 and
    wage is not ranked above one about wages for having more of the variants.
    """
    expanded = [
        (group, {w for g in group for w in words(g)} | {normalise(g) for g in group})
        for group in groups
    ]
    concepts: list[frozenset[str]] = []
    for word in dict.fromkeys(query_words):
        concept = {word}
        for _, variants in expanded:
            if word in variants:
                concept |= variants
        if frozenset(concept) not in concepts:
            concepts.append(frozenset(concept))
    return concepts


def rank(
    documents: Sequence[Sequence[str]], concepts: Sequence[frozenset[str]], limit: int = RESULTS
) -> list[tuple[int, float]]:
    """BM25 over the documents for the concepts: (index, score) best first, scores above 0.

    A concept's frequency in a document is that of all its words together; its
    document frequency counts the documents holding any of them.
    """
    n = len(documents)
    if not n or not concepts:
        return []
    counts = [Counter(d) for d in documents]
    lengths = [len(d) for d in documents]
    average = (sum(lengths) / n) or 1.0
    scores = [0.0] * n
    for concept in concepts:
        tfs = [sum(c.get(word, 0) for word in concept) for c in counts]
        df = sum(1 for tf in tfs if tf)
        if not df:
            continue
        idf = math.log((n - df + 0.5) / (df + 0.5) + 1)
        for i, tf in enumerate(tfs):
            if tf:
                scores[i] += idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * lengths[i] / average))
    best = sorted((i for i in range(n) if scores[i] > 0), key=lambda i: (-scores[i], i))
    return [(i, scores[i]) for i in best[:limit]]


# Reading ------------------------------------------------------------------------------


async def topics_under(session: AsyncSession, parent_id: int | None) -> list[HandbookTopic]:
    return list(
        await session.scalars(
            select(HandbookTopic)
            .where(
                HandbookTopic.parent_id.is_(None)
                if parent_id is None
                else HandbookTopic.parent_id == parent_id
            )
            .order_by(HandbookTopic.position, HandbookTopic.id)
        )
    )


async def entries_in(session: AsyncSession, topic_id: int) -> list[HandbookEntry]:
    return list(
        await session.scalars(
            select(HandbookEntry)
            .where(HandbookEntry.topic_id == topic_id)
            .order_by(HandbookEntry.position, HandbookEntry.id)
        )
    )


async def get_topic(session: AsyncSession, topic_id: int) -> HandbookTopic:
    topic = await session.get(HandbookTopic, topic_id)
    if topic is None:
        raise HandbookNotFound(topic_id)
    return topic


async def get_entry(session: AsyncSession, entry_id: int) -> HandbookEntry:
    entry = await session.get(HandbookEntry, entry_id)
    if entry is None:
        raise HandbookNotFound(entry_id)
    return entry


async def related(session: AsyncSession, entry_id: int) -> list[HandbookEntry]:
    return list(
        await session.scalars(
            select(HandbookEntry)
            .join(HandbookLink, HandbookLink.related_id == HandbookEntry.id)
            .where(HandbookLink.entry_id == entry_id)
            .order_by(HandbookEntry.position, HandbookEntry.id)
        )
    )


# Search -------------------------------------------------------------------------------


async def synonym_groups(session: AsyncSession) -> list[list[str]]:
    rows = await session.scalars(select(HandbookSynonym.words).order_by(HandbookSynonym.id))
    return [row.split() for row in rows]


async def search(session: AsyncSession, query: str, limit: int = RESULTS) -> list[Hit]:
    """The best entries for the query (any text: nothing matches gives [])."""
    await segmenter.loaded()
    concepts = expand(words(query), await synonym_groups(session))
    if not concepts:
        return []
    entries = list(await session.scalars(select(HandbookEntry).order_by(HandbookEntry.id)))
    return [Hit(entries[i], s) for i, s in rank([document(e) for e in entries], concepts, limit)]


def month_of(now: datetime, zone: tzinfo) -> date:
    """The local calendar month ``now`` falls in, as its first day: the bucket searches count in."""
    return now.astimezone(zone).date().replace(day=1)


async def _count(session: AsyncSession, model: Any, keys: dict[str, Any], **adds: int) -> None:
    """Add to a counter row, inserting it first if it is not there (one statement, no race)."""
    insert = insert_for(session)
    statement = insert(model).values(**keys, **adds)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=list(keys),
            set_={name: getattr(model, name) + value for name, value in adds.items()},
        )
    )


async def record_search(
    session: AsyncSession, query: str, found: bool, *, now: datetime, zone: tzinfo
) -> None:
    """Count a search a member asked for (/handbook <words>, 🔍 Search) in its local month.

    Kept: per month, the number of searches and of those that found something,
    and for one that found nothing its normalised text, counted in that month
    and all time (`misses`). No member and no time finer than the month.

    The entries offered for free text no feature took (`handlers.handbook.member.
    offer_entries`) are not counted at all: the member asked for no search, and
    such text (a message meant for someone) is never stored.
    """
    month = month_of(now, zone)
    await _count(session, HandbookSearchMonth, {"month": month}, searches=1, found=int(found))
    key = normalise(query)[:MISS_MAX]
    if found or not key:
        return
    await _count(session, HandbookMonthMiss, {"month": month, "query": key}, count=1)
    await _count(session, HandbookMiss, {"query": key}, count=1)


async def misses(
    session: AsyncSession, month: date | None = None, limit: int = 30
) -> list[tuple[str, int]]:
    """The searches that found nothing, most asked first: in ``month``, or all time (None).

    Shown to cadres and admins only, every query however rarely asked, as
    before monthly counting; the report, read more widely, shows fewer
    (`storage.report`).
    """
    if month is None:
        rows = await session.execute(
            select(HandbookMiss.query, HandbookMiss.count)
            .order_by(HandbookMiss.count.desc(), HandbookMiss.query)
            .limit(limit)
        )
    else:
        rows = await session.execute(
            select(HandbookMonthMiss.query, HandbookMonthMiss.count)
            .where(HandbookMonthMiss.month == month)
            .order_by(HandbookMonthMiss.count.desc(), HandbookMonthMiss.query)
            .limit(limit)
        )
    return [(q, c) for q, c in rows]


def clean_synonyms(text: str) -> list[str]:
    """A synonym group as typed ("工资 薪酬 薪水", commas or slashes too): 2+ distinct words."""
    text = clean_label(text, SYNONYMS_MAX)
    group = list(dict.fromkeys(w for w in re.split(r"[\s,，、/／;；]+", normalise(text)) if w))
    if len(group) < 2:
        raise InvalidInput("synonyms_few")
    return group


async def add_synonyms(session: AsyncSession, group: Sequence[str]) -> HandbookSynonym:
    row = HandbookSynonym(words=" ".join(group))
    session.add(row)
    await session.flush()
    return row


# The default handbook ------------------------------------------------------------------


async def ensure_default(session: AsyncSession) -> bool:
    """Write the default handbook if the union has none yet (no topic at all); True if it did.

    Run at start-up by every instance: the fixed ids make a second, concurrent
    insert fail on the primary key, and the caller drops it.
    """
    if await session.scalar(select(HandbookTopic.id).limit(1)) is not None:
        return False
    session.add_all(
        HandbookTopic(id=i, parent_id=None, position=i, title_zh=zh, title_en=en)
        for i, zh, en in default.TOPICS
    )
    await session.flush()
    session.add_all(
        HandbookEntry(
            id=i,
            topic_id=topic,
            position=i,
            title_zh=tzh,
            title_en=ten,
            body_zh=escape(bzh, quote=False),
            body_en=escape(ben, quote=False),
        )
        for i, topic, tzh, ten, bzh, ben in default.ENTRIES
    )
    await session.flush()
    session.add_all(HandbookLink(entry_id=e, related_id=r) for e, r in default.LINKS)
    session.add_all(HandbookSynonym(id=i, words=w) for i, w in default.SYNONYMS)
    await session.flush()
    if session.get_bind().dialect.name == "postgresql":  # ids given: move the sequences on
        for table in ("handbook_topics", "handbook_entries", "handbook_synonyms"):
            await session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT MAX(id) FROM {table}))"
                )
            )
    return True


# Editing (admins) ---------------------------------------------------------------------

TITLE_MAX = 64
BODY_MAX = 3500  # visible characters: the title and "see also" fit in Telegram's 4096


RELATED_MAX = 8  # "see also" buttons under an entry


class HandbookRefused(Exception):
    """An edit the handbook refuses; ``reason``: not_empty, cycle, self, too_many."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def clean_title(text: str) -> str:
    """A topic's or entry's title: one line, plain text, at most TITLE_MAX characters."""
    if text.lstrip().startswith("/"):
        raise InvalidInput("command")
    return clean_label(text, TITLE_MAX)


def clean_body(markup: str) -> str:
    """An entry's text as safe HTML (Telegram's tags only), at most BODY_MAX visible characters.

    Raises MarkupError for markup Telegram would refuse, InvalidInput for empty
    or long text.
    """
    shown = visible_text(markup)
    if not shown.strip():
        raise InvalidInput("empty")
    if markup.lstrip().startswith("/"):
        raise InvalidInput("command")
    if utf16_length(shown) > BODY_MAX:
        raise InvalidInput("too_long")
    return markup.strip()


@dataclass(frozen=True)
class EntryText:
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    file_id: str | None = None
    file_kind: str | None = None


async def _next_position(
    session: AsyncSession, model: type[HandbookTopic] | type[HandbookEntry], where: Any
) -> int:
    return (
        int(
            await session.scalar(select(func.coalesce(func.max(model.position), 0)).where(where))
            or 0
        )
        + 1
    )


async def add_topic(
    session: AsyncSession, parent_id: int | None, title_zh: str, title_en: str
) -> HandbookTopic:
    if parent_id is not None:
        await get_topic(session, parent_id)
    where = (
        HandbookTopic.parent_id.is_(None)
        if parent_id is None
        else HandbookTopic.parent_id == parent_id
    )
    topic = HandbookTopic(
        parent_id=parent_id,
        position=await _next_position(session, HandbookTopic, where),
        title_zh=clean_title(title_zh),
        title_en=clean_title(title_en),
    )
    session.add(topic)
    await session.flush()
    return topic


async def rename_topic(
    session: AsyncSession, topic_id: int, title_zh: str, title_en: str
) -> HandbookTopic:
    topic = await get_topic(session, topic_id)
    topic.title_zh, topic.title_en = clean_title(title_zh), clean_title(title_en)
    await session.flush()
    return topic


async def save_entry(
    session: AsyncSession, text: EntryText, *, topic_id: int, entry_id: int | None = None
) -> HandbookEntry:
    """A new entry in the topic (``entry_id`` None), or the entry's text replaced."""
    if entry_id is None:
        await get_topic(session, topic_id)
        entry = HandbookEntry(
            topic_id=topic_id,
            position=await _next_position(
                session, HandbookEntry, HandbookEntry.topic_id == topic_id
            ),
        )
        session.add(entry)
    else:
        entry = await get_entry(session, entry_id)
    entry.title_zh, entry.title_en = clean_title(text.title_zh), clean_title(text.title_en)
    entry.body_zh, entry.body_en = clean_body(text.body_zh), clean_body(text.body_en)
    entry.file_id, entry.file_kind = (
        (text.file_id, text.file_kind) if text.file_id else (None, None)
    )
    await session.flush()
    return entry


async def move_entry(session: AsyncSession, entry_id: int, topic_id: int) -> HandbookEntry:
    entry = await get_entry(session, entry_id)
    await get_topic(session, topic_id)
    if entry.topic_id != topic_id:
        entry.topic_id = topic_id
        entry.position = await _next_position(
            session, HandbookEntry, HandbookEntry.topic_id == topic_id
        )
        await session.flush()
    return entry


def would_cycle(parents: dict[int, int | None], topic: int, new_parent: int | None) -> bool:
    """Whether putting ``topic`` under ``new_parent`` would put it inside itself."""
    seen: set[int] = set()
    ancestor = new_parent
    while ancestor is not None and ancestor not in seen:
        if ancestor == topic:
            return True
        seen.add(ancestor)
        ancestor = parents.get(ancestor)
    return False


async def move_topic(session: AsyncSession, topic_id: int, parent_id: int | None) -> HandbookTopic:
    """Under another topic (or to the top, None); never under itself or its own subtopics."""
    topic = await get_topic(session, topic_id)
    if parent_id is not None:
        await get_topic(session, parent_id)
    rows = await session.execute(select(HandbookTopic.id, HandbookTopic.parent_id))
    parents: dict[int, int | None] = {id_: parent for id_, parent in rows}
    if would_cycle(parents, topic_id, parent_id):
        raise HandbookRefused("cycle")
    if topic.parent_id != parent_id:
        topic.parent_id = parent_id
        where = (
            HandbookTopic.parent_id.is_(None)
            if parent_id is None
            else HandbookTopic.parent_id == parent_id
        )
        topic.position = await _next_position(session, HandbookTopic, where)
        await session.flush()
    return topic


async def all_topics(session: AsyncSession) -> list[HandbookTopic]:
    return list(
        await session.scalars(
            select(HandbookTopic).order_by(HandbookTopic.position, HandbookTopic.id)
        )
    )


async def delete_entry(session: AsyncSession, entry_id: int) -> HandbookEntry:
    entry = await get_entry(session, entry_id)
    await session.delete(entry)
    await session.flush()
    return entry


async def delete_topic(session: AsyncSession, topic_id: int) -> HandbookTopic:
    """Only an empty topic: its entries and subtopics are moved or deleted first."""
    topic = await get_topic(session, topic_id)
    if await topics_under(session, topic_id) or await entries_in(session, topic_id):
        raise HandbookRefused("not_empty")
    await session.delete(topic)
    await session.flush()
    return topic


async def every_entry(session: AsyncSession) -> list[HandbookEntry]:
    """All entries, in the contents' order: by topic, then by place in the topic."""
    return list(
        await session.scalars(
            select(HandbookEntry)
            .join(HandbookTopic, HandbookTopic.id == HandbookEntry.topic_id)
            .order_by(
                HandbookTopic.position, HandbookTopic.id, HandbookEntry.position, HandbookEntry.id
            )
        )
    )


def check_related(entry_id: int, related_ids: Sequence[int]) -> None:
    """Refuses a list with the entry itself in it, or more than RELATED_MAX entries."""
    if entry_id in related_ids:
        raise HandbookRefused("self")
    if len(set(related_ids)) > RELATED_MAX:
        raise HandbookRefused("too_many")


async def set_related(
    session: AsyncSession, entry_id: int, related_ids: Sequence[int]
) -> list[int]:
    """Replace the entry's "see also" with ``related_ids`` (empty: none); the ids left out.

    Ids of entries deleted meanwhile are left out and returned; the entry
    itself or too many are refused (`check_related`). Deleting an entry takes it
    out of every list (the links cascade).
    """
    await get_entry(session, entry_id)
    check_related(entry_id, related_ids)
    wanted = set(related_ids)
    there = set(
        await session.scalars(select(HandbookEntry.id).where(HandbookEntry.id.in_(wanted)))
        if wanted
        else []
    )
    await session.execute(delete(HandbookLink).where(HandbookLink.entry_id == entry_id))
    session.add_all(HandbookLink(entry_id=entry_id, related_id=r) for r in sorted(there))
    await session.flush()
    return sorted(wanted - there)
