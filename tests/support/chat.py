"""What a person does and sees in the chat: registering through it, and finding the bot's messages."""

from __future__ import annotations

from collections.abc import Sequence

from core.i18n import translator
from sandbox.driver import ChatMessage, SandboxUser
from storage.models import Role
from tests.support.bot import BotHarness
from tests.support.config import ADMIN_ID, CADRE_CHAT
from tests.support.members import set_role

# People -------------------------------------------------------------------------------


async def register(
    bot: BotHarness, user: SandboxUser, name: str = "王小明", department: str = "装配车间"
) -> None:
    """Through the registration conversation, in Chinese, no birthday."""
    await user.send("/start")
    await user.press("简体中文")
    await user.send(name)
    await user.send(department)
    await user.send("⏭ 跳过")
    await user.send("✅ 确认")


async def registered(
    bot: BotHarness,
    name: str = "王小明",
    department: str = "装配车间",
    *,
    first_name: str | None = None,
    last_name: str | None = None,
    username: str | None = None,
) -> SandboxUser:
    """A new Telegram user (named ``first_name``, or ``name``) who registered through the chat."""
    user = await bot.driver.create_user(first_name or name, last_name, username=username)
    await register(bot, user, name, department)
    return user


async def registered_admin(bot: BotHarness) -> SandboxUser:
    """The admin of the settings, registered as the union's chair."""
    user = await bot.driver.user(ADMIN_ID)
    await register(bot, user, "周主席", "行政办公室")
    return user


async def registered_cadre(
    bot: BotHarness,
    name: str = "李干事",
    department: str = "工会办公室",
    *,
    first_name: str = "Li",
    username: str | None = "li_cadre",
    chat: int = CADRE_CHAT,
) -> SandboxUser:
    """A member made cadre, in the cadre group (or ``chat``)."""
    cadre = await registered(bot, name, department, first_name=first_name, username=username)
    await set_role(bot, cadre, Role.CADRE)
    await bot.driver.add_member(chat, cadre)
    return cadre


# Keyboards ----------------------------------------------------------------------------


def flat(keyboard: list[list[str]] | None) -> set[str]:
    """The labels of a reply keyboard (`SandboxUser.reply_keyboard`)."""
    return {label for row in keyboard or [] for label in row}


def buttons(message: ChatMessage) -> list[str]:
    """The labels of a message's inline buttons, row by row."""
    return [button.text for row in message.buttons for button in row]


def zh(msgid: str) -> str:
    """A label in Chinese, for labels other features share (their wording may change)."""
    return translator("zh_CN").gettext(msgid)


# Finding the bot's messages -----------------------------------------------------------
# By content rather than position: other features (alerts to admins and cadres, the
# outbox delivering in the background) may write into the same chat at any moment.


async def received(user: SandboxUser) -> list[ChatMessage]:
    return await user.bot_messages()


async def texts(user: SandboxUser) -> list[str]:
    return [m.content for m in await user.bot_messages()]


async def last_with(user: SandboxUser, needle: str, *, exact: bool = False) -> ChatMessage:
    """The bot's newest message to ``user`` containing (or being) ``needle``."""
    for message in reversed(await received(user)):
        if (message.content == needle) if exact else (needle in message.content):
            return message
    raise AssertionError(f"no message from the bot contains {needle!r}")


async def newest(user: SandboxUser, starts: str = "", *, document: bool = False) -> ChatMessage:
    """The newest bot message in the user's private chat that starts with ``starts`` (or
    carries a document)."""
    for message in reversed(await user.bot_messages()):
        if document and (message.media is None or message.media.kind != "document"):
            continue
        if message.content.startswith(starts):
            return message
    raise LookupError(f"no bot message starting with {starts!r}")


async def wait_message(
    bot: BotHarness,
    user: SandboxUser,
    starts: str,
    *,
    count: int = 1,
    media: bool = False,
    chat: int | None = None,
) -> ChatMessage:
    """The newest bot message in the user's chat starting with ``starts``, once ``count`` exist."""

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


async def wait_text(bot: BotHarness, user: SandboxUser, needle: str) -> ChatMessage:
    """Until one of the bot's messages to ``user`` contains ``needle`` (edits included)."""

    async def found() -> ChatMessage | None:
        for message in reversed(await received(user)):
            if needle in message.content:
                return message
        return None

    message: ChatMessage = await bot.driver.wait_for(found, timeout=10, what=repr(needle))
    return message


async def wait_received(bot: BotHarness, users: Sequence[SandboxUser], count: int = 1) -> None:
    """Until each of ``users`` has ``count`` messages from the bot (fails after a while)."""

    async def arrived() -> bool:
        for user in users:
            if len(await received(user)) < count:
                return False
        return True

    await bot.driver.wait_for(
        arrived, timeout=10, what=f"each of {len(users)} users got {count} messages"
    )
