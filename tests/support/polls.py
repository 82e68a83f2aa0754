"""Polls for tests: one made through the chat, and reading it back."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from sandbox.driver import SandboxUser
from storage import polls
from storage.models import Poll
from storage.polls import PollKeys, PollView
from tests.support.bot import BotHarness
from tests.support.config import SECRET

KEYS = PollKeys.from_secret(SECRET)


async def create_poll(
    creator: SandboxUser,
    question: str,
    options: Sequence[str],
    presses: Sequence[str] = (),
) -> None:
    """Through the chat: question, options (one message, one per line), settings, publish."""
    await creator.send("/newpoll")
    await creator.send(question)
    await creator.send("\n".join(options))
    await creator.send("✅ 完成")
    for label in presses:
        await creator.press(label)
    await creator.press("👁 预览")
    await creator.press("✅ 发布")


async def latest_poll(bot: BotHarness) -> PollView:
    async with bot.runtime.sessions() as session:
        poll_id = await session.scalar(select(Poll.id).order_by(Poll.id.desc()).limit(1))
        assert poll_id is not None
        return await polls.get(session, poll_id)


async def tally(bot: BotHarness, view: PollView) -> polls.Tally:
    async with bot.runtime.sessions() as session:
        return await polls.tally(session, view)
