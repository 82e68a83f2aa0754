"""The handbook as a member meets it: opening it, searching it, reading its buttons."""

from __future__ import annotations

from sqlalchemy import select

from sandbox.driver import ChatMessage, SandboxUser
from storage.models import HandbookEntry
from tests.support.bot import BotHarness
from tests.support.chat import buttons

MENU_LABEL = "📖 职工服务手册"


async def open_handbook(user: SandboxUser) -> ChatMessage:
    """Through the main menu's button: the contents."""
    await user.send(MENU_LABEL)
    return await user.last_bot_message()


async def search(user: SandboxUser, words: str) -> ChatMessage:
    """`/handbook <words>`: the results message."""
    await user.send(f"/handbook {words}")
    return await user.last_bot_message()


def entry_buttons(message: ChatMessage) -> list[str]:
    """The entries a message offers (📄 …), in order, without the mark."""
    return [label.removeprefix("📄 ") for label in buttons(message) if label.startswith("📄 ")]


async def entry_id(bot: BotHarness, title_zh: str) -> int:
    async with bot.runtime.sessions() as session:
        found = await session.scalar(
            select(HandbookEntry.id).where(HandbookEntry.title_zh == title_zh)
        )
    assert found is not None, title_zh
    return found
