"""A union of 100,000 members: the real bot's start-up, memory and reply latencies, printed.

    .venv/bin/python benchmarks/scale.py                       # SQLite and PostgreSQL
    .venv/bin/python benchmarks/scale.py --database sqlite
    .venv/bin/python benchmarks/scale.py --quick               # 10,000 members, fewer taps
    .venv/bin/python benchmarks/scale.py --startup-only        # seed, then start-ups only

Builds, with bulk inserts through the storage models in a scratch database
(`benchmarks/scratch.py`): 100,000 members, 12 months of history (the seeding of
`benchmarks/report.py`: 240 past activities with their sign-ups and ratings,
trainings, polls with ballots, pulse answers), 760 upcoming activities (1,000
in all) and 10,000 grievance cases whose link, department and text are sealed
with `storage.grievances.Sealer` as `create_case` seals them, each with its
first message. The outbox holds what 12 months leave there (`seed_start_up_history`:
6 broadcasts to every member, sent; 62 days of birthday greetings, sent, but
yesterday's still pending, as a bot down overnight leaves them; 600 rows a crashed
worker had in hand) and the conversations table 2,000 live conversations and 2,000
that expired while the bot was down: what the start-up sweeps, recovers and loads.
Then starts the real bot (`union-bot run`, long polling) against the sandbox in
this process and prints:

* start-up: from spawning the process to the answer to a `/help` that was
  waiting for it (target < 3 s), and the bot's CPU until then (`--startup-only`:
  that alone, for the first start after the crash and for `--restarts` more);
* resident memory of the bot process, VmHWM (peak) and VmRSS (now) from
  /proc, after all the phases (target < 200 MB);
* p50/p99 latency, from the update being queued in the sandbox to the bot's
  answer arriving there, of: the main menu (`/start`), the activity list
  (`🎉 活动`), its next page (a tap: answered and redrawn), an activity card
  (`/start act_…`), a sign-up (the tap on ✅ 报名: answered and redrawn), a vote
  (the tap's answerCallbackQuery) and `/report` (its first message, and all of
  it: text, charts, workbook);
* a poll rush: a poll sent to 10,000 members (a department of theirs; the bot
  delivers it), then each of them taps an option, the taps spread evenly over
  60 s: p50/p99 of the tap's answer, and from the database that every vote was
  counted once (ballots = voters = tally).

The sandbox enforces Telegram's limits (1000 msg/s overall, as for paid
broadcasts, so the poll's delivery is quick; 1/s per chat). Each run is bounded:
every wait has a timeout, and a missed answer counts as a failure, not a hang.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import _seed  # the 12 months of history, shared with the report benchmark
from scratch import bulk, scratch_database
from sqlalchemy import func, insert, select, update

from display import callbacks as cb
from notices import polls as poll_notices
from sandbox import SandboxOptions, SandboxServer
from sandbox.events import Event
from sandbox.state import ChatRecord, MessageRecord
from storage import conversations, grievances, polls
from storage.audiences import Audience
from storage.broadcasts import KIND as BROADCAST_KIND
from storage.db import make_session_factory, transaction
from storage.greetings import day_group
from storage.models import (
    Activity,
    ConversationState,
    Department,
    Grievance,
    GrievanceMessage,
    Member,
    Outbox,
    Poll,
    PollBallot,
    Role,
)

TOKEN = "777000555:BENCH-scale-token-abcdefghijklmnopq"
BOT_ID = 777000555
SECRET = "bench-scale-secret-0123456789abcdef0123456789"
FIRST_TELEGRAM = 600_000_000  # report._seed's members: 600_000_000 + n
ZONE = ZoneInfo("Asia/Shanghai")
ROOT = Path(__file__).resolve().parent.parent
WAIT = 20.0
RUSH_WAIT = 300.0  # a tap of the poll rush: a backlog is measured, not cut off  # the longest any one answer is waited for


# Seeding ------------------------------------------------------------------------------


@dataclass
class Seeded:
    admin: int  # Telegram ids
    voters: list[int]
    browsers: list[int]
    department: int
    upcoming: list[int]  # activity ids, soonest first
    seconds: float


def _case_rows(n: int, opened: datetime, category: int, link: str) -> dict[str, Any]:
    """One case's columns, in the statuses and times `benchmarks/report.py` uses."""
    return {
        "code": f"B{n:09d}",
        "category_id": category,
        "urgency": "normal",
        "status": ("new", "taken", "answered", "resolved", "closed")[n % 5],
        "link": link,
        "created_at": opened,
        "take_due_at": opened + timedelta(hours=24),
        "answer_due_at": opened + timedelta(hours=72),
        "taken_at": opened + timedelta(hours=1 + n % 30) if n % 5 else None,
        "answered_at": opened + timedelta(hours=20 + n % 90) if n % 5 > 1 else None,
        "rating": 1 + n % 5 if n % 5 > 2 else None,
        "rated_at": opened + timedelta(hours=100) if n % 5 > 2 else None,
        "message_count": 1,
    }


