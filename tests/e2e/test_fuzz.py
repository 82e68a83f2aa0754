"""Random updates through the sandbox never crash, stall or flood the bot.

Hypothesis draws batches of what members, strangers and a broken Telegram could
send: random Unicode and 5,000-character text, commands with junk arguments,
photos, files and voice notes, edits, channel posts, button presses with random,
empty, huge-id and forged data for every button kind, unknown users and groups,
and updates the library cannot parse. The bot answers them all: no traceback or
error in its log, every press no button could carry is answered "this button is
no longer valid" with nothing changed, and a new member is still answered at
the end. 1,500 updates on SQLite, 300 on PostgreSQL, in a fixed (derandomized)
order so a failure can be replayed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from sqlalchemy import select

from core.i18n import translator
from display import callbacks as cb
from sandbox.driver import SandboxDriver, SandboxError, SandboxUser
from storage.models import Base
from tests.support.bot import BotHarness
from tests.support.chat import register
from tests.support.config import ADMIN_ID, CADRE_CHAT, TOKEN
from tests.support.media import PNG

BATCH = 30
# UNION_FUZZ_SEED=<n> draws other batches (the default order is fixed, to replay failures).
SEED = os.environ.get("UNION_FUZZ_SEED")
BATCHES = {"sqlite": 50, "postgresql": 10}  # 1,500 and 300 updates
STALE = ("这个按钮已失效", "This button is no longer valid")
# Loggers of the bot's side; the sandbox's own (access log, control API) are not the bot's.
NOT_THE_BOT = ("aiohttp", "sandbox")

# ---------------------------------------------------------------- strategies

HUGE = st.sampled_from(
    [2**31 - 1, 2**31, -(2**31) - 1, 2**32, 2**63 - 1, 2**63, 10**18, 10**19 - 1, 9999999999]
)
NUMBER = st.one_of(st.integers(0, 5), st.integers(-3, 2**31 + 3), HUGE)
WORD = st.one_of(
    st.from_regex(r"[a-z0-9_-]{1,8}", fullmatch=True),
    st.sampled_from(["zh_CN", "en", "name", "dept", "bday", "admin", "cadre", "all", "csv"]),
)


@st.composite
def forged_data(draw: st.DrawFn) -> str:
    """Data shaped like one of the bot's buttons, with any values and maybe spoiled."""
    action = draw(st.sampled_from(cb.all_actions()))
    values = [draw(WORD if limit is None else NUMBER) for limit in action.ranges]
    data = ":".join([action.prefix, *(str(v) for v in values)])
    return data + draw(st.sampled_from(["", "", "", "\n", ":", " ", ":1"]))


CALLBACK_DATA = st.one_of(
    forged_data(),
    st.text(max_size=64),
    st.just(""),
    st.sampled_from(["lang:en\n", "amone:1234567890123456789:0", "x" * 200]),
)
TEXT = st.one_of(
    st.text(min_size=1, max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=40),
)


LONG = 5000  # characters: past Telegram's 4096; built from a short seed when sent


@dataclass
class World:
    """The people and chats the batches act in, and what was sent so far."""

    users: list[SandboxUser]
    chats: dict[int, list[int]]  # user id -> chats they may write in
    labels: list[str]
    commands: list[str]
    last_sent: dict[int, int] = field(default_factory=dict)  # user id -> a message id of theirs
    refused: list[str] = field(default_factory=list)  # steps the sandbox refused
    sequence: int = 0


def steps(world: World) -> st.SearchStrategy[tuple[Any, ...]]:
    people = st.integers(0, len(world.users) - 1)
    command = st.builds(
        lambda name, at, junk: f"/{name}{'@UnionSandboxBot' if at else ''} {junk}".rstrip(),
        st.one_of(st.sampled_from(world.commands), st.from_regex(r"[a-z_]{1,12}", fullmatch=True)),
        st.booleans(),
        st.one_of(st.just(""), st.text(max_size=80)),
    )
    words = st.one_of(TEXT, st.sampled_from(world.labels), command)
    return st.one_of(
        st.tuples(st.just("text"), people, st.integers(0, 2), words),
        st.tuples(st.just("command"), people, st.integers(0, 2), command),
        st.tuples(
            st.just("media"),
            people,
            st.sampled_from(["photo", "document", "voice"]),
            st.one_of(st.none(), TEXT),
        ),
        st.tuples(st.just("edit"), people, words),
        st.tuples(st.just("press"), people, CALLBACK_DATA),
        st.tuples(st.just("press"), people, forged_data()),
        st.tuples(st.just("long"), people, st.text(min_size=1, max_size=5)),
        st.tuples(st.just("kind"), people, st.sampled_from(sorted(OTHER_KINDS))),
        st.tuples(st.just("block"), st.integers(3, len(world.users) - 1)),
        st.tuples(st.just("channel"), TEXT),
        st.tuples(st.just("broken"), st.integers(0, 4), TEXT),
        st.tuples(st.just("stranger"), TEXT, st.sampled_from([None, "en", "zh-hans", "xx"]), words),
    )


