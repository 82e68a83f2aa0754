"""Helpers for the broadcast tests: people in the sandbox and the database, and what they got."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from jobs.delivery import wake_after_commit
from sandbox.driver import ChatMessage, SandboxUser
from storage import broadcasts, members
from storage.db import transaction
from storage.models import Broadcast, Outbox
from tests.harness import BotHarness


@dataclass(frozen=True)
class Person:
    name: str
    department: str | None = None
    groups: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    language: str = "zh_CN"


async def add_people(bot: BotHarness, people: Sequence[Person]) -> dict[str, SandboxUser]:
    """Sandbox users registered straight into the database (registration has its own tests)."""
    users: dict[str, SandboxUser] = {}
    async with transaction(bot.runtime.sessions) as session:
        groups = {g.name: g for g in await members.list_groups(session)}
        for person in people:
            user = await bot.driver.create_user(person.name)
            # As if they had pressed Start long ago: the bot may write to them.
            bot.server.actions.open_private(bot.driver.bot_id, user.id)
            member = await members.register(
                session,
                telegram_id=user.id,
                name=person.name,
                department=person.department,
                birthday=None,
                language=person.language,
            )
            await session.refresh(member, ["tags", "groups"])
            await members.set_tags(session, member, person.tags)
            for name in person.groups:
                if name not in groups:
                    groups[name] = await members.add_group(session, name)
                await members.join_group(session, member, groups[name])
            users[person.name] = user
    return users


async def received(user: SandboxUser) -> list[ChatMessage]:
    return await user.bot_messages()


async def last_with(user: SandboxUser, needle: str, *, exact: bool = False) -> ChatMessage:
    """The bot's newest message to ``user`` containing ``needle``.

    By content rather than position: other features (grievance alerts to admins)
    may write into the same chat at any moment.
    """
    for message in reversed(await received(user)):
        if (message.content == needle) if exact else (needle in message.content):
            return message
    raise AssertionError(f"no message from the bot contains {needle!r}")


async def wait_received(bot: BotHarness, users: Sequence[SandboxUser], count: int = 1) -> None:
    """Until each of ``users`` has ``count`` messages from the bot (fails after a while)."""

    async def arrived() -> bool:
        for user in users:
            if len(await received(user)) < count:
                return False
        return True

    await bot.driver.wait_for(arrived, timeout=10, what="every recipient got the broadcast")


async def wait_text(bot: BotHarness, user: SandboxUser, needle: str) -> ChatMessage:
    """Until one of the bot's messages to ``user`` contains ``needle`` (edits included)."""

    async def found() -> ChatMessage | None:
        for message in reversed(await received(user)):
            if needle in message.content:
                return message
        return None

    message: ChatMessage = await bot.driver.wait_for(found, timeout=10, what=repr(needle))
    return message


async def outbox_rows(bot: BotHarness, group: str | None = None) -> list[Outbox]:
    """The broadcasts' rows (other features have rows of their own in the outbox)."""
    async with bot.runtime.sessions() as session:
        query = (
            select(Outbox)
            .where(Outbox.kind.in_([broadcasts.KIND, broadcasts.REPORT_KIND]))
            .order_by(Outbox.id)
        )
        if group is not None:
            query = query.where(Outbox.group_key == group)
        return list(await session.scalars(query))


async def broadcast_rows(bot: BotHarness) -> list[Broadcast]:
    async with bot.runtime.sessions() as session:
        return list(await session.scalars(select(Broadcast).order_by(Broadcast.id)))


def wake(bot: BotHarness) -> Any:
    return lambda session: wake_after_commit(session, bot.application)


async def statuses(bot: BotHarness, group: str) -> list[str]:
    return sorted(row.status for row in await outbox_rows(bot, group))


async def wait_final(bot: BotHarness, group: str) -> list[str]:
    """Until the worker has recorded an outcome for every row of the broadcast."""

    async def final() -> list[str] | None:
        found = await statuses(bot, group)
        return found if found and not {"pending", "claimed", "sending"} & set(found) else None

    result: list[str] = await bot.driver.wait_for(final, timeout=10, what=f"{group} is final")
    return result
