"""The people list of the web chat: who one can be, the chats each is in, and who they are.

The page's left column needs, for every person, the chats they would see in a
Telegram client: the private chat with the bot (even before they ever wrote, so
a newcomer can press Start) and the groups they are in, each with its last
message for the preview line. The sandbox knows nothing about the union, so an
optional hook (``SandboxOptions.user_info``) adds what the application knows,
such as a role badge. The hook belongs to another program: whatever it does
(raises, hangs, returns nonsense), the list still answers, without that person's
extra info.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sandbox import views
from sandbox.state import BotAccount, ChatRecord, MessageRecord, UserRecord, World

log = logging.getLogger(__name__)

UserInfo = Callable[[int], Awaitable[dict[str, Any]]]
INFO_TIMEOUT = 3.0
JSON = dict[str, Any]


def _last_message(chat: ChatRecord | None) -> MessageRecord | None:
    if chat is None:
        return None
    for message in reversed(chat.messages.values()):
        if not message.deleted:
            return message
    return None


def _preview(world: World, chat: ChatRecord | None) -> JSON | None:
    """What a chat list shows under a chat's title: the last message, briefly."""
    message = _last_message(chat)
    if message is None:
        return None
    media = world.files.get(message.file_id) if message.file_id else None
    sender = world.users.get(message.sender_id)
    return {
        "id": message.message_id,
        "date": message.date,
        "from_id": message.sender_id,
        "from_name": sender.full_name if sender else None,
        "text": message.text if message.text is not None else message.caption,
        "media": media.kind if media else None,
        "service": views.service_view(world, message.service) if message.service else None,
    }


def chats_of(world: World, bot: BotAccount, person: UserRecord) -> list[JSON]:
    """The person's chat list: the private chat with ``bot`` first, then their groups."""
    private = world.private.get((bot.id, person.id))
    entries = [
        {
            "chat_id": person.id,
            "type": "private",
            "title": bot.user.full_name,
            "username": bot.user.username,
            "bot_id": bot.id,
            "status": "member",
            "started": private is not None and bool(private.messages),
            "blocked": private.blocked if private else False,
            "last": _preview(world, private),
        }
    ]
    for group in world.groups.values():
        member = group.member(person.id)
        if member is None or not member.active:
            continue
        entries.append(
            {
                "chat_id": group.id,
                "type": group.type,
                "title": group.title,
                "username": group.username,
                "bot_id": None,
                "status": member.status,
                "member_count": sum(1 for m in group.members.values() if m.active),
                "last": _preview(world, group),
            }
        )
    return entries


async def _info(hook: UserInfo | None, user_id: int) -> tuple[JSON, str | None]:
    """The hook's answer for one person, or ({}, what went wrong)."""
    if hook is None:
        return {}, None
    try:
        info = await asyncio.wait_for(hook(user_id), INFO_TIMEOUT)
    except TimeoutError:
        return {}, "timed out"
    except Exception as error:  # the hook is someone else's code; the list must still answer
        log.warning("user_info hook failed: %r", error)
        return {}, type(error).__name__
    if not isinstance(info, dict):
        return {}, "not an object"
    # Whatever values it holds (dates, enums), the answer must still be JSON.
    return json.loads(json.dumps(info, default=str)), None


async def people(world: World, bot: BotAccount, hook: UserInfo | None) -> list[JSON]:
    """Every person (not bots) with their chats and the hook's info, in creation order."""
    persons = [u for u in world.users.values() if not u.is_bot]
    infos = await asyncio.gather(*(_info(hook, p.id) for p in persons))
    result = []
    for person, (info, error) in zip(persons, infos, strict=True):
        entry = {**views.person(person), "chats": chats_of(world, bot, person), "info": info}
        if error is not None:
            entry["info_error"] = error
        result.append(entry)
    return result
