"""A rush: many members press "sign up" for a few seats at the same moment.

Shared by `test_rush.py` and `benchmarks/rush.py`. Every member gets a card
with the sign-up button from the bot first; then the sandbox is told to answer
every Bot API request late, and all presses are sent at once through the
control API. Tap order is the order the sandbox numbered the presses' updates
(the order Telegram would have received them).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from sqlalchemy import select
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.errors import DATABASE_BUSY, GENERIC, PARTLY_SAVED, TELEGRAM_SLOW
from core.i18n import translator
from display import activities as show
from display import callbacks as cb
from sandbox.driver import SandboxUser
from storage.models import ActivitySignup, Member, SignupStatus
from tests.support.activities import draft, published
from tests.support.bot import BotHarness
from tests.support.members import add_person

FAILURES = {
    translator(lang).gettext(m)
    for lang in ("zh_CN", "en")
    for m in (DATABASE_BUSY, GENERIC, PARTLY_SAVED, TELEGRAM_SLOW)
}


@dataclass
class RushResult:
    taps: int
    failed: int  # presses answered with an error, or not answered at all
    seated: int
    waitlisted: int
    in_tap_order: bool  # seats to the first taps, the waitlist in tap order
    told_their_place: bool  # each was told their seat, or the waitlist position they have
    seconds: float  # from the first press sent to the last update finished


async def prepare(bot: BotHarness, members: int, seats: int) -> tuple[int, list[SandboxUser]]:
    """An activity with ``seats`` seats and ``members`` members, each with a sign-up button."""
    activity = await published(bot, draft(bot, "抢票活动", capacity=seats))
    users = [await add_person(bot, f"会员{i:03d}") for i in range(members)]
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton("✅ 报名", callback_data=cb.ACT_SIGN_UP.pack(activity.id, 0))]]
    )
    await asyncio.gather(
        *(bot.application.bot.send_message(u.id, "抢票活动", reply_markup=markup) for u in users)
    )
    return activity.id, users


async def rush(
    bot: BotHarness, *, members: int = 240, seats: int = 50, latency: float = 0.15
) -> RushResult:
    activity_id, users = await prepare(bot, members, seats)
    cards = {u.id: (await u.bot_messages())[-1].message_id for u in users}
    if latency:
        await bot.driver.delay(None, seconds=latency, count=None)  # every answer, until cleared
    data = cb.ACT_SIGN_UP.pack(activity_id, 0)

    async def press(user: SandboxUser) -> tuple[int, SandboxUser]:
        body = {"user_id": user.id, "callback_data": data, "bot_id": bot.driver.bot_id}
        result = await bot.driver.request(
            "POST", f"/chats/{user.id}/messages/{cards[user.id]}/press", json=body
        )
        return int(result["update_id"]), user

    started = time.monotonic()
    pressed = sorted(await asyncio.gather(*(press(u) for u in users)), key=lambda p: p[0])
    for update_id, _user in pressed:
        await bot.tracker.wait(update_id, limit=180.0)
    seconds = time.monotonic() - started
    await bot.driver.clear_faults()

    toasts: dict[int, str | None] = {}
    for _update_id, user in pressed:
        answers = await user.callback_answers()
        toasts[user.id] = answers[-1].text if answers else None
    failed = sum(1 for text in toasts.values() if text is None or text in FAILURES)

    async with bot.runtime.sessions() as session:
        rows = (
            await session.execute(
                select(Member.telegram_id, ActivitySignup.status)
                .join(Member, Member.id == ActivitySignup.member_id)
                .where(ActivitySignup.activity_id == activity_id)
                .order_by(ActivitySignup.ticket)
            )
        ).all()
    seated = [tid for tid, status in rows if status == SignupStatus.SEATED.value]
    waiting = [tid for tid, status in rows if status == SignupStatus.WAITLISTED.value]
    tap_order = [user.id for _update_id, user in pressed]
    signed = set(seated) | set(waiting)
    expected = [tid for tid in tap_order if tid in signed]
    in_order = [tid for tid, _status in rows] == expected and seated == expected[: len(seated)]
    zh = translator("zh_CN")
    told = all(
        toasts[tid] == show.placement_toast(zh, False, position, False)
        for position, tid in enumerate(waiting, start=1)
    ) and all(toasts[tid] == show.placement_toast(zh, True, None, False) for tid in seated)
    return RushResult(
        taps=len(users),
        failed=failed,
        seated=len(seated),
        waitlisted=len(waiting),
        in_tap_order=in_order,
        told_their_place=told,
        seconds=seconds,
    )
