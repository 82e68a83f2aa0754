"""The greetings job on both databases: due at the hour, once per member and year, never late."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.runtime import Runtime
from jobs.greetings import expire_at_start, send_due_greetings
from storage import greetings, outbox
from storage.db import make_engine, transaction
from storage.occasions import BUILTIN
from tests.support.clock import shanghai
from tests.support.config import make_runtime
from tests.support.members import add_member
from tests.support.outbox import outbox_rows

SPRING_2026 = (2026, 2, 17)


async def test_spring_festival_at_nine_once_each_in_their_language(
    runtime: Runtime, sessions: async_sessionmaker[AsyncSession]
) -> None:
    wang = await add_member(sessions, 101, "王小明")
    mary = await add_member(sessions, 102, "Mary <Major>", language="en")
    assert await send_due_greetings(runtime, shanghai(*SPRING_2026, 8, 59)) == 0
    assert await outbox_rows(sessions) == []

    assert await send_due_greetings(runtime, shanghai(*SPRING_2026, 9, 0)) == 2
    rows = await outbox_rows(sessions)
    assert [(r.key, r.kind, r.chat_id, r.group_key) for r in rows] == [
        (f"greeting:spring_festival:2026:{wang}", "greeting", 101, "greetings:2026-02-17"),
        (f"greeting:spring_festival:2026:{mary}", "greeting", 102, "greetings:2026-02-17"),
    ]
    by_chat = {r.chat_id: r.payload["params"]["text"] for r in rows if r.payload}
    assert by_chat[101].startswith("🧧 王小明，新春快乐")
    assert "Mary &lt;Major&gt;, happy Spring Festival" in by_chat[102]
    assert all(r.payload and r.payload["method"] == "sendMessage" for r in rows)

    # Every later run that day, and a restart, finds nothing new.
    for minute in (5, 10, 15):
        assert await send_due_greetings(runtime, shanghai(*SPRING_2026, 9, minute)) == 0
    assert len(await outbox_rows(sessions)) == 2


async def test_a_bot_started_late_the_same_day_still_greets(
    runtime: Runtime, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_member(sessions, 101, "王小明")
    assert await send_due_greetings(runtime, shanghai(*SPRING_2026, 23, 55)) == 1


async def test_the_next_day_nothing_is_sent_late_and_stragglers_are_cancelled(
    runtime: Runtime, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_member(sessions, 101, "王小明")
    await add_member(sessions, 102, "李雷")
    assert await send_due_greetings(runtime, shanghai(*SPRING_2026, 9)) == 2
    # The bot stops before delivering; it comes back the next morning.
    assert await send_due_greetings(runtime, shanghai(2026, 2, 18, 0, 5)) == 0
    statuses = {r.key: r.status for r in await outbox_rows(sessions)}
    assert set(statuses.values()) == {"cancelled"}
    # A member registered today missed Spring Festival: not greeted late either.
    await add_member(sessions, 103, "韩梅梅")
    assert await send_due_greetings(runtime, shanghai(2026, 2, 18, 10)) == 0


async def test_start_up_cancels_what_earlier_days_left_unsent(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_member(sessions, 101, "王小明")
    runtime = make_runtime(engine)
    assert await send_due_greetings(runtime, shanghai(*SPRING_2026, 9)) == 1
    runtime.clock.now = shanghai(2026, 3, 20, 7)  # down for a month
    assert await expire_at_start(runtime) == 1
    assert [r.status for r in await outbox_rows(sessions)] == ["cancelled"]


async def test_two_instances_at_once_enqueue_each_greeting_once(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    for n in range(30):
        await add_member(sessions, 1000 + n, f"会员{n}")
    url = engine.url.render_as_string(hide_password=False)
    engines = [make_engine(url), make_engine(url)]
    try:
        instances = [make_runtime(e) for e in engines]
        moment = shanghai(2026, 10, 1, 9, 1)
        made = await asyncio.gather(
            *(send_due_greetings(rt, moment) for rt in instances),
            *(send_due_greetings(rt, moment) for rt in instances),
        )
    finally:
        for e in engines:
            await e.dispose()
    assert sum(made) == 30
    keys = Counter(r.key for r in await outbox_rows(sessions))
    assert len(keys) == 30 and set(keys.values()) == {1}


async def test_audience_inactive_blocked_and_switched_off(
    runtime: Runtime, sessions: async_sessionmaker[AsyncSession]
) -> None:
    retiree = await add_member(sessions, 101, "老张", tags=("退休职工",))
    await add_member(sessions, 102, "小李")
    await add_member(sessions, 103, "老王", tags=("退休职工",), active=False)
    await add_member(sessions, 104, "老赵", tags=("退休职工",), blocked=True)
    # Double Ninth (2026-10-18) goes to retirees by default.
    assert await send_due_greetings(runtime, shanghai(2026, 10, 18, 9)) == 1
    assert [r.member_id for r in await outbox_rows(sessions)] == [retiree]

    async with transaction(sessions) as session:
        await greetings.set_enabled(session, "national_day", False)
        await greetings.set_audience(session, "double_ninth", None)
    assert await send_due_greetings(runtime, shanghai(2026, 10, 1, 9)) == 0
    # Everyone now, but the retiree greeted this morning is not greeted again.
    assert await send_due_greetings(runtime, shanghai(2026, 10, 18, 10)) == 1


async def test_birthdays_including_29_february(
    runtime: Runtime, sessions: async_sessionmaker[AsyncSession]
) -> None:
    leap = await add_member(sessions, 101, "刘强", birthday=date(1988, 2, 29))
    other = await add_member(sessions, 102, "Anna", birthday=date(1991, 2, 28), language="en")
    assert await send_due_greetings(runtime, shanghai(2027, 2, 28, 9)) == 2
    assert await send_due_greetings(runtime, shanghai(2028, 2, 28, 9)) == 1
    assert await send_due_greetings(runtime, shanghai(2028, 2, 29, 9)) == 1
    rows = await outbox_rows(sessions)
    assert sorted(r.key for r in rows) == sorted(
        [
            f"greeting:birthday:2027:{leap}",
            f"greeting:birthday:2027:{other}",
            f"greeting:birthday:2028:{other}",
            f"greeting:birthday:2028:{leap}",
        ]
    )
    texts = {r.key: r.payload["params"]["text"] for r in rows if r.payload}
    assert texts[f"greeting:birthday:2027:{other}"].startswith("🎂 Happy birthday, Anna!")
    assert texts[f"greeting:birthday:2027:{leap}"].startswith("🎂 刘强，生日快乐")
    # Birthdays get ahead of a bulk announcement in the delivery queue.
    assert {r.priority for r in rows} == {outbox.PRIORITY_REMINDER}


async def test_own_text_and_custom_date(
    runtime: Runtime, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await add_member(sessions, 101, "王小明")
    await add_member(sessions, 102, "Mary", language="en")
    async with transaction(sessions) as session:
        founding = await greetings.add_custom(session, "工会成立纪念日", 11, 24)
        await greetings.set_template(
            session, founding.code, "zh_CN", "{name}：{year}年{holiday}，感谢有你！"
        )
    assert await send_due_greetings(runtime, shanghai(2026, 11, 24, 9)) == 2
    texts = {
        r.chat_id: r.payload["params"]["text"] for r in await outbox_rows(sessions) if r.payload
    }
    assert texts == {
        101: "王小明：2026年工会成立纪念日，感谢有你！",
        102: "🎉 Mary, today is 工会成立纪念日. Warm wishes from the union!",
    }


async def test_laba_uses_the_lunar_year_in_its_key(
    runtime: Runtime, sessions: async_sessionmaker[AsyncSession]
) -> None:
    member = await add_member(sessions, 101, "王小明")
    assert await send_due_greetings(runtime, shanghai(2026, 1, 26, 9)) == 1
    assert [r.key for r in await outbox_rows(sessions)] == [f"greeting:laba:2025:{member}"]


async def test_a_year_on_a_controlled_clock_greets_each_occasion_once(
    runtime: Runtime, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Every day of 2026 at 10:00 and 21:00: each occasion once, on its day, birthday included."""
    tags = tuple({spec.default_tag for spec in BUILTIN if spec.default_tag})
    member = await add_member(sessions, 101, "王小明", birthday=date(1990, 7, 1), tags=tags)
    async with transaction(sessions) as session:  # 冬至 and 小年 are off until switched on
        for spec in BUILTIN:
            if not spec.default_enabled:
                await greetings.set_enabled(session, spec.code, True)
    day = date(2026, 1, 1)
    sent_on: dict[str, date] = {}
    while day.year == 2026:
        for hour in (10, 21):
            await send_due_greetings(runtime, shanghai(day.year, day.month, day.day, hour))
        for row in await outbox_rows(sessions):
            sent_on.setdefault(row.key, day)
        day += timedelta(days=1)
    expected = {spec.code for spec in BUILTIN}
    keys = {key.split(":")[1]: key for key in sent_on}
    assert set(keys) == expected and len(sent_on) == len(expected)
    assert sent_on[f"greeting:birthday:2026:{member}"] == date(2026, 7, 1)
    assert sent_on[f"greeting:spring_festival:2026:{member}"] == date(2026, 2, 17)
    assert sent_on[f"greeting:laba:2025:{member}"] == date(2026, 1, 26)
    assert sent_on[f"greeting:xiaonian:2025:{member}"] == date(2026, 2, 10)
    assert sent_on[f"greeting:winter_solstice:2026:{member}"] == date(2026, 12, 22)


