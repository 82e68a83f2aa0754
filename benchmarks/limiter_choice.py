"""Which limiter should the delivery worker use? Measures both against the sandbox.

    .venv/bin/python benchmarks/limiter_choice.py [--users 60] [--per-user 5]

The sandbox enforces Telegram's limits (30/s overall; 1/s per chat with a
burst of 3). Each scenario sends ``users × per-user`` messages, each user's
messages back to back (a member with a reminder, a greeting and a broadcast
due together), while a "member" taps once a second and the bot answers through
the Application's bot — the interactive path. Printed per scenario: time, 429
answers the sandbox gave, messages lost, and the worst interactive reply time.

* ``ptb``: the Application's bot with PTB's ``AIORateLimiter(max_retries=2)``
  sends everything (16 at a time), as a broadcast loop on the Application would.
* ``ours``: `jobs.pacing.Pacer` and a separate plain ``telegram.Bot``, the way
  `jobs.delivery` sends; interactive replies keep using the Application's bot.

Each runs twice: as is, and with one injected 429 (retry_after 5 s) on a
broadcast message, to see who else has to wait.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import Bot
from telegram.error import RetryAfter, TelegramError
from telegram.ext import AIORateLimiter, ApplicationBuilder, ExtBot

from jobs.pacing import Pacer
from sandbox import SandboxOptions, SandboxServer

TOKEN = "424242:LIMITER-choice-token-abcdefghijklmn"
BOT_ID = 424242
PROBE_USER = 990_000_001
FIRST_USER = 980_000_001


@dataclass
class Result:
    name: str
    seconds: float
    rate_limited: int
    lost: int
    worst_reply: float
    replies: int


def _application_bot(base_url: str) -> ExtBot[Any]:
    application = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(f"{base_url}/bot{{token}}")
        .rate_limiter(AIORateLimiter(max_retries=2))
        .build()
    )
    return application.bot


async def _probe(
    bot: Bot, stop: asyncio.Event, latencies: list[float], after_third: Callable[[], None]
) -> None:
    """A member tapping once a second; the bot answers on the interactive path."""
    while not stop.is_set():
        started = time.monotonic()
        with contextlib.suppress(TelegramError):
            await bot.send_message(PROBE_USER, "reply")
        latencies.append(time.monotonic() - started)
        if len(latencies) == 3:
            after_third()
        await asyncio.sleep(1.0)


async def _with_ptb(bot: Bot, jobs: list[tuple[int, str]]) -> int:
    """Send through the rate-limited Application bot, 16 at a time; count losses."""
    lost = 0
    slots = asyncio.Semaphore(16)

    async def one(chat_id: int, text: str) -> None:
        nonlocal lost
        async with slots:
            try:
                await bot.send_message(chat_id, text)
            except TelegramError:
                lost += 1

    await asyncio.gather(*(one(c, t) for c, t in jobs))
    return lost


async def _with_ours(bot: Bot, jobs: list[tuple[int, str]]) -> int:
    """Send through a plain bot paced by our Pacer (one task per chat, like the worker)."""
    pacer = Pacer(rate=25)
    lost = 0
    by_chat: dict[int, list[str]] = {}
    for chat_id, text in jobs:
        by_chat.setdefault(chat_id, []).append(text)

    async def chat(chat_id: int, texts: list[str]) -> None:
        nonlocal lost
        for text in texts:
            while True:
                await pacer.acquire(chat_id)
                try:
                    await bot.send_message(chat_id, text)
                except RetryAfter as error:
                    pacer.pause(float(error._retry_after.total_seconds()))
                    continue  # the worker requeues; here we simply try again
                except TelegramError:
                    lost += 1
                break

    await asyncio.gather(*(chat(c, t) for c, t in by_chat.items()))
    return lost


async def scenario(
    name: str,
    users: int,
    per_user: int,
    inject_429: bool,
    send: Callable[[Bot, Bot, list[tuple[int, str]]], Awaitable[int]],
) -> Result:
    server = SandboxServer(SandboxOptions(port=0, bots={TOKEN: "LimiterBot"}, enforce_limits=True))
    base_url = await server.start()
    try:
        for user_id in [PROBE_USER, *range(FIRST_USER, FIRST_USER + users)]:
            server.actions.create_user(f"U{user_id}", user_id=user_id)
            server.actions.open_private(BOT_ID, user_id)
        jobs = [
            (chat, f"{chat}:{n}")
            for chat in range(FIRST_USER, FIRST_USER + users)
            for n in range(per_user)
        ]

        def inject() -> None:
            # Right after a reply, so the next sendMessage is a broadcast message.
            if inject_429:
                server.faults.fail_next("sendMessage", status=429, retry_after=5, count=1)

        app_bot = _application_bot(base_url)
        plain = Bot(TOKEN, base_url=f"{base_url}/bot{{token}}")
        async with app_bot, plain:
            stop = asyncio.Event()
            latencies: list[float] = []
            probe = asyncio.create_task(_probe(app_bot, stop, latencies, inject))
            started = time.monotonic()
            lost = await send(app_bot, plain, jobs)
            seconds = time.monotonic() - started
            stop.set()
            await probe
        injected = 1 if inject_429 else 0
        return Result(
            name=name + (" + one 429 (retry_after 5 s)" if inject_429 else ""),
            seconds=seconds,
            rate_limited=server.state.calls.rate_limited - injected,
            lost=lost,
            worst_reply=max(latencies, default=0.0),
            replies=len(latencies),
        )
    finally:
        await server.stop()


async def main(users: int, per_user: int) -> None:
    def ptb(app_bot: Bot, _plain: Bot, jobs: list[tuple[int, str]]) -> Awaitable[int]:
        return _with_ptb(app_bot, jobs)

    def ours(_app_bot: Bot, plain: Bot, jobs: list[tuple[int, str]]) -> Awaitable[int]:
        return _with_ours(plain, jobs)

    print(f"{users} users x {per_user} messages each, back to back; sandbox at Telegram's limits")
    print(f"{'scenario':70} {'time':>7} {'429s':>5} {'lost':>5} {'worst reply':>12}")
    for inject in (False, True):
        for name, send in (("PTB AIORateLimiter on the Application bot", ptb), ("ours", ours)):
            r = await scenario(name, users, per_user, inject, send)
            print(
                f"{r.name:70} {r.seconds:6.1f}s {r.rate_limited:5d} {r.lost:5d} "
                f"{r.worst_reply:11.2f}s"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Compare PTB's AIORateLimiter with our pacer.")
    parser.add_argument("--users", type=int, default=60)
    parser.add_argument("--per-user", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.users, args.per_user))
