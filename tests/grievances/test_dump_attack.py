"""A leaked database, attacked: without SECRET_KEY, no case or ballot leads to a member.

The union here has members who write grievances, cadres who answer them, and
the notices to the authors in every state the outbox knows — pending, claimed,
being sent, sent, blocked, invalid, failed, retrying — written by the same
storage calls the delivery worker makes. Then the database is taken as a thief
would take it (the SQLite file with its ``-wal``, read by another program; a
``pg_dump`` of the PostgreSQL database) and attacked without the key:

* any case-side row holding a member's id or Telegram id;
* any member-side row (the member, their outbox rows, their sign-ups) with a
  time equal to, or within seconds of, a time of a case or of a ballot;
* the words of the cases in the bytes of the file, its log or the dump.

The attack must find no suspect at all: that is "no better than chance".
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from jobs.delivery import stop_delivery
from storage import outbox, polls
from storage.audiences import Audience
from storage.db import transaction
from storage.models import Grievance, GrievanceAudit, Member
from storage.outbox import Event, Result
from tests.support.chat import register
from tests.support.config import CADRE_CHAT, SECRET
from tests.support.dumps import steal, times
from tests.support.grievances import World, submit
from tests.support.outbox import delivered, outbox_rows

NEAR = timedelta(seconds=10)
MEMBER_SIDE = ("members", "activity_signups", "training_enrolments", "suggestions")
CASE_SIDE = ("grievances", "grievance_messages", "grievance_posts", "grievance_audit")
TEXTS = [f"第{i}车间的问题：夜班补贴连续{i + 2}个月没有发放。" for i in range(6)]


def _times(row: dict[str, Any]) -> list[datetime]:
    return times(row)


def _attack(tables: dict[str, list[dict[str, Any]]], cadre_ids: set[int]) -> list[str]:
    """Every way the dump ties a (non-cadre) member to a case or a ballot."""
    members = [m for m in tables["members"] if m["id"] not in cadre_ids]
    by_id = {m["id"]: m for m in members}
    by_telegram = {m["telegram_id"]: m for m in members}
    found: list[str] = []
    # 1. Identities in case-side rows and in the outbox rows of cases.
    case_rows = [(t, r) for t in CASE_SIDE for r in tables[t]]
    case_rows += [
        ("outbox", r) for r in tables["outbox"] if str(r["key"]).startswith("g") or r["sensitive"]
    ]
    for table, row in case_rows:
        for column, value in row.items():
            if column in ("id", "grievance_id", "seq", "telegram_message_id", "attempts"):
                continue
            if isinstance(value, int) and (value in by_telegram or value in by_id):
                if table == "outbox" and column == "chat_id" and value in by_telegram:
                    found.append(f"{table}.{column} names member {value}")
                elif column in ("link", "member_id") or value in by_telegram:
                    found.append(f"{table}.{column} holds a member's id {value}")
    # 2. Times: member-side rows near case-side and ballot times.
    case_times = [t for _, row in case_rows for t in _times(row)]
    case_times += [t for row in tables["poll_ballots"] for t in _times(row)]
    member_rows: list[tuple[str, dict[str, Any], int]] = [("members", m, m["id"]) for m in members]
    for table in MEMBER_SIDE[1:]:
        member_rows += [
            (table, r, r["member_id"]) for r in tables[table] if r["member_id"] in by_id
        ]
    member_rows += [
        ("outbox", r, by_telegram[r["chat_id"]]["id"])
        for r in tables["outbox"]
        if r["chat_id"] in by_telegram or r["member_id"] in by_id
    ]
    for table, row, member_id in member_rows:
        for moment in _times(row):
            if any(abs(moment - other) <= NEAR for other in case_times):
                found.append(f"{table} row of member {member_id} at {moment} is near a case")
    # 3. Anonymous ballots that name their voter.
    found += [f"ballot {b['id']} names its voter" for b in tables["poll_ballots"] if b["member_id"]]
    return found


def _leaked_words(blob: bytes, words: Iterable[str]) -> list[str]:
    return [w for w in words if w.encode() in blob]


async def _union(world: World) -> tuple[list[Any], set[int]]:
    """Members, six cases with notices in every outbox state, and an anonymous poll."""
    bot, cadre = world.bot, world.cadre
    people = [world.member]
    for i, (name, department) in enumerate(
        [("赵一", "装配车间"), ("钱二", "质检科"), ("孙三", "装配车间"), ("李四", "仓储物流部"),
         ("周五", "质检科"), ("吴六", "职工食堂"), ("郑七", "装配车间")]
    ):  # fmt: skip
        user = await bot.driver.create_user(f"P{i}")
        await register(bot, user, name, department)
        people.append(user)
        bot.clock.advance(minutes=3)
    authors = people[:6]
    codes = []
    for text, author in zip(TEXTS, authors, strict=True):
        case = await submit(bot, author, text)
        codes.append(case)
        bot.clock.advance(minutes=11)
    # The cadre answers each case; the notices to the authors wait in the outbox.
    await delivered(bot)
    await stop_delivery(bot.application)
    for case in codes:
        card = next(
            m for m in await bot.driver.messages(CADRE_CHAT) if m.text and case.code in m.text
        )
        await cadre.send(
            f"关于 {case.code}，我们已经转交。", chat=CADRE_CHAT, reply_to=card.message_id
        )
        bot.clock.advance(minutes=5)
    cipher = outbox.outbox_cipher(SECRET)
    # The author's chat as the outbox row names it (a pseudonym; the plain id too,
    # so that this test still builds every state if pseudonyms were ever dropped).
    notice_chats = {cipher.pseudonym(a.id): i for i, a in enumerate(authors)}
    notice_chats |= {a.id: i for i, a in enumerate(authors)}
    now = bot.clock.now
    claimed = await outbox.claim(bot.runtime.sessions, "thief-test-worker", now, 500)
    outcomes = [Event.SENT, Event.BLOCKED, Event.INVALID, Event.FAIL, Event.RETRY, None]
    async with transaction(bot.runtime.sessions) as session:
        started = await outbox.start(session, [m.id for m in claimed], "thief-test-worker", now=now)
        assert started
        results = []
        for message in claimed:
            index = notice_chats.get(message.chat_id)
            event = Event.SENT if index is None else outcomes[index]
            if event is None:
                continue  # left "sending": a worker died with the request out
            results.append(
                Result(
                    message,
                    event,
                    error=None if event is Event.SENT else "Forbidden: bot was blocked",
                    telegram_message_id=1000 + message.id if event is Event.SENT else None,
                    backoff=timedelta(minutes=5),
                )
            )
        await outbox.record_results(session, results, now=now + timedelta(seconds=1))
    states = {r.status for r in await outbox_rows(bot)}
    assert {"sent", "blocked", "invalid", "failed", "pending", "sending"} <= states
    # One more answer, to one author, left pending and claimed-only.
    bot.clock.advance(minutes=2)
    card = next(
        m for m in await bot.driver.messages(CADRE_CHAT) if m.text and codes[0].code in m.text
    )
    await cadre.send("补充：财务下周答复。", chat=CADRE_CHAT, reply_to=card.message_id)
    await outbox.claim(bot.runtime.sessions, "thief-test-worker", bot.clock.now, 1)
    # An anonymous poll: five vote, some minutes apart.
    keys = polls.PollKeys.from_secret(SECRET)
    async with transaction(bot.runtime.sessions) as session:
        view = await polls.create(
            session,
            polls.PollDraft(
                question="食堂是否延长晚餐时间？",
                options=("是", "否"),
                audience=Audience(everyone=True),
            ),
            creator_id=None,
            now=bot.clock.now,
        )
    for i, person in enumerate(people[2:7]):
        bot.clock.advance(minutes=4)
        async with transaction(bot.runtime.sessions) as session:
            row = await session.scalar(select(Member).where(Member.telegram_id == person.id))
            assert row is not None
            await polls.vote(session, view.id, row, i % 2, now=bot.clock.now, keys=keys)
    async with bot.runtime.sessions() as session:
        cadre_ids = set(await session.scalars(select(Member.id).where(Member.role != "member")))
    return codes, cadre_ids


async def test_a_stolen_database_names_no_author(world: World, tmp_path: Path) -> None:
    bot = world.bot
    _codes, cadre_ids = await _union(world)
    blob, tables = await steal(bot, tmp_path)
    assert _leaked_words(blob, TEXTS) == []
    assert _attack(tables, cadre_ids) == []


REASON = "第0车间的补贴仍未发放，请再跟进。"


async def test_a_reopened_case_still_names_no_author(world: World, tmp_path: Path) -> None:
    """A case resolved, then reopened by its author with a reason: the audit line, the
    new card and the reason in the thread tie the case to nobody in the dump."""
    bot, cadre = world.bot, world.cadre
    codes, cadre_ids = await _union(world)
    case = codes[0]
    card = next(m for m in await bot.driver.messages(CADRE_CHAT) if m.text and case.code in m.text)
    bot.clock.advance(minutes=7)
    await cadre.press_data(card.message_id, f"gvres:{case.id}", chat=CADRE_CHAT)
    await cadre.press_data(card.message_id, f"gvresy:{case.id}", chat=CADRE_CHAT)
    bot.clock.advance(days=2, minutes=13)
    author = world.member  # the first author
    await author.send("📂 我的诉求")
    await author.press(f"{case.code} · 💰 工资 · ✅ 已办结")
    await author.press("🔄 重新打开诉求")
    await author.send(REASON)
    async with bot.runtime.sessions() as session:
        audit = list(await session.scalars(select(GrievanceAudit.action)))
        row = await session.get(Grievance, case.id)
    assert "reopened" in audit and row is not None and row.status == "new"
    blob, tables = await steal(bot, tmp_path)
    assert _leaked_words(blob, [*TEXTS, REASON]) == []
    assert _attack(tables, cadre_ids) == []
    reopened = [r for r in tables["grievance_audit"] if r["action"] == "reopened"]
    assert len(reopened) == 1 and reopened[0]["actor_telegram_id"] is None
