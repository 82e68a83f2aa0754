"""What one update costs the union bot, next to a bare python-telegram-bot bot on the same sandbox.

    .venv/bin/python benchmarks/updates.py                        # SQLite, 300 updates a phase
    .venv/bin/python benchmarks/updates.py --database postgres    # a scratch PostgreSQL database
    .venv/bin/python benchmarks/updates.py --updates 100 --members 30   # quicker
    PATH=$PATH:/path/to/py-spy/bin .venv/bin/python benchmarks/updates.py --profile /tmp/spy

Both bots are real processes polling the sandbox, which runs in this process
and records when each update was queued and when each Bot API call arrived.
The union bot is `union-bot run` (`python -m bot.cli run`) on a scratch
database with ``--members`` registered members (zh_CN), one activity, one
open poll (delivered before anything is measured) and the cadre group. The
bare bot (`--bare`, below) is a PTB `Application` with one `CommandHandler`
answering `/help` with a text of about the same size and a reply keyboard.

Phases, each after a warm-up:

* **/help at ``--rate`` updates/s** (both bots): ``--updates`` `/help`
  messages from the members in turn, queued open-loop at the rate. CPU per
  update is the process's own user + system time (``/proc/<pid>/stat``) over
  the phase ÷ updates; latency is the time from the update's queueing to the
  arrival of the reply's ``sendMessage`` at the sandbox. Printed: ms of CPU
  per update, p50 and p99 latency, and each ÷ the bare bot's.
* **burst** (union bot): ``--burst`` members send ``--burst-each`` `/help` at
  once; the bot's replies per second ÷ Telegram's overall limit (30/s). The
  bot's own limiter (`bot.request`) is a bucket that may let 25 go at once
  (then 29.5/s), and the budget replies book in (`jobs.pacing`) spaces them
  1/30 s apart from the first, so the rate is counted on the steady part, the
  replies after the first 25: (replies − 26) ÷ (last − 26th reply time) ÷ 30;
  1.0 is the limit used in full. 429s are the sandbox's count (it enforces Telegram's limits
  throughout: 30/s overall, a burst of 3 and then 1/s per chat).
* **mixed** (union bot): each member in turn (``--concurrency`` at once)
  taps ❓ 帮助 in the menu, opens the activity by its link and signs up,
  votes in the poll and submits a grievance (six steps); each step waits for
  the bot's answer in that chat. CPU per update as above, including the
  delivery worker's sending of the cadre-group notices the grievances
  queue, as far as they go out during the phase.

Idle CPU (ms per second with nothing to do: polling, the job queue, the
delivery worker) is printed for both; it is included in the figures above.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import statistics
import sys
import tempfile
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.support

from bot.request import reply_limits

UNION_TOKEN = "777000801:BENCH-updates-union-token-abcdefghij"
BARE_TOKEN = "777000802:BENCH-updates-bare-token-abcdefghijk"
SECRET = "bench-secret-key-0123456789abcdef0123456789"
ADMIN_ID = 660_000_000
FIRST_USER = 660_000_001
CADRE_CHAT = -1001660000001
LIMIT = 30.0  # Telegram's overall limit (TELEGRAM_RATE's default), which the sandbox enforces
BUCKET = reply_limits(LIMIT)[0]  # what the bot's limiter lets go at once (bot.request)
SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]
PG_ADMIN = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
SENDING = frozenset({"sendmessage", "sendphoto", "senddocument", "editmessagetext"})
TICK = os.sysconf("SC_CLK_TCK")

BARE_HELP = (
    "<b>Union assistant</b>\n\nUse the menu buttons below, or these commands:\n\n"
    + "\n".join(f"/command{i} — what the command number {i} does" for i in range(12))
    + "\n\nYour grievances are anonymous; links to them are kept for 30 days."
)


# The bare bot ---------------------------------------------------------------------------


def run_bare(api_url: str) -> None:
    """A bare PTB bot: `/help` answered with a text and a reply keyboard, nothing else."""
    from telegram import ReplyKeyboardMarkup, Update
    from telegram.constants import ParseMode
    from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes, Defaults

    keyboard = ReplyKeyboardMarkup(
        [["📅 Activities", "📝 Grievance"], ["🗳 Polls", "📚 Handbook"], ["❓ Help"]],
        resize_keyboard=True,
    )

    async def help_(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(BARE_HELP, reply_markup=keyboard)

    application = (
        ApplicationBuilder()
        .token(BARE_TOKEN)
        .base_url(f"{api_url}/bot")
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .build()
    )
    application.add_handler(CommandHandler("help", help_))
    application.run_polling(allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY])


# Measuring -------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Watch:
    """What the sandbox saw, per bot and chat: calls as they arrive, updates as queued."""

    def __init__(self, server: Any) -> None:
        self.server = server
        calls = server.state.calls
        calls._records = deque(maxlen=2_000_000)  # the whole run, not the last 10,000
        self.last: dict[tuple[int, int], float] = {}  # (bot, chat) → the latest call's end
        self.sends: dict[int, list[tuple[int, float]]] = {}  # bot → (chat, arrival)
        finish = calls.finish

        def noted(record: Any, status: int, description: str | None, **kw: Any) -> None:
            finish(record, status, description, **kw)
            chat = record.params.get("chat_id")
            if chat is None:
                query = record.params.get("callback_query_id")
                chat = self.presses.get(str(query)) if query is not None else None
            if chat is not None:
                self.last[(record.bot_id, int(chat))] = time.monotonic()
                if record.method.lower() in SENDING and 200 <= status < 300:
                    self.sends.setdefault(record.bot_id, []).append((int(chat), record.time))

        calls.finish = noted
        self.presses: dict[str, int] = {}

    def queued_at(self, bot_id: int, update_id: int) -> float:
        return float(self.server.state.bots[bot_id].updates.statuses[update_id].created)

    def rate_limited(self) -> int:
        return int(self.server.state.calls.rate_limited)


async def until(condition: Callable[[], bool], timeout: float, what: str) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.005)


async def answered(watch: Watch, bot_id: int, chat: int, action: Awaitable[Any]) -> Any:
    """Do ``action`` and wait until the bot has answered in that chat and gone quiet there."""
    began = time.monotonic()
    result = await action
    await until(
        lambda: watch.last.get((bot_id, chat), 0.0) > began, 30, f"an answer in chat {chat}"
    )
    await until(lambda: time.monotonic() - watch.last[(bot_id, chat)] > 0.08, 30, "a quiet chat")
    return result


# The scratch database ----------------------------------------------------------------------


async def scratch_database(kind: str, folder: str) -> tuple[str, str | None]:
    from sqlalchemy import text

    from storage.db import make_engine
    from storage.migrate import upgrade

    if kind == "sqlite":
        url, name = f"sqlite+aiosqlite:///{Path(folder) / 'updates.sqlite3'}", None
    else:
        name = f"union_updates_{os.getpid()}_{secrets.token_hex(3)}"
        admin = make_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        await admin.dispose()
        url = f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    engine = make_engine(url)
    await upgrade(engine)
    await engine.dispose()
    return url, name


async def drop_database(name: str) -> None:
    from sqlalchemy import text

    from storage.db import make_engine

    admin = make_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


async def prepare(url: str, members: int) -> int:
    """Members, an activity with room for all, an open poll to everyone; the activity's id."""
    from core.settings import load_settings
    from notices import polls as poll_notices
    from storage import activities, polls
    from storage.db import make_engine, make_session_factory, transaction
    from tests.support.activities import draft
    from tests.support.members import add_members

    engine = make_engine(url)
    sessions = make_session_factory(engine)
    now = datetime.now(UTC)
    await add_members(sessions, telegram_ids=[FIRST_USER + n for n in range(members)])
    async with transaction(sessions) as session:
        activity = await activities.create(
            session,
            draft(now, "篮球友谊赛", capacity=members + 10, starts_in=timedelta(days=5)),
            created_by=None,
            now=now,
        )
        await activities.publish(session, activity.id, now)
        view = await polls.create(
            session,
            polls.PollDraft("食堂改进先做哪一项？", ("延长供应时间", "增加菜品")),
            creator_id=None,
            now=now,
        )
        zone = load_settings(telegram_bot_token=UNION_TOKEN, secret_key=SECRET).tz
        await poll_notices.announce(session, view, now=now, zone=zone)
    await engine.dispose()
    return activity.id


