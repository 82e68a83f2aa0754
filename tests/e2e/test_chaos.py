"""Chaos: two real `union-bot webhook` processes, one PostgreSQL, the sandbox as their balancer.

What it proves (issue 16, "Prove it"): with the sandbox spreading updates over
both instances (in turn, four at once, never two of one chat) and a mixed load
— registrations, grievance threads, sign-ups for a full activity, votes, and
on the instances' jobs the monthly report, a scheduled broadcast, the day's
greetings and an activity's reminders coming due — under faults at set,
seeded rates (429 with ``retry_after``, 5xx, slow answers, dropped connections
before and after the method ran), one instance killed with SIGKILL while it
holds an update it has taken but not handled, then traffic while it is dead,
then started again, and every PostgreSQL backend of the bot terminated twice
(``pg_terminate_backend``), at the end:

* nothing a member sent is lost: the update the killed instance held is
  handled once, by the other; every registration, grievance, sign-up and vote
  is in the database, each conversation finished (no conversation row left);
* nothing doubled: one case card per grievance, one receipt each, one seat
  or waitlist place per member and seats within the capacity, one ballot per
  voter, one poll message per member; one monthly report in the cadre group
  (summary, each chart, the workbook), though both instances found it due at
  once and its uploads met a 502 and a 429; the broadcast, the greeting and
  the reminder reached each member at most once and missed only rows whose
  request was in flight when it failed (`jobs.delivery`'s documented
  at-most-once window);
* the outbox is settled, and each instance answers on its own within seconds.

The kill is placed, not timed: the test holds the member's chat lock, so the
instance waits in PostgreSQL with the update taken; a kill at a random moment
could land between an update's flush and its answer, the in-flight window in
which `bot.webhook` documents that an update may be handled twice. Interactive
replies meet slow answers and at most two 429s per phase (PTB's limiter retries
a reply twice; a third would be the member's "please wait", no fault of the
instances); 5xx and dropped connections hit the phase where the delivery worker
does the talking. The instances' clock is the real one moved back to a
month's first working day just after 09:00 (`tests.support.chaos.BotClock`),
so the report and the greetings are due on any day the test runs, and every
job looks each second (JOBS_CHECK_SECONDS); what the test writes as an admin
would (the activity, the poll, the broadcast, the greeting's date) is on that
clock. Nothing sleeps, every wait is for a condition with a deadline.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import Select, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from notices import polls as poll_notices
from sandbox import SandboxDriver, SandboxOptions, SandboxServer, SandboxUser
from storage import activities, broadcasts, greetings, members
from storage import conversations as store
from storage.audiences import Audience
from storage.broadcasts import Content
from storage.chat_locks import ChatLocks
from storage.db import make_engine, make_session_factory, transaction
from storage.models import (
    ActivitySignup,
    ConversationState,
    Grievance,
    GrievanceMessage,
    Member,
    Outbox,
    PollBallot,
    Role,
    SignupStatus,
)
from storage.polls import PollDraft
from tests.support.activities import draft
from tests.support.chaos import (
    ZONE,
    BotClock,
    Instance,
    answered,
    register,
    report_day_clock,
    submit_grievance,
    terminate_backends,
)
from tests.support.config import ADMIN_ID, CADRE_CHAT, SECRET, TOKEN
from tests.support.databases import clean_database
from tests.support.metrics import healthz

pytestmark = pytest.mark.chaos

MEMBERS = 8
CAPACITY = 2
SIGNING_UP = 5
GRIEVING = 3
BROADCAST = "本周六上午九点，职工之家开放日。"
QUESTION = "食堂周五加菜吗？"
OCCASION = "建会纪念日"
LECTURE = "安全知识讲座"
REMINDED = 4
REPLY = "💬 答复"
ANSWER = "我们明天上午去车间修排风扇。"
FOLLOW_UP = "好的，谢谢，明早我在工位。"
UNSETTLED = ("pending", "claimed", "sending")
GREETING, REMINDER, REPORT = "greeting", "activity-reminder", "report"
Sessions = async_sessionmaker[AsyncSession]


def _story(index: int) -> str:
    return f"第{index}号工位的排风扇坏了，已经三天。"


async def _count(sessions: Sessions, query: Select[int]) -> int:
    async with sessions() as session:
        return int(await session.scalar(query) or 0)


async def _texts(user: SandboxUser) -> list[str]:
    return [m.text or "" for m in await user.bot_messages()]


async def test_two_processes_under_faults_lose_and_double_nothing(pg_database: str) -> None:
    await clean_database(pg_database)
    server = SandboxServer(
        SandboxOptions(
            port=0,
            bots={TOKEN: "UnionSandboxBot"},
            webhook_timeout=60.0,  # an update is answered once handled (bot.webhook)
            webhook_initial_backoff=0.05,
            webhook_max_backoff=0.5,
        )
    )
    base = await server.start()
    engine = make_engine(pg_database)
    sessions = make_session_factory(engine)
    clock = await report_day_clock(pg_database, after=timedelta(seconds=20))
    a, b = Instance("a", base, pg_database, clock), Instance("b", base, pg_database, clock)
    laps: list[tuple[str, float]] = [("start", time.monotonic())]

    def lap(name: str) -> None:
        laps.append((name, time.monotonic()))

    try:
        async with SandboxDriver(base, TOKEN, auto_settle=False) as driver:
            await driver.create_user("Admin", user_id=ADMIN_ID, username="union_admin")
            await driver.create_group("工会干部群", chat_id=CADRE_CHAT, members=[])
            await _interactive_faults(driver, seed=1)  # before the report comes due
            await a.start(driver)
            await b.start(driver)
            await driver.balance_webhook([a.url, b.url], policy="alternate", concurrency=4)
            lap("two instances up")

            users = [
                await driver.create_user(f"M{i}", user_id=630000001 + i) for i in range(MEMBERS)
            ]
            await asyncio.gather(*(register(u, f"陈{i}号") for i, u in enumerate(users)))
            cadre = users[GRIEVING]  # one of the members, made cadre and put in the group
            async with transaction(sessions) as session:
                row = await members.get_member(session, cadre.id)
                assert row is not None
                await members.set_role(session, row.id, Role.CADRE)
            await driver.add_member(CADRE_CHAT, cadre)
            lap("registrations")
            assert await terminate_backends(pg_database) > 0  # pools and lock connections

            await _interactive_faults(driver, seed=10)
            now = clock.now()
            activity = await _publish_activity(sessions, now)
            await _announce_poll(sessions, now)

            async def poll_arrived(user: SandboxUser) -> bool:
                return QUESTION in "".join(await _texts(user))

            for user in users:
                await driver.wait_for(partial(poll_arrived, user), timeout=30, what="the poll")

            # Due since the instances started: both found it, one enqueued it (the job ran
            # each second on both); sent before the kill, so no upload is in flight there.
            await driver.wait_for(
                partial(_report_sent, sessions), timeout=60, what="the monthly report sent"
            )
            lap("report sent")
            help_text = await _kill_a_mid_update(driver, engine, pg_database, a, b, users[-1])
            lap("a killed mid-update")
            # With a dead, half the balancer's attempts are refused and go to b.
            await asyncio.gather(
                *(submit_grievance(u, _story(i)) for i, u in enumerate(users[:GRIEVING])),
                *(_sign_up(u, activity) for u in users[GRIEVING : GRIEVING + SIGNING_UP]),
                *(_vote(u, "加" if i % 2 else "不加") for i, u in enumerate(users)),
            )
            lap("grievances, sign-ups, votes")
            targets = await driver.webhook_targets()
            assert targets is not None and targets["attempts"][a.url] > targets["delivered"].get(
                a.url, 0
            ), targets  # some attempts went to the dead instance and were sent again

            # The cards reach the cadre group before the delivery faults: a card is an
            # at-least-once notice, which a dropped answer may rightly send twice.
            async def settled() -> bool:
                query = select(func.count()).where(Outbox.status.in_(UNSETTLED))
                return await _count(sessions, query) == 0

            async def carded() -> bool:
                cards = [m.text or "" for m in await driver.messages(CADRE_CHAT)]
                return all(any(_story(i) in c for c in cards) for i in range(GRIEVING))

            await driver.wait_for(carded, timeout=30, what="the case cards")
            await _thread(driver, cadre, users[0])
            lap("a case answered and followed up")
            await driver.wait_for(settled, timeout=30, what="the outbox settled before")
            # The delivery phase: 429, 5xx and dropped connections (before and after the
            # method ran) on what the workers send; seeds whose first draws fire, counts
            # that bound the backoffs. The broadcast is due now: the restarted instance's
            # job looks 1 s after its start (or the other's, whichever is first).
            await driver.clear_faults()
            await driver.fail_next("sendMessage", 429, 2, retry_after=1, rate=0.1, seed=15)
            await driver.fail_next("sendMessage", 502, 3, rate=0.2, seed=7)
            await driver.drop("sendMessage", count=2, rate=0.1, seed=45)
            await driver.drop("sendMessage", count=2, phase="after", rate=0.1, seed=57)
            await _due_now(sessions, clock, users[:REMINDED])
            await a.start(driver)
            lap("a restarted")

            async def some_broadcast_sent() -> bool:
                sent = Outbox.kind == broadcasts.KIND
                return await _count(sessions, select(func.count()).where(sent)) > 0

            async def all_enqueued() -> bool:
                kinds = await _kinds(sessions)
                return kinds.get(GREETING, 0) == MEMBERS and kinds.get(REMINDER, 0) == REMINDED

            await driver.wait_for(some_broadcast_sent, timeout=40, what="the broadcast due")
            lap("broadcast due")
            assert await terminate_backends(pg_database) > 0

            async def settled_after() -> bool:
                return await settled() and await some_broadcast_sent() and await all_enqueued()

            await driver.wait_for(settled_after, timeout=60, what="the outbox settled")
            lap("outbox settled")
            await driver.clear_faults()
            calls = (await driver.stats())["calls"]
            assert {"429", "502"} <= set(calls["by_status"]), calls  # the faults did fire
            assert calls["faults_injected"] >= 5, calls

            # Both instances answer within seconds: the balancer pointed at each in turn.
            for instance in (a, b):
                assert (await healthz(instance.port))[0] == 200
                await driver.balance_webhook([instance.url])
                asker = users[-1]
                await asyncio.wait_for(answered(asker, partial(asker.send, "/help")), 10)
                # The same help as the killed instance's update got: it was /help, handled.
                assert (await _texts(asker))[-1] == help_text

                async def answered_there(url: str = instance.url) -> bool:
                    only = await driver.webhook_targets()  # the 200 follows the reply
                    return only is not None and only["delivered"] == {url: 1}

                await driver.wait_for(answered_there, timeout=10, what="the 200")

            await _check(sessions, driver, users, activity)
            await _check_report(sessions, driver)
            await _at_most_once(sessions, users, broadcasts.KIND, BROADCAST)
            await _at_most_once(sessions, users, GREETING, OCCASION)
            await _at_most_once(sessions, users[:REMINDED], REMINDER, LECTURE)
    except BaseException:
        for instance in (a, b):  # shown by pytest with the failure
            print(f"--- instance {instance.name}, {instance.lives} lives:\n{instance.log[-20000:]}")
        raise
    finally:
        await a.stop()
        await b.stop()
        await engine.dispose()
        await server.stop()
    lap("checked, stopped")
    print("\nchaos:", ", ".join(f"{n} {t - laps[0][1]:.1f}s" for n, t in laps[1:]))
    for instance in (a, b):
        assert TOKEN not in instance.log, "the token leaked into the log"
    assert a.lives == 2


async def _kill_a_mid_update(
    driver: SandboxDriver,
    engine: AsyncEngine,
    database_url: str,
    a: Instance,
    b: Instance,
    asker: SandboxUser,
) -> str:
    """SIGKILL a while it holds an update it has taken but not yet handled.

    The test holds the member's chat lock (`storage.chat_locks`, the key computed
    as the bot computes it), so the update a takes waits in PostgreSQL for it:
    taken, unanswered, nothing sent yet. a is killed there; the balancer sends
    the update again, to b, which handles it once the lock is let go. Before
    `bot.webhook` answered only handled updates, a had answered 200 on taking
    it, and the member's message was lost.
    """
    key = ChatLocks(database_url, SECRET).key_of(asker.id)
    await driver.balance_webhook([a.url, b.url], concurrency=4)  # a fresh turn: a is next
    before = len(await asker.bot_messages())
    async with engine.connect() as holder, engine.connect() as watcher:
        await holder.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        await holder.commit()

        async def waiting() -> bool:
            query = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            found = await watcher.scalar(text(query))
            await watcher.commit()
            return bool(found)

        await asker.send("/help")
        await driver.wait_for(waiting, timeout=20, what="a waiting for the member's chat")
        await a.kill()

        async def sent_again() -> bool:
            seen = await driver.webhook_targets()
            return seen is not None and seen["attempts"].get(b.url, 0) > 0

        await driver.wait_for(sent_again, timeout=20, what="the update sent again, to b")
        await holder.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
        await holder.commit()

    async def delivered_by_b() -> dict[str, int] | None:
        seen = await driver.webhook_targets()
        return dict(seen["delivered"]) if seen and seen["delivered"] else None

    delivered = await driver.wait_for(delivered_by_b, timeout=20, what="b's answer")
    assert delivered == {b.url: 1}, delivered
    replies = await _texts(asker)
    assert len(replies) == before + 1  # handled once, by b
    return replies[-1]


async def _thread(driver: SandboxDriver, cadre: SandboxUser, author: SandboxUser) -> None:
    """A grievance thread: the cadre answers the author's case from its card in the group
    (💬 Reply, then the ForceReply prompt answered), the answer reaches the author, who
    replies to it in the private chat, and the follow-up reaches the group."""
    card = next(
        m
        for m in await driver.messages(CADRE_CHAT)
        if _story(0) in (m.text or "") and m.button(REPLY) is not None
    )
    data = next(b["callback_data"] for row in card.keyboard for b in row if b["text"] == REPLY)
    press = partial(cadre.press_data, card.message_id, data, CADRE_CHAT)
    await answered(cadre, press, CADRE_CHAT)
    await answered(cadre, partial(cadre.send, ANSWER, CADRE_CHAT), CADRE_CHAT)

    async def the_answer() -> int | None:
        found = [m for m in await author.bot_messages() if ANSWER in (m.text or "")]
        return found[-1].message_id if found else None

    answer = await driver.wait_for(the_answer, timeout=30, what="the union's answer")
    await answered(author, partial(author.send, FOLLOW_UP, reply_to=answer))

    async def relayed() -> bool:
        return any(FOLLOW_UP in (m.text or "") for m in await driver.messages(CADRE_CHAT))

    await driver.wait_for(relayed, timeout=30, what="the follow-up in the group")


async def _interactive_faults(driver: SandboxDriver, *, seed: int) -> None:
    """Slow answers, and two 429s for the replies: PTB's limiter retries a reply twice, so
    two at most can never make one fail (a third would be the member's "please wait").

    The uploads (only the monthly report's, due in this phase) meet a 502 and a 429:
    refused before the method ran, so retried and still sent once.
    """
    await driver.clear_faults()
    await driver.fail_next("sendMessage", 429, 2, retry_after=1, rate=0.1, seed=seed)
    await driver.delay(None, seconds=0.2, count=None, rate=0.15, seed=seed + 1)
    await driver.fail_next("sendPhoto", 502, 1)
    await driver.fail_next("sendDocument", 429, 1, retry_after=1)


async def _due_now(sessions: Sessions, clock: BotClock, reminded: list[SandboxUser]) -> None:
    """What comes due on the instances' jobs in the delivery phase, written as an admin would.

    A broadcast scheduled for now; the union's own date, today, so the day's greeting goes
    to every member; and a lecture starting in a day less a minute, to which ``reminded``
    signed up two minutes ago, so its 24-hour reminder is due (they were seated before it).
    """
    now = clock.now()
    today = now.astimezone(ZONE).date()
    ago = now - timedelta(minutes=2)
    lecture = draft(ago, LECTURE, capacity=None, starts_in=timedelta(days=1, minutes=1))
    async with transaction(sessions) as session:
        await broadcasts.create(
            session,
            content=Content(text=BROADCAST),
            audience=Audience(everyone=True),
            admin_chat_id=ADMIN_ID,
            now=now,
            scheduled_for=now,
        )
        await greetings.add_custom(session, OCCASION, today.month, today.day)
        activity = await activities.create(session, lecture, created_by=None, now=ago)
        await activities.publish(session, activity.id, ago)
        ids = [user.id for user in reminded]
        for member in await session.scalars(select(Member).where(Member.telegram_id.in_(ids))):
            await activities.sign_up(session, activity.id, member, guests=0, now=ago)


async def _publish_activity(sessions: Sessions, now: datetime) -> int:
    value = draft(now, "拔河比赛", capacity=CAPACITY)
    async with transaction(sessions) as session:
        activity = await activities.create(session, value, created_by=None, now=now)
        await activities.publish(session, activity.id, now)
    return int(activity.id)


async def _announce_poll(sessions: Sessions, now: datetime) -> None:
    from storage import polls

    async with transaction(sessions) as session:
        view = await polls.create(
            session, PollDraft(question=QUESTION, options=("加", "不加")), creator_id=None, now=now
        )
        await poll_notices.announce(session, view, now=now, zone=ZONE)


async def _sign_up(user: SandboxUser, activity_id: int) -> None:
    await answered(user, partial(user.send, f"/start act_{activity_id}"))
    card = await user.last_bot_message()
    await user.press(card.buttons[0][0].text)


async def _vote(user: SandboxUser, option: str) -> None:
    poll = next(m for m in await user.bot_messages() if m.text and QUESTION in m.text)
    labels = [button.text for row in poll.buttons for button in row]
    await user.press(next(label for label in labels if label.startswith(option)), chat=None)


async def _check(
    sessions: Sessions, driver: SandboxDriver, users: list[SandboxUser], activity_id: int
) -> None:
    """The database and the chats after the run: everything once, nothing left half-done."""
    names = {f"陈{i}号" for i in range(MEMBERS)}

    async def all_in() -> bool:
        seats = select(func.count()).where(ActivitySignup.activity_id == activity_id)
        return (
            await _count(sessions, select(func.count()).select_from(PollBallot)) == MEMBERS
            and await _count(sessions, seats) == SIGNING_UP
        )

    await driver.wait_for(all_in, timeout=20, what="every vote and sign-up recorded")
    async with sessions() as session:
        found = set(await session.scalars(select(Member.name)))
        assert found == names
        left_over = (await store.load_all(session, store.Sealer(SECRET))).rows.values()
        assert not list(left_over), [type(r).__name__ for r in left_over]
        assert await session.scalar(select(func.count()).select_from(ConversationState)) == 0
        assert await session.scalar(select(func.count()).select_from(Grievance)) == GRIEVING
        signups = list(
            await session.scalars(
                select(ActivitySignup.status).where(ActivitySignup.activity_id == activity_id)
            )
        )
        assert sorted(signups) == sorted(
            [SignupStatus.SEATED.value] * CAPACITY
            + [SignupStatus.WAITLISTED.value] * (SIGNING_UP - CAPACITY)
        )
        ballots = list(await session.scalars(select(PollBallot.choices)))
        assert len(ballots) == MEMBERS and all(ballots)
        # The thread: every story, the union's answer and the author's follow-up, once.
        authors = sorted(await session.scalars(select(GrievanceMessage.author)))
        assert authors == ["member"] * (GRIEVING + 1) + ["union"], authors
    cards = [m.text or "" for m in await driver.messages(CADRE_CHAT)]
    assert sum(FOLLOW_UP in card for card in cards) == 1, cards
    for index, user in enumerate(users):
        texts = await _texts(user)
        assert sum(QUESTION in t for t in texts) == 1, (user.id, texts)
        assert sum(ANSWER in t for t in texts) == (index == 0), (user.id, texts)
        if index < GRIEVING:
            assert sum(_story(index) in card for card in cards) == 1, cards
            # The case's receipt; for the first, also the answer and the follow-up's receipt.
            assert sum("G-" in t for t in texts) == 1 + 2 * (index == 0), texts


async def _kinds(sessions: Sessions) -> dict[str, int]:
    async with sessions() as session:
        rows = await session.execute(select(Outbox.kind, func.count()).group_by(Outbox.kind))
        return {str(kind): int(count) for kind, count in rows}


async def _report_sent(sessions: Sessions) -> bool:
    async with sessions() as session:
        rows = list(await session.scalars(select(Outbox.status).where(Outbox.kind == REPORT)))
    return len(rows) >= 2 and set(rows) == {"sent"}


async def _check_report(sessions: Sessions, driver: SandboxDriver) -> None:
    """One report in the cadre group: its summary, each chart and the workbook, once each."""
    async with sessions() as session:
        keys = list(await session.scalars(select(Outbox.key).where(Outbox.kind == REPORT)))
    charts = [k for k in keys if ":chart:" in k]
    assert len(keys) == len(charts) + 2, keys  # the summary, the charts, the workbook
    shown = [m for m in await driver.messages(CADRE_CHAT) if not m.deleted]
    summaries = [m for m in shown if (m.text or "").startswith("📊")]
    photos = [m for m in shown if m.media is not None and m.media.kind == "photo"]
    books = [m for m in shown if m.media is not None and (m.media.file_name or "").endswith("xlsx")]
    assert (len(summaries), len(photos), len(books)) == (1, len(charts), 1), (
        [m.text for m in summaries],
        len(photos),
        len(books),
    )
    # Under faults: uploads were refused (the faults are armed again after the
    # registrations, so maybe twice), retried, and each still sent once.
    photo_calls = [c.status for c in await driver.calls("sendPhoto")]
    book_calls = [c.status for c in await driver.calls("sendDocument")]
    assert 502 in photo_calls and photo_calls.count(200) == len(charts), photo_calls
    assert 429 in book_calls and book_calls.count(200) == 1, book_calls


async def _at_most_once(
    sessions: Sessions, users: list[SandboxUser], kind: str, needle: str
) -> None:
    """Each member's one message of ``kind`` (at-most-once rows: broadcasts, greetings,
    reminders), told apart by ``needle`` in its text.

    Sent: seen exactly once. Failed: its request was in flight when it broke (a drop after
    the method ran delivered it, uncertain): seen at most once, never resent.
    """
    async with sessions() as session:
        rows = await session.execute(
            select(Outbox.chat_id, Outbox.status).where(Outbox.kind == kind)
        )
        statuses = {int(chat): str(status) for chat, status in rows}
    assert set(statuses) == {user.id for user in users}, (kind, statuses)
    for user in users:
        got = sum(needle in text for text in await _texts(user))
        status = statuses[user.id]
        assert (status, got) == ("sent", 1) or (status == "failed" and got <= 1), (
            kind,
            user.id,
            status,
            got,
        )