# ---------------------------------------------------------------- running steps


@dataclass
class Sent:
    update_id: int | None  # None: the bot is not shown it (Telegram would not either)
    press: str | None = None  # the callback query id of a press
    data: str | None = None


async def _last_bot_message(user: SandboxUser) -> int | None:
    found = await user.bot_messages()
    return found[-1].message_id if found else None


def _raw_message(world: World, user: SandboxUser, text: str) -> dict[str, Any]:
    world.sequence += 1
    person = {"id": user.id, "is_bot": False, "first_name": user.first_name}
    return {
        "message": {
            "message_id": 10**7 + world.sequence,
            "date": 1_800_000_000,
            "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
            "from": person,
            "text": text,
        }
    }


_FILE = {"file_id": "AgAD-fuzz", "file_unique_id": "fuzz"}
# Message kinds the sandbox's chat cannot make, sent as Telegram would send them.
OTHER_KINDS: dict[str, Any] = {
    "sticker": {
        **_FILE,
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "type": "regular",
    },
    "location": {"latitude": 31.2, "longitude": 121.5},
    "contact": {"phone_number": "+8613800000000", "first_name": "某人"},
    "video": {**_FILE, "width": 1, "height": 1, "duration": 1},
    "animation": {**_FILE, "width": 1, "height": 1, "duration": 1},
    "video_note": {**_FILE, "length": 1, "duration": 1},
    "audio": {**_FILE, "duration": 1},
    "dice": {"emoji": "🎲", "value": 3},
    "venue": {"location": {"latitude": 1.0, "longitude": 2.0}, "title": "厂", "address": "路"},
    "poll": {
        "id": "1",
        "question": "?",
        "options": [{"text": "a", "voter_count": 0}],
        "total_voter_count": 0,
        "is_closed": False,
        "is_anonymous": True,
        "type": "regular",
        "allows_multiple_answers": False,
    },
    "new_chat_title": "新名字",
}


def _broken(variant: int, text: str) -> dict[str, Any]:
    """Updates the library cannot parse: fields missing or of the wrong type."""
    return [
        {"message": {"text": text, "from": {"id": 555000555}}},
        {"message": {"message_id": "x", "date": "today", "chat": "nope", "text": text}},
        {"callback_query": {"data": text}},
        {"edited_message": [text]},
        {"message": {"message_id": 1, "date": 1, "chat": {"id": 5}, "text": text}},
    ][variant]


async def run_step(world: World, step: tuple[Any, ...], driver: SandboxDriver) -> Sent | None:
    kind = step[0]
    try:
        if kind == "channel":
            fields = {
                "channel_post": {
                    "message_id": 1,
                    "date": 1_800_000_000,
                    "chat": {"id": -1009999999999, "type": "channel", "title": "频道"},
                    "text": step[1],
                }
            }
            return Sent(await driver.inject_update(fields, settle=False))
        if kind == "broken":
            return Sent(await driver.inject_update(_broken(step[1], step[2]), settle=False))
        if kind == "stranger":
            _, name, language, words = step
            user = await driver.create_user(name[:64] or "?", language_code=language)
            sent = await user.send(words)
            return Sent(sent.update_id)
        user = world.users[step[1]]
        if kind in ("text", "command"):
            chats = world.chats[user.id]
            sent = await user.send(step[3], chat=chats[step[2] % len(chats)])
            world.last_sent[user.id] = sent.message_id
            return Sent(sent.update_id)
        if kind == "media":
            _, _, media, caption = step
            if media == "photo":
                sent = await user.send_photo(PNG, caption=caption)
            elif media == "document":
                sent = await user.send_document(secrets.token_bytes(64), "x.bin", caption=caption)
            else:
                sent = await user.send_voice(secrets.token_bytes(64), caption=caption, duration=3)
            return Sent(sent.update_id)
        if kind == "edit":
            mine = world.last_sent.get(user.id)
            if mine is None:
                return None
            return Sent((await user.edit(mine, step[2])).update_id)
        if kind == "kind":
            fields = _raw_message(world, user, "")
            del fields["message"]["text"]
            fields["message"][step[2]] = OTHER_KINDS[step[2]]
            return Sent(await driver.inject_update(fields, settle=False))
        if kind == "block":
            await user.block_bot()
            await user.unblock_bot()
            return None
        if kind == "long":
            return Sent(
                await driver.inject_update(_raw_message(world, user, step[2]), settle=False)
            )
        if kind == "press":
            message_id = await _last_bot_message(user)
            if message_id is None:
                return None
            data = step[2]
            odd = not data or len(data.encode()) > cb.MAX_BYTES
            press = await user.press_data(message_id, data, unchecked=odd)
            return Sent(press.update_id, press.callback_query_id, data)
    except SandboxError as error:
        # The sandbox refuses what Telegram would (empty text, a caption too long);
        # such a step never reaches the bot.
        world.refused.append(f"{kind}: {error}")
        return None
    raise AssertionError(f"unknown step {kind}")