async def seed(
    sessions: Any, members: int, activities: int, cases: int, voters: int, browsers: int
) -> Seeded:
    """History, upcoming activities, sealed cases, a department of voters, an admin."""
    began = time.perf_counter()
    await _seed(sessions, members, 0)
    now = datetime.now(UTC)
    sealer = grievances.sealer_for(SECRET)
    async with transaction(sessions) as session:
        past = await session.scalar(select(func.count()).select_from(Activity)) or 0
        rows = []
        for n in range(max(0, activities - past)):
            begins = now + timedelta(days=2 + n // 8, hours=n % 8)
            rows.append(
                {
                    "title": f"活动 {n + 1}",
                    "description": "职工活动",
                    "place": "职工活动中心",
                    "starts_at": begins,
                    "ends_at": begins + timedelta(hours=2),
                    "signup_deadline": begins - timedelta(hours=3),
                    "capacity": 200,
                    "seats_taken": 0,
                    "tickets": 0,
                    "guests_allowed": False,
                    "audience": Audience(everyone=True).to_json(),
                    "status": "published",
                    "checkin_code": "123456",
                    "schedule_version": 1,
                    "created_at": now - timedelta(days=1),
                    "updated_at": now - timedelta(days=1),
                    "published_at": now - timedelta(days=1),
                }
            )
        await bulk(session, insert(Activity), rows)
        upcoming = list(
            await session.scalars(
                select(Activity.id).where(Activity.starts_at > now).order_by(Activity.starts_at)
            )
        )
        department = Department(name="装配车间", created_at=now)
        session.add(department)
        await session.flush()
        ids = list(await session.scalars(select(Member.id).order_by(Member.id)))
        await session.execute(update(Member).where(Member.id == ids[0]).values(role=Role.ADMIN))
        await session.execute(
            update(Member)
            .where(Member.id.in_(ids[1 : 1 + voters]))
            .values(department_id=department.id)
        )
        categories = [c.id for c in await grievances.list_categories(session, active_only=False)]
        year_ago = now - timedelta(days=365)
        case_rows = []
        for n in range(cases):
            code = f"B{n:09d}"
            author = ids[(n * 7919) % len(ids)]
            opened = year_ago + timedelta(minutes=52 * n)
            # Sealed as `grievances.create_case` seals them: the author and the text.
            case_rows.append(
                _case_rows(
                    n, opened, categories[n % len(categories)], sealer.seal_link(code, author)
                )
            )
        await bulk(session, insert(Grievance), case_rows)
        opened_at = {
            code: (gid, at)
            for gid, code, at in await session.execute(
                select(Grievance.id, Grievance.code, Grievance.created_at)
            )
        }
        await bulk(
            session,
            insert(GrievanceMessage),
            [
                {
                    "grievance_id": gid,
                    "seq": 1,
                    "author": "member",
                    "kind": "text",
                    "body": sealer.seal(code, "message:1", f"车间的情况说明 {code}"),
                    "created_at": at,
                }
                for code, (gid, at) in opened_at.items()
            ],
        )
    telegram = [FIRST_TELEGRAM + n for n in range(members)]  # in member id order
    await seed_start_up_history(sessions, list(zip(ids, telegram, strict=True)), now)
    return Seeded(
        admin=telegram[0],
        voters=telegram[1 : 1 + voters],
        browsers=telegram[1 + voters : 1 + voters + browsers],
        department=department.id,
        upcoming=upcoming,
        seconds=time.perf_counter() - began,
    )


def _outbox_row(
    key: str, group: str | None, member: tuple[int, int], status: str, at: datetime, **more: Any
) -> dict[str, Any]:
    final = status in ("sent", "blocked")
    return {
        "key": key,
        "kind": more.pop("kind", BROADCAST_KIND),
        "chat_id": member[1],
        "member_id": member[0],
        "group_key": group,
        "payload": {"method": "sendMessage", "params": {"text": "工会通知"}},
        "priority": 100,
        "not_before": at,
        "status": status,
        "attempts": 1 if final else 0,
        "created_at": at,
        "sent_at": at if status == "sent" else None,
        "finished_at": at if final else None,
        "at_most_once": True,
        **more,
    }


async def seed_start_up_history(
    sessions: Any, members: list[tuple[int, int]], now: datetime, *, broadcasts: int = 6
) -> None:
    """What a year leaves in the outbox and conversations (member id, Telegram id pairs)."""
    for b in range(broadcasts):
        at = now - timedelta(days=60 * b + 30)
        async with transaction(sessions) as session:
            await bulk(
                session,
                insert(Outbox),
                [
                    _outbox_row(f"bench:b{b}:{m[0]}", f"bench:broadcast:{b}", m,
                                "sent" if n % 50 else "blocked", at)
                    for n, m in enumerate(members)
                ],
            )  # fmt: skip
    per_day = max(1, len(members) // 365)
    rows = []
    today = now.astimezone(ZONE).date()
    for back in range(63):
        day = today - timedelta(days=back)
        status = "pending" if back == 1 else "sent"  # yesterday's missed: the bot was down
        for n in range(per_day):
            member = members[(back * per_day + n) % len(members)]
            rows.append(_outbox_row(f"bench:g{day}:{member[0]}", day_group(day), member, status,
                                    now - timedelta(days=back), kind="greeting"))  # fmt: skip
    stale = now - timedelta(hours=1)
    for n in range(600):  # a crashed worker's: started, at most once, so never resent
        rows.append(_outbox_row(f"bench:crash:{n}", None, members[(7 * n) % len(members)],
                                "sending", stale, claimed_by="crashed", claimed_at=stale))  # fmt: skip
    sealer = conversations.Sealer(SECRET)
    states = []
    for n in range(min(4000, len(members) // 2)):  # the last members: none browses or votes
        telegram_id = members[-1 - n][1]
        expires = now + timedelta(minutes=20) if n % 2 else now - timedelta(minutes=1 + n % 600)
        for key, sealed in (
            sealer.seal_conversation(
                conversations.ConversationRow(
                    "profile_edit", (telegram_id, telegram_id), 1, expires
                )
            ),
            sealer.seal_user(conversations.UserRow(telegram_id, {"draft_profile_field": "name"})),
        ):
            states.append(
                {"key": key, "sealed": sealed, "expires_at": conversations.coarse(expires)}
            )
    async with transaction(sessions) as session:
        await bulk(session, insert(Outbox), rows)
        await bulk(session, insert(ConversationState), states)


# Watching the sandbox -----------------------------------------------------------------


class Watch:
    """Futures resolved by the sandbox's events, at the moment the bot's request arrived."""

    def __init__(self, server: SandboxServer) -> None:
        self.waiters: dict[int, list[tuple[Callable[[Event], bool], asyncio.Future[float]]]] = {}
        self.first_call: dict[str, float] = {}  # method → when the bot's first such call ended
        events = server.state.events
        original = events.emit

        def emit(type_: str, chat_id: int | None = None, **data: Any) -> Event:
            event = original(type_, chat_id, **data)
            if type_ == "call" and data["method"] not in self.first_call:
                self.first_call[data["method"]] = time.perf_counter()
            waiting = self.waiters.get(chat_id or 0)
            if waiting:
                now = time.perf_counter()
                for item in list(waiting):
                    match, future = item
                    if not future.done() and match(event):
                        future.set_result(now)
                    if future.done():
                        waiting.remove(item)
            return event

        events.emit = emit  # type: ignore[method-assign]  # a wrapper on this one instance

    def expect(self, chat_id: int, match: Callable[[Event], bool]) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiters.setdefault(chat_id, []).append((match, future))
        return future


def from_bot(*types: str) -> Callable[[Event], bool]:
    return lambda e: e.type in types and e.data["message"]["from"]["id"] == BOT_ID


def answer_of(query_id: str) -> Callable[[Event], bool]:
    return lambda e: e.type == "callback_answer" and e.data["query_id"] == query_id


def nth_from_bot(count: int) -> Callable[[Event], bool]:
    seen = [0]

    def match(e: Event) -> bool:
        if from_bot("message")(e):
            seen[0] += 1
        return seen[0] >= count

    return match


@dataclass
class Timings:
    """Latencies per kind of interaction, and how many got no answer in time."""

    seconds: dict[str, list[float]] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, value: float | None) -> None:
        if value is None and not self.failed.get(kind):
            say(f"no answer in {WAIT:.0f} s: {kind}")
        self.seconds.setdefault(kind, [])
        self.failed.setdefault(kind, 0)
        if value is None:
            self.failed[kind] += 1
        else:
            self.seconds[kind].append(value)


STARTED = time.monotonic()


def say(text: str) -> None:
    """Progress on stderr, so a long run shows where it is."""
    print(f"  [{time.monotonic() - STARTED:6.0f} s] {text}", file=sys.stderr, flush=True)


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Person:
    """A member in the sandbox, acting through the server's own actions (no HTTP)."""

    def __init__(self, server: SandboxServer, watch: Watch, telegram_id: int) -> None:
        self.server, self.watch, self.id = server, watch, telegram_id
        server.actions.create_user(f"M{telegram_id}", user_id=telegram_id)
        self.chat: ChatRecord = server.actions.open_private(BOT_ID, telegram_id)

    async def _wait(
        self, *futures: asyncio.Future[float], since: float, wait: float = WAIT
    ) -> float | None:
        try:
            done = await asyncio.wait_for(asyncio.gather(*futures), wait)
        except TimeoutError:
            return None
        return max(done) - since

    async def send(self, text: str, until: Callable[[Event], bool] | None = None) -> float | None:
        """Seconds from the message to the bot's first answer (or ``until``)."""
        future = self.watch.expect(self.id, until or from_bot("message"))
        began = time.perf_counter()
        self.server.actions.send_message(self.chat, self.id, text=text)
        return await self._wait(future, since=began)

    def last(self) -> MessageRecord:
        return max(
            (m for m in self.chat.messages.values() if m.sender_id == BOT_ID),
            key=lambda m: m.message_id,
        )

    def button(self, prefix: str, message: MessageRecord | None = None) -> tuple[int, str] | None:
        """A button of the bot's last message (or ``message``) whose data has ``prefix``."""
        message = message or self.last()
        for row in message.inline_keyboard or []:
            for button in row:
                data = button.get("callback_data") or ""
                if data.split(":", 1)[0] == prefix:
                    return message.message_id, data
        return None

    async def press(
        self, message_id: int, data: str, *, redrawn: bool = True, wait: float = WAIT
    ) -> float | None:
        """Seconds to the tap's answer, and (``redrawn``) to the card drawn again."""
        began = time.perf_counter()
        query = self.server.actions.press_button(self.chat, self.id, message_id, data)
        futures = [self.watch.expect(self.id, answer_of(query.id))]
        if redrawn:
            futures.append(self.watch.expect(self.id, from_bot("edit", "message")))
        return await self._wait(*futures, since=began, wait=wait)


# The bot process ----------------------------------------------------------------------


def proc_status(pid: int) -> dict[str, float]:
    """VmHWM, VmRSS and its anonymous and file parts, in MiB (its own, not a parent's)."""
    found: dict[str, float] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            key = line.split(":", 1)[0]
            if key in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
                found[key] = int(line.split()[1]) / 1024
    return found


def cpu_seconds(pid: int) -> float:
    """User and system CPU the process has used so far: load-independent, unlike latency."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def spawn(base_url: str, database_url: str, log: Path) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": base_url,
        "SECRET_KEY": SECRET,
        "DATABASE_URL": database_url,
        "TELEGRAM_RATE": "1000",  # a paid broadcast: the whole budget, no reserve
        "TELEGRAM_REPLY_RESERVE": "0",
        "DELIVERY_CONCURRENCY": "64",
        "DELIVERY_BATCH": "500",
        "DELIVERY_POLL_SECONDS": "1",
        "LOG_LEVEL": "WARNING",
    }
    with log.open("wb") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", cwd=ROOT, env=env, stdout=out, stderr=out
        )


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(process.wait(), 20)
        except TimeoutError:
            process.kill()
            await process.wait()


# The phases ---------------------------------------------------------------------------


async def browse(people: list[Person], upcoming: list[int], rounds: int, t: Timings) -> None:
    """Each person, a step a second (Telegram's 1 msg/s a chat): menu, list, page, card, sign-up."""

    async def walk(index: int, person: Person) -> None:
        await asyncio.sleep(
            index * 1.2 / len(people)
        )  # spread out: ~len(people)/1.2 steps a second
        for r in range(rounds):
            if index == 0:
                say(f"browsing, round {r + 1}/{rounds}")
            t.add("main menu (/start)", await person.send("/start"))
            await asyncio.sleep(1.2)
            t.add("activity list", await person.send("🎉 活动"))
            await asyncio.sleep(1.2)
            page = person.button(cb.ACT_LIST.prefix)
            t.add("activity list, next page (tap)", await person.press(*page) if page else None)
            await asyncio.sleep(1.2)
            activity = upcoming[(index * rounds + r) % len(upcoming)]
            t.add("activity card (link)", await person.send(f"/start act_{activity}"))
            await asyncio.sleep(1.2)
            sign = person.button(cb.ACT_SIGN_UP.prefix)
            t.add("sign up (tap)", await person.press(*sign) if sign else None)
            await asyncio.sleep(1.2)

    await asyncio.gather(*(walk(i, p) for i, p in enumerate(people)))


async def reports(admin: Person, count: int, t: Timings) -> None:
    """`/report` from the admin: the first message, and all of it (text, charts, workbook)."""
    await admin.send("/report")  # warm: matplotlib and the fonts load at the first report
    await asyncio.sleep(6)
    before = sum(1 for m in admin.chat.messages.values() if m.sender_id == BOT_ID)
    await admin.send("/report")
    await asyncio.sleep(6)
    parts = sum(1 for m in admin.chat.messages.values() if m.sender_id == BOT_ID) - before
    for _ in range(count):
        await asyncio.sleep(4)  # the chat's budget: 1 msg/s after a burst of 3
        first = admin.watch.expect(admin.id, from_bot("message"))
        whole = admin.watch.expect(admin.id, nth_from_bot(parts))
        began = time.perf_counter()
        admin.server.actions.send_message(admin.chat, admin.id, text="/report")
        t.add("/report, first message", await admin._wait(first, since=began))
        t.add(f"/report, all {parts} messages", await admin._wait(whole, since=began))


async def poll_rush(
    server: SandboxServer, watch: Watch, sessions: Any, seeded: Seeded, spread: float, t: Timings
) -> tuple[list[str], int]:
    """A poll to the department, delivered by the bot, then every voter taps within ``spread`` s."""
    voters = [Person(server, watch, tid) for tid in seeded.voters]
    async with transaction(sessions) as session:
        admin_id = await session.scalar(select(Member.id).where(Member.role == Role.ADMIN))
        view = await polls.create(
            session,
            polls.PollDraft(
                question="是否同意新的排班方案？",
                options=("同意", "不同意", "弃权"),
                audience=Audience(items={"dept": frozenset({seeded.department})}),
            ),
            creator_id=admin_id,
            now=datetime.now(UTC),
        )
        await poll_notices.announce(session, view, now=datetime.now(UTC), zone=ZONE)
    began = time.perf_counter()
    targets: dict[int, tuple[int, str]] = {}
    deadline = began + 60 + len(voters) / 500
    while len(targets) < len(voters) and time.perf_counter() < deadline:
        await asyncio.sleep(0.5)
        for person in voters:
            if person.id not in targets:
                for message in person.chat.messages.values():
                    if message.sender_id == BOT_ID and (found := person.button("pv", message)):
                        targets[person.id] = found
    say(f"poll delivered to {len(targets)}")
    lines = [
        f"poll delivered to  {len(targets)}/{len(voters)} members in "
        f"{time.perf_counter() - began:.1f} s"
    ]
    waits = []
    start = time.perf_counter()
    for n, person in enumerate(voters):
        if person.id not in targets:
            continue
        delay = start + n * spread / len(voters) - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        message_id, data = targets[person.id]
        waits.append(
            asyncio.ensure_future(person.press(message_id, data, redrawn=False, wait=RUSH_WAIT))
        )
    tapped = time.perf_counter() - start
    for latency in await asyncio.gather(*waits):
        t.add(f"vote tap answer ({len(voters)} voters in {spread:.0f} s)", latency)
    finished = time.perf_counter() - start
    last = -1
    for _ in range(30):  # until the bot has stopped writing ballots (a tap not answered in time)
        async with sessions() as session:
            now_count = await session.scalar(
                select(func.count()).where(PollBallot.poll_id == view.id)
            )
        if now_count == last:
            break
        last = now_count or 0
        await asyncio.sleep(2)
    async with sessions() as session:
        ballots = await session.scalar(
            select(func.count()).where(PollBallot.poll_id == view.id, PollBallot.choices != 0)
        )
        keys = await session.scalar(
            select(func.count(func.distinct(PollBallot.voter_key))).where(
                PollBallot.poll_id == view.id
            )
        )
        counted = await polls.tally(session, view)
        recipients = await session.scalar(select(Poll.recipients).where(Poll.id == view.id))
    once = ballots == keys == counted.voters == sum(counted.counts)
    missing = len(targets) - (ballots or 0)
    lines.append(f"taps sent in       {tapped:.1f} s, all answered after {finished:.1f} s")
    lines.append(
        f"counted            ballots {ballots}, voter keys {keys}, tally {counted.voters} "
        f"({'/'.join(map(str, counted.counts))}), recipients {recipients}: "
        f"{'no vote counted twice' if once else 'MISMATCH'}; "
        f"{missing} taps not counted (no answer in time, or answered with an error: see the bot log)"
    )
    return lines, len(targets)


async def start_ups(
    server: SandboxServer,
    watch: Watch,
    admin: Person,
    base_url: str,
    url: str,
    log: Path,
    restarts: int,
) -> None:
    """The start-up alone: the first after the seeded crash, then ``restarts`` more."""
    for n in range(1 + restarts):
        watch.first_call.clear()
        first = watch.expect(admin.id, from_bot("message"))
        began = time.perf_counter()
        server.actions.send_message(admin.chat, admin.id, text="/help")  # waiting for it
        process = await spawn(base_url, url, log.with_suffix(f".{n}.log"))
        try:
            startup = await admin._wait(first, since=began, wait=120)
            cpu = cpu_seconds(process.pid)
            rss = proc_status(process.pid)["VmRSS"]
            get_me = watch.first_call.get("getMe", float("nan")) - began
        finally:
            await stop(process)
        label = "first start" if n == 0 else f"restart {n}"
        print(
            f"start-up           {label}: {startup:.2f} s to the first answer, getMe after "
            f"{get_me:.2f} s, bot CPU {cpu:.2f} s, VmRSS {rss:.0f} MiB "
            f"(load average {os.getloadavg()[0]:.1f})"
            if startup is not None
            else f"start-up           {label}: no answer within 120 s",
            flush=True,
        )
        await asyncio.sleep(1)  # the answered /help's neighbours settle before the next start


def _scale_of(args: argparse.Namespace) -> dict[str, int]:
    if args.quick:
        scale = {"members": 10_000, "activities": 1_000, "cases": 1_000, "voters": 1_000}
    else:
        scale = {"members": 100_000, "activities": 1_000, "cases": 10_000, "voters": 10_000}
    if args.voters:
        scale["voters"] = args.voters
    return scale


async def run(database: str, args: argparse.Namespace) -> None:
    scale = _scale_of(args)
    rounds = 3 if args.quick else 10
    spread = args.spread or (10.0 if args.quick else 60.0)
    server = SandboxServer(
        SandboxOptions(
            port=0,
            bots={TOKEN: "ScaleBot"},
            enforce_limits=True,
            global_rate=1000.0,
            per_chat_rate=1.0,
            per_chat_burst=3,
        )
    )
    base_url = await server.start()
    watch = Watch(server)
    async with scratch_database(database, "bench_scale") as (engine, url):
        sessions = make_session_factory(engine)
        say("seeding")
        seeded = await seed(sessions, browsers=args.browsers, **scale)
        print(
            f"database           {database}: {scale['members']} members, "
            f"{scale['activities']} activities, {scale['cases']} cases, 12 months "
            f"(seeded in {seeded.seconds:.0f} s)",
            flush=True,
        )
        admin = Person(server, watch, seeded.admin)
        log = Path("/tmp") / f"scale-{database}-{os.getpid()}.log"
        if args.startup_only:
            try:
                await start_ups(server, watch, admin, base_url, url, log, args.restarts)
            finally:
                await server.stop()
            return
        first = watch.expect(admin.id, from_bot("message"))
        began = time.perf_counter()
        server.actions.send_message(admin.chat, admin.id, text="/help")  # waiting for it
        process = await spawn(base_url, url, log)
        try:
            startup = await admin._wait(first, since=began, wait=120)
            after_start = proc_status(process.pid)
            milestones = {m: at - began for m, at in watch.first_call.items()}
            say(f"started in {startup} s; first calls {milestones}")
            cpu: dict[str, float] = {}
            mark = cpu_seconds(process.pid)
            cpu["start-up"] = mark

            def phase(name: str) -> None:
                nonlocal mark
                now = cpu_seconds(process.pid)
                cpu[name], mark = now - mark, now
                say(f"{name}: bot CPU {cpu[name]:.1f} s, {proc_status(process.pid)}")

            t = Timings()
            people = [Person(server, watch, tid) for tid in seeded.browsers]
            await browse(people, seeded.upcoming, rounds, t)
            phase("browsing")
            await reports(admin, 3 if args.quick else 10, t)
            phase("reports")
            rush, voted = await poll_rush(server, watch, sessions, seeded, spread, t)
            phase("poll rush")
            memory = proc_status(process.pid)
        finally:
            await stop(process)
            await server.stop()
    print(
        f"start-up           {startup:.2f} s to the first answer (target < 3 s)"
        if startup is not None
        else "start-up           no answer within 120 s"
    )
    print(
        f"                   getMe after {milestones.get('getMe', float('nan')):.2f} s, "
        f"bot CPU {cpu['start-up']:.1f} s"
    )
    print(
        f"memory             VmHWM {memory['VmHWM']:.0f} MiB, VmRSS {memory['VmRSS']:.0f} MiB "
        f"(after start-up: {after_start['VmRSS']:.0f} MiB; target < 200 MB)"
    )
    print(f"{'latency':<44} {'n':>5} {'failed':>6} {'p50':>8} {'p99':>8}")
    for kind, values in t.seconds.items():
        print(
            f"{kind:<44} {len(values):>5} {t.failed[kind]:>6} "
            f"{quantile(values, 0.5) * 1000:>6.0f}ms {quantile(values, 0.99) * 1000:>6.0f}ms"
        )
    for line in rush:
        print(line)
    taps = rounds * len(seeded.browsers) * 5
    print(
        f"bot CPU            browsing {cpu['browsing'] / taps * 1000:.0f} ms an update; "
        f"/report {cpu['reports'] / (reports_made := (3 if args.quick else 10) + 2):.1f} s each "
        f"({reports_made}); poll rush {cpu['poll rush'] / max(1, voted) * 1000:.0f} ms a voter "
        f"who got the poll and tapped ({voted})"
    )
    print(f"load average       {os.getloadavg()[0]:.1f} (2 cores, shared)")
    print(f"bot log            {log}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"]
    )
    parser.add_argument("--quick", action="store_true", help="10,000 members, 1,000 voters")
    parser.add_argument("--browsers", type=int, default=12, help="members browsing at once")
    parser.add_argument("--voters", type=int, default=0, help="members in the poll rush")
    parser.add_argument("--spread", type=float, default=0.0, help="seconds the rush's taps span")
    parser.add_argument(
        "--startup-only", action="store_true", help="seed, then measure start-ups and stop"
    )
    parser.add_argument("--restarts", type=int, default=2, help="start-ups after the first")
    args = parser.parse_args()
    for database in args.database:
        asyncio.run(run(database, args))


if __name__ == "__main__":
    main()