async def test_start_up_cancels_the_62_days_before_today_in_one_sweep(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    runtime = make_runtime(engine)
    runtime.clock.now = shanghai(2026, 3, 20, 7)
    today = date(2026, 3, 20)
    cipher = outbox.outbox_cipher(runtime.settings.secret_key)
    message = outbox.payload("sendMessage", text="x")
    backs = (0, 1, 2, 30, 62, 63)
    rows = [
        outbox.Outgoing(
            key=f"g:{back}",
            kind="greeting",
            chat_id=100 + back,
            payload=message,
            group_key=greetings.day_group(today - timedelta(days=back)),
        )
        for back in backs
    ]
    rows.append(outbox.Outgoing(key="other", kind="test", chat_id=1, payload=message))
    async with transaction(runtime.sessions) as session:
        await outbox.enqueue_many(session, rows, now=runtime.now(), cipher=cipher)
    claimed = await outbox.claim(sessions, "w", runtime.now(), 7)
    (held,) = [m for m in claimed if m.key == "g:2"]
    async with transaction(sessions) as session:
        await outbox.release(session, [m for m in claimed if m is not held])
        await outbox.start(session, [held.id], "w", now=runtime.now())
        await outbox.record_sent(session, held, now=runtime.now(), telegram_message_id=1)
    assert await expire_at_start(runtime) == 3  # days 1, 30 and 62; day 2 was sent
    statuses = {r.key: r.status for r in await outbox_rows(sessions)}
    assert statuses == {
        "g:0": "pending",  # today's: still to be sent
        "g:1": "cancelled",
        "g:2": "sent",
        "g:30": "cancelled",
        "g:62": "cancelled",
        "g:63": "pending",  # beyond the sweep, as before (the job's own expiry is 7 days)
        "other": "pending",
    }