# One bot's life ----------------------------------------------------------------------------


async def start_union(base: str, url: str) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": UNION_TOKEN,
        "TELEGRAM_API_BASE_URL": base,
        "SECRET_KEY": SECRET,
        "DATABASE_URL": url,
        "ADMIN_IDS": str(ADMIN_ID),
        "CADRE_CHAT_ID": str(CADRE_CHAT),
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", cwd=ROOT, env=env
    )


@asynccontextmanager
async def spied(pid: int, folder: str | None, name: str) -> AsyncIterator[None]:
    """With ``--profile``: py-spy samples the process for the block (raw stacks, for a flame
    graph or `grep`), so start-up and idle time stay out of the profile."""
    if folder is None:
        yield
        return
    out = Path(folder) / f"{name}.txt"
    spy = await asyncio.create_subprocess_exec(
        "py-spy",
        "record",
        "-p",
        str(pid),
        "-r",
        "250",
        "-f",
        "raw",
        "-o",
        str(out),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await asyncio.sleep(1)  # attached
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        await spy.wait()


async def start_bare(base: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, str(SCRIPT), "--bare", base, cwd=ROOT
    )


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()


async def idle_cpu(pid: int, seconds: float = 5.0) -> float:
    """ms of CPU per second the process spends with nothing to do."""
    before = cpu_seconds(pid)
    await asyncio.sleep(seconds)
    return (cpu_seconds(pid) - before) / seconds * 1000


async def help_phase(
    watch: Watch, driver: Any, pid: int, users: list[Any], count: int, rate: float
) -> tuple[float, list[float]]:
    """``count`` /help at ``rate``/s open-loop; CPU ms per update and the latencies (s)."""
    bot_id = driver.bot_id
    sent: list[tuple[int, int]] = []  # (update, chat)
    cpu_before = cpu_seconds(pid)
    start = time.monotonic()

    async def one(i: int) -> None:
        await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
        user = users[i % len(users)]
        message = await user.send("/help")
        sent.append((message.update_id, user.id))

    await asyncio.gather(*(one(i) for i in range(count)))
    answered_chats = watch.sends.setdefault(bot_id, [])

    def all_answered() -> bool:
        return len(latencies()) == count

    def latencies() -> list[float]:
        replies: dict[int, list[float]] = {}
        for chat, at in answered_chats:
            replies.setdefault(chat, []).append(at)
        found = []
        for update_id, chat in sent:
            queued = watch.queued_at(bot_id, update_id)
            after = [at for at in replies.get(chat, []) if at >= queued]
            if after:
                found.append(min(after) - queued)
        return found

    await until(all_answered, 60, "every /help answered")
    await asyncio.sleep(0.3)  # the last reply's own bookkeeping
    cpu = (cpu_seconds(pid) - cpu_before) / count * 1000
    # Each update's reply is the first send in its chat after it was queued; updates of one
    # chat are 1/rate × members apart, far more than any reply takes, so none is mistaken.
    return cpu, latencies()


async def burst_phase(
    watch: Watch, driver: Any, users: list[Any], each: int
) -> tuple[int, float, int]:
    """Every user sends ``each`` /help at once; replies, their rate ÷ the limit, 429s.

    No users (``--burst 0``) or none each: no burst, no replies, a rate of nan."""
    if not users or each <= 0:
        return 0, float("nan"), 0
    bot_id = driver.bot_id
    limited = watch.rate_limited()
    sends = watch.sends.setdefault(bot_id, [])
    first = len(sends)
    began = time.time()
    await asyncio.gather(*(u.send("/help") for u in users for _ in range(each)))
    expected = len(users) * each
    await until(lambda: len(sends) - first >= expected, 120 + expected / LIMIT, "burst replies")
    times = sorted(at for _, at in sends[first:] if at >= began)
    # Fewer replies than the bucket holds say nothing about the rate: nan.
    steady = times[BUCKET:]
    span = steady[-1] - steady[0] if len(steady) > BUCKET else 0.0
    achieved = (len(steady) - 1) / span / LIMIT if span > 0 else float("nan")
    return len(times), achieved, watch.rate_limited() - limited


async def mixed_phase(
    watch: Watch, driver: Any, pid: int, users: list[Any], activity_id: int, concurrency: int
) -> tuple[float, int]:
    """Menu, sign-up, vote and grievance for each user; CPU ms per update and updates."""
    bot_id = driver.bot_id
    updates = 0
    gate = asyncio.Semaphore(concurrency)

    async def walk(user: Any) -> None:
        nonlocal updates
        chat = user.id

        async def step(action: Awaitable[Any]) -> Any:
            nonlocal updates
            updates += 1
            return await answered(watch, bot_id, chat, action)

        async with gate:
            await step(user.send("❓ 帮助"))
            await step(user.send(f"/start act_{activity_id}"))
            card = await newest_with(user, "篮球友谊赛")
            press = user.press_data(card.message_id, _data(card.keyboard[0][0]))
            await step(_pressing(watch, press, chat))
            poll = await newest_with(user, "食堂改进")
            press = user.press_data(poll.message_id, _data(poll.keyboard[0][0]))
            await step(_pressing(watch, press, chat))
            for text in ("📝 提交诉求", "💰 工资", "🟢 普通", "食堂的饭菜越来越贵了。"):
                await step(user.send(text))
            await step(user.send("✅ 添加完毕"))
            await step(user.send("✅ 匿名发送"))

    cpu_before = cpu_seconds(pid)
    await asyncio.gather(*(walk(u) for u in users))
    return (cpu_seconds(pid) - cpu_before) / updates * 1000, updates


async def newest_with(user: Any, needle: str) -> Any:
    """The bot's newest message in the chat that has ``needle`` and buttons."""
    found = [m for m in await user.bot_messages() if needle in (m.text or "") and m.keyboard]
    if not found:
        raise LookupError(f"no message with {needle!r} and buttons")
    return found[-1]


def _data(button: dict[str, Any]) -> str:
    return str(button["callback_data"])


async def _pressing(watch: Watch, press: Awaitable[Any], chat: int) -> Any:
    """Press, and let the watch know whose chat the callback query's answer belongs to."""
    result = await press
    watch.presses[str(result.callback_query_id)] = chat
    return result


# The run -----------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> None:
    from sandbox import SandboxDriver, SandboxOptions, SandboxServer

    server = SandboxServer(
        SandboxOptions(
            port=0,
            bots={UNION_TOKEN: "UnionBenchBot", BARE_TOKEN: "BareBenchBot"},
            enforce_limits=True,
        )
    )
    base = await server.start()
    watch = Watch(server)
    folder = tempfile.mkdtemp()
    url, scratch = await scratch_database(args.database, folder)
    try:
        activity_id = await prepare(url, args.members)
        async with (
            SandboxDriver(base, UNION_TOKEN, auto_settle=False) as union_driver,
            SandboxDriver(base, BARE_TOKEN, auto_settle=False) as bare_driver,
        ):
            admin = await union_driver.create_user("Admin", user_id=ADMIN_ID)
            await union_driver.create_group("工会干部群", chat_id=CADRE_CHAT, members=[])
            union_users = [
                await union_driver.create_user(f"会员{n}", user_id=FIRST_USER + n)
                for n in range(args.members)
            ]
            bare_users = [await bare_driver.user(u.id) for u in union_users]
            figures: dict[str, Any] = {}

            bare = await start_bare(base)
            try:
                await until(lambda: server.state.bots[bare_driver.bot_id].listening, 60, "bare")
                await help_phase(watch, bare_driver, bare.pid, bare_users, 30, args.rate)
                figures["bare idle"] = await idle_cpu(bare.pid)
                figures["bare"] = await help_phase(
                    watch, bare_driver, bare.pid, bare_users, args.updates, args.rate
                )
            finally:
                await stop(bare)

            # Telegram delivers to a member only once they started the chat (the poll, too).
            for user in [admin, *union_users]:
                await user.send("/help")
            union = await start_union(base, url)
            try:
                await union_driver.wait_for(union_driver.commands, timeout=60, what="start-up")
                polls_out = [(u.id, "食堂改进") for u in union_users]
                await until(
                    lambda: all(_has(server, union_driver.bot_id, *p) for p in polls_out),
                    120,
                    "the poll delivered",
                )
                await help_phase(watch, union_driver, union.pid, union_users, 30, args.rate)
                figures["union idle"] = await idle_cpu(union.pid)
                async with spied(union.pid, args.profile, "help"):
                    figures["union"] = await help_phase(
                        watch, union_driver, union.pid, union_users, args.updates, args.rate
                    )
                await asyncio.sleep(2)  # the per-chat limiter's bucket full again
                figures["burst"] = await burst_phase(
                    watch, union_driver, union_users[: args.burst], args.burst_each
                )
                await asyncio.sleep(2)
                async with spied(union.pid, args.profile, "mixed"):
                    figures["mixed"] = await mixed_phase(
                        watch, union_driver, union.pid, union_users, activity_id, args.concurrency
                    )
            finally:
                await stop(union)
    finally:
        await server.stop()
        if scratch is not None:
            await drop_database(scratch)
    report(args, figures)


def _has(server: Any, bot_id: int, chat: int, needle: str) -> bool:
    record = server.state.private.get((bot_id, chat))
    return record is not None and any(needle in (m.text or "") for m in record.messages.values())


def report(args: argparse.Namespace, figures: dict[str, Any]) -> None:
    bare_cpu, bare_lat = figures["bare"]
    union_cpu, union_lat = figures["union"]
    mixed_cpu, mixed_updates = figures["mixed"]
    replies, achieved, limited = figures["burst"]
    b50, b99 = quantile(bare_lat, 0.5) * 1000, quantile(bare_lat, 0.99) * 1000
    u50, u99 = quantile(union_lat, 0.5) * 1000, quantile(union_lat, 0.99) * 1000
    print(
        f"database {args.database}, {args.members} members, /help at {args.rate:g}/s, "
        f"{args.updates} updates a phase; load average at the end "
        + " ".join(f"{x:.1f}" for x in os.getloadavg())
        + f" on {os.cpu_count()} CPUs"
    )
    print(f"{'':<22}{'CPU ms/update':>14}{'p50 ms':>9}{'p99 ms':>9}{'idle ms/s':>11}")
    print(
        f"{'bare PTB /help':<22}{bare_cpu:>14.2f}{b50:>9.1f}{b99:>9.1f}"
        f"{figures['bare idle']:>11.1f}"
    )
    print(
        f"{'union /help':<22}{union_cpu:>14.2f}{u50:>9.1f}{u99:>9.1f}{figures['union idle']:>11.1f}"
    )
    print(f"{'union mixed':<22}{mixed_cpu:>14.2f}   ({mixed_updates} updates)")
    print(
        f"CPU ÷ bare: /help {union_cpu / bare_cpu:.2f}× (target ≤ 1.5), "
        f"mixed {mixed_cpu / bare_cpu:.2f}× (target ≤ 2.5)"
    )
    print(
        f"p99 latency ÷ bare: {u99 / b99:.2f}× (target ≤ 2), mean {statistics.fmean(union_lat) * 1000:.1f} ms"
    )
    print(
        f"burst: {args.burst} members × {args.burst_each}: {replies} replies, "
        f"rate ÷ limit {achieved:.3f} (target ≥ 0.95), 429s {limited} (target 0)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bare", metavar="API_URL", help=argparse.SUPPRESS)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--updates", type=int, default=300)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--burst", type=int, default=50)
    parser.add_argument("--burst-each", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=5)
    parser.add_argument(
        "--profile", metavar="DIR", help="py-spy the union bot's phases into DIR (py-spy on PATH)"
    )
    args = parser.parse_args()
    if args.bare:
        run_bare(args.bare)
        return
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