async def run_batch(
    bot: BotHarness, world: World, driver: SandboxDriver, batch: list[tuple[Any, ...]]
) -> None:
    done = [await run_step(world, step, driver) for step in batch]
    sent = [s for s in done if s is not None and s.update_id is not None]
    for item in sent:
        await bot.tracker.wait(item.update_id, limit=60)
    for item in sent:
        if item.press is None:
            continue
        answer = await driver.request("GET", f"/callbacks/{item.press}")
        assert answer["answered"], ("a press left spinning", item.data)
        if not cb.is_valid(item.data):
            assert answer["show_alert"], (item.data, answer)
            assert any(s in (answer["text"] or "") for s in STALE), (item.data, answer)


# ---------------------------------------------------------------- the test


async def database_dump(bot: BotHarness) -> dict[str, list[tuple[Any, ...]]]:
    dump: dict[str, list[tuple[Any, ...]]] = {}
    async with bot.runtime.sessions() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).all()
            dump[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return dump


async def setup_world(bot: BotHarness, driver: SandboxDriver) -> World:
    admin = await bot.driver.user(ADMIN_ID)
    member = await bot.driver.create_user("王小明")
    await register(bot, member)
    cadre = await bot.driver.create_user("李干事")
    await register(bot, cadre, "李干事")
    await bot.driver.add_member(CADRE_CHAT, cadre)
    await bot.driver.add_member(CADRE_CHAT, admin)
    stranger = await bot.driver.create_user("陌生人")
    english = await bot.driver.create_user("Stranger", language_code="en")
    foreign = await bot.driver.create_group("随便一个群", members=[member, stranger])
    for user in (admin, stranger, english):
        await user.send("/start")  # a bot message to press buttons on
    people = [admin, member, cadre, stranger, english]
    chats = {
        admin.id: [admin.id, CADRE_CHAT],
        member.id: [member.id, foreign.id],
        cadre.id: [cadre.id, CADRE_CHAT],
        stranger.id: [stranger.id, foreign.id],
        english.id: [english.id],
    }
    zh = translator("zh_CN")
    labels = [zh.gettext(item.label) for item in bot.runtime.menu]
    labels += ["✖️ 取消", "⏭ 跳过", "✅ 确认", "🛠 管理"]
    commands = sorted({spec.name for spec in bot.runtime.commands} | {"start", "cancel", "help"})
    fast = [SandboxUser(driver, {"id": u.id, "first_name": u.first_name}) for u in people]
    return World(fast, chats, labels, commands)


def bot_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if not r.name.startswith(NOT_THE_BOT)]


async def test_random_updates_never_crash_stall_or_flood(
    bot: BotHarness, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    loop = asyncio.get_running_loop()
    async with SandboxDriver(bot.driver.base_url, TOKEN, auto_settle=False) as driver:
        world = await setup_world(bot, driver)
        before_fuzz = len(caplog.records)

        @settings(
            max_examples=BATCHES[backend],
            deadline=None,
            derandomize=SEED is None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(st.lists(steps(world), min_size=BATCH, max_size=BATCH))
        def one_batch(batch: list[tuple[Any, ...]]) -> None:
            asyncio.run_coroutine_threadsafe(run_batch(bot, world, driver, batch), loop).result()

        if SEED is not None:
            one_batch = seed(int(SEED))(one_batch)
        await asyncio.to_thread(one_batch)

        # Forged presses change nothing: the same kinds of data, pressed by the
        # admin (who may do the most), leave every table as it was.
        admin = world.users[0]
        message_id = await _last_bot_message(admin)
        assert message_id is not None
        dump = await database_dump(bot)
        forged = [
            "",
            "lang:en\n",
            "amone:1234567890123456789:0",
            "arole:2147483648:admin",
            "adepx:-2147483649",
            "bcstpy:9223372036854775808",
            "gvresy:99999999999",
            "pv:1:32768",
            "pdelx:1\n",
            "acck:1:",
            "trck:٣",
        ]
        for data in forged:
            press = await admin.press_data(message_id, data, unchecked=not data)
            await bot.tracker.wait(press.update_id, limit=60)
            answer = await driver.request("GET", f"/callbacks/{press.callback_query_id}")
            assert any(s in (answer["text"] or "") for s in STALE), (data, answer)
        assert await database_dump(bot) == dump

        # Still polling and quick: a new member is answered.
        newcomer = await driver.create_user("新来的")
        await newcomer.send("/start")

        async def answered() -> bool:
            return bool(await newcomer.bot_messages())

        # Issue 11 asks for 2 s; the limit is generous for a busy test machine.
        await driver.wait_for(answered, timeout=10, what="the answer to a new member")

    records = bot_records(caplog)[before_fuzz:]
    failures = [r for r in records if r.levelno >= logging.ERROR or r.exc_info]
    assert not failures, "\n".join(f"{r.name}: {r.getMessage()}" for r in failures[:20])
    assert "Traceback" not in "\n".join(r.getMessage() for r in records)
    text = "\n".join(r.getMessage() for r in records)
    for user in world.users:
        assert str(user.id) not in text, "a member's id is in the log"
    assert "555000555" not in text  # the id inside an unparseable update
