"""The authorization matrix's world and its proof that nothing changed.

`make_world` gives the people who try what they may not (a member, a cadre, a
stranger who never registered, and the admin for the wrong-chat rows) and one
real row of each kind a button names, so a forged press is refused for the
presser's role and never for a missing row. `snapshot` is every table's rows
(conversation rows opened with the key, their expiry left out) as one digest
per table, so two snapshots differ exactly where something was written.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Table, select, text

from sandbox.driver import SandboxUser
from storage import broadcasts, members, suggestions
from storage.audiences import Audience
from storage.broadcasts import Content
from storage.conversations import ConversationRow, Sealer
from storage.db import transaction
from storage.models import (
    ActivitySignup,
    Base,
    ConversationState,
    GrievanceCategory,
    HandbookEntry,
    HandbookTopic,
    Role,
    TrainingEnrolment,
)
from storage.occasions import BUILTIN
from tests.support.activities import draft, published, sign_up
from tests.support.bot import BotHarness
from tests.support.config import ADMIN_ID, CADRE_CHAT
from tests.support.grievances import submit
from tests.support.members import add_member, add_person, member_id
from tests.support.outbox import delivered, quick_delivery
from tests.support.polls import create_poll, latest_poll
from tests.support.trainings import course, enrol, published_course

# The kinds of row `make_world` makes one of, by the button field that names them.
ROW_KINDS = (
    "member", "activity", "signup", "parent", "training", "session", "enrolment", "poll",
    "case", "suggestion", "broadcast", "group", "topic", "entry", "other", "item", "category",
    "code",
)  # fmt: skip


@dataclass
class World:
    """Who presses, and the id of one real row of every kind a button carries."""

    admin: SandboxUser
    cadre: SandboxUser
    member: SandboxUser
    stranger: SandboxUser  # never registered; their Telegram app is in English
    ids: dict[str, int | str]  # a button field's name (or prefix.field) → a real value


async def make_world(bot: BotHarness) -> World:
    await quick_delivery(bot)
    driver = bot.driver
    admin = await driver.user(ADMIN_ID)
    bot.server.actions.open_private(driver.bot_id, ADMIN_ID)
    await add_member(bot, ADMIN_ID, "周主席", department="行政办公室")
    cadre = await add_person(bot, "李干事", department="工会办公室", role=Role.CADRE)
    member = await add_person(bot, "韩梅梅")
    stranger = await driver.create_user("Sam", user_id=819_999_001, language_code="en")
    bot.server.actions.open_private(driver.bot_id, stranger.id)
    for person in (admin, cadre, member, stranger):
        # Everyone is in the cadre group, so a refusal there is for the role, not for
        # being outside the chat.
        await driver.add_member(CADRE_CHAT, person)

    now = bot.clock.now
    activity = await published(bot, draft(bot, capacity=10))
    await sign_up(member, activity.id)
    training, meetings = await published_course(bot, course(now + timedelta(days=5)), now=now)
    member_row = await member_id(bot, member)
    await enrol(bot, training.id, [member_row], now)
    await create_poll(admin, "食堂周五加菜吗？", ["加", "不加"])
    poll = await latest_poll(bot)
    case = await submit(bot, member)
    async with transaction(bot.runtime.sessions) as session:
        row = await members.get_member(session, member.id)
        assert row is not None
        suggestion = await suggestions.create(session, row, "食堂多开一个窗口", now=now)
        group = await members.add_group(session, "篮球队")
        department = await members.department_by_name(session, "装配车间")
        scheduled = await broadcasts.create(
            session,
            content=Content(text="下周一停电检修"),
            audience=Audience(everyone=True),
            admin_chat_id=ADMIN_ID,
            now=now,
            scheduled_for=now + timedelta(days=3),
        )
        category = await session.scalar(select(GrievanceCategory.id).order_by(GrievanceCategory.id))
        topic = await session.scalar(select(HandbookTopic.id).order_by(HandbookTopic.id))
        entries = list(await session.scalars(select(HandbookEntry.id).order_by(HandbookEntry.id)))
        signup = await session.scalar(
            select(ActivitySignup.id).where(ActivitySignup.activity_id == activity.id)
        )
        enrolment = await session.scalar(
            select(TrainingEnrolment.id).where(TrainingEnrolment.training_id == training.id)
        )
    assert category and topic and len(entries) >= 2 and signup and enrolment
    await delivered(bot)
    ids: dict[str, int | str] = {
        "member": member_row,
        "activity": activity.id,
        "signup": signup,
        "parent": activity.id,  # Publish(parent, announce); trainings override it
        "training": training.id,
        "session": meetings[0].id,
        "enrolment": enrolment,
        "poll": poll.poll.id,
        "case": case.id,
        "suggestion": suggestion.id,
        "broadcast": scheduled.id,
        "group": group.id,
        "topic": topic,
        "entry": entries[0],
        "other": entries[1],
        "item": department.id,  # departments; groups and categories override it
        "category": category,
        "code": BUILTIN[0].code,
    }
    assert set(ids) == set(ROW_KINDS)
    return World(admin, cadre, member, stranger, ids)


async def snapshot(bot: BotHarness) -> dict[str, str]:
    """One digest per table of its rows; conversation rows by what they hold, not their seal.

    One round trip either way, so a snapshot per row of the matrix stays cheap: the
    SQLite file read directly (committed rows, as any reader sees them), or PostgreSQL
    hashing every table in a single query.
    """
    url = bot.settings.database_url
    if url.startswith("sqlite"):
        found, conversations = _sqlite_digests(Path(url.split(":///", 1)[1]))
    else:
        found, conversations = await _pg_digests(bot)
    sealer = Sealer(bot.settings.secret_key)
    opened: list[str] = []
    for key, sealed in sorted(conversations):
        row = sealer.open(key, sealed)
        if isinstance(row, ConversationRow):  # its expiry moves with the clock, not the row
            opened.append(repr((key, row.name, row.key, row.state)))
        else:
            opened.append(repr((key, row.user_id, sorted(row.data.items()))))
    found[ConversationState.__tablename__] = _digest("\n".join(opened))
    return found


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _tables() -> list[Table]:
    return [t for t in Base.metadata.sorted_tables if t.name != ConversationState.__tablename__]


def _sqlite_digests(path: Path) -> tuple[dict[str, str], list[tuple[str, str]]]:
    connection = sqlite3.connect(path)
    try:
        found: dict[str, str] = {}
        for table in _tables():
            order = ", ".join(f'"{c.name}"' for c in table.primary_key.columns)
            rows = connection.execute(f'select * from "{table.name}" order by {order}')
            found[table.name] = _digest("\n".join(repr(tuple(r)) for r in rows))
        conversations = connection.execute("select key, sealed from conversation_state")
        return found, [(str(k), str(v)) for k, v in conversations]
    finally:
        connection.close()


async def _pg_digests(bot: BotHarness) -> tuple[dict[str, str], list[tuple[str, str]]]:
    parts = [
        f"select '{t.name}', md5(coalesce(string_agg(r::text, '|' order by r::text), ''))"
        f' from "{t.name}" r'
        for t in _tables()
    ]
    async with bot.runtime.engine.connect() as connection:
        digests = await connection.execute(text(" union all ".join(parts)))
        found = {str(name): str(value) for name, value in digests}
        conversations = await connection.execute(
            select(ConversationState.key, ConversationState.sealed)
        )
        return found, [(str(k), str(v)) for k, v in conversations]


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The tables whose rows differ."""
    return sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )


async def settled(bot: BotHarness) -> dict[str, str]:
    """The snapshot once the setup's last deliveries and their follow-ups are written."""
    await delivered(bot)
    before = await snapshot(bot)
    for _ in range(10):
        await bot.driver.wait_idle()
        after = await snapshot(bot)
        if after == before:
            return after
        before = after
    raise AssertionError(f"the database keeps changing: {changed(before, after)}")
