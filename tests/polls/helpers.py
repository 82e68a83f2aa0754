"""Shared steps of the poll tests: people, a poll made through the chat, waiting for delivery."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from core.i18n import translator
from sandbox.driver import ChatMessage, SandboxUser
from storage import polls
from storage.models import Poll
from storage.polls import PollView
from tests.e2e.test_membership import register
from tests.harness import ADMIN_ID, BotHarness


async def admin(bot: BotHarness) -> SandboxUser:
    user = await bot.driver.user(ADMIN_ID)
    await register(bot, user, "周主席", "行政办公室")
    return user


async def member(bot: BotHarness, name: str, department: str = "装配车间") -> SandboxUser:
    user = await bot.driver.create_user(name)
    await register(bot, user, name, department)
    return user


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


async def wait_message(
    bot: BotHarness,
    user: SandboxUser,
    starts: str,
    *,
    count: int = 1,
    media: bool = False,
    chat: int | None = None,
) -> ChatMessage:
    """The newest bot message in the user's chat starting with ``starts``, once ``count`` exist
    (the outbox delivers in the background, so the test waits on the sandbox's events)."""

    async def found() -> ChatMessage | None:
        matching = [
            m
            for m in await user.bot_messages(chat)
            if (m.media is not None if media else True) and m.content.startswith(starts)
        ]
        return matching[-1] if len(matching) >= count else None

    message = await bot.driver.wait_for(found, timeout=10, what=f"a message starting {starts!r}")
    assert isinstance(message, ChatMessage)
    return message


async def newest(user: SandboxUser, starts: str = "", *, document: bool = False) -> ChatMessage:
    """The newest bot message in the user's private chat that starts with ``starts`` (or
    carries a document). Admins and cadres also get notices from other features at any
    moment, so "the last message" is not always the answer to their last tap."""
    for message in reversed(await user.bot_messages()):
        if document and (message.media is None or message.media.kind != "document"):
            continue
        if message.content.startswith(starts):
            return message
    raise LookupError(f"no bot message starting with {starts!r}")


def buttons(message: ChatMessage) -> set[str]:
    return {button.text for row in message.buttons for button in row}


def zh(msgid: str) -> str:
    """A label in Chinese, for labels other features share (their wording may change)."""
    return translator("zh_CN").gettext(msgid)
