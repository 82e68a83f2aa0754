"""JSON views of the world for the control API, the driver and the web chat.

These are the sandbox's own shapes, made for display and for tests: a message view
carries ready-to-insert safe HTML and a download URL for its media, which Bot API
``Message`` objects do not.
"""

from __future__ import annotations

from typing import Any

from sandbox.html_text import render_html
from sandbox.keyboards import keyboard_for, keyboard_json
from sandbox.state import ChatRecord, FileRecord, MessageRecord, UserRecord, World

JSON = dict[str, Any]
FILE_URL = "/sandbox/api/files/{file_id}"


def person(record: UserRecord) -> JSON:
    """A user or bot, with a display name."""
    return {
        "id": record.id,
        "is_bot": record.is_bot,
        "first_name": record.first_name,
        "last_name": record.last_name,
        "username": record.username,
        "language_code": record.language_code,
        "name": record.full_name,
    }


def media(record: FileRecord) -> JSON:
    """A file attached to a message, with the sandbox URL that serves it."""
    return {
        "kind": record.kind,
        "file_id": record.file_id,
        "file_unique_id": record.file_unique_id,
        "file_name": record.file_name,
        "mime_type": record.mime_type,
        "size": record.size,
        "width": record.width,
        "height": record.height,
        "duration": record.duration,
        "url": FILE_URL.format(file_id=record.file_id),
    }


def service_view(world: World, service: dict[str, Any]) -> JSON:
    """A service message's facts plus an English sentence for display."""
    data: JSON = dict(service)
    if "new_chat_members" in service:
        names = ", ".join(world.users[uid].full_name for uid in service["new_chat_members"])
        data["text"] = f"{names} joined the group"
    elif "left_chat_member" in service:
        data["text"] = f"{world.users[service['left_chat_member']].full_name} left the group"
    elif "pinned_message" in service:
        data["text"] = "pinned a message"
    elif "group_chat_created" in service:
        data["text"] = "created the group"
    return data


def message(world: World, chat: ChatRecord, record: MessageRecord) -> JSON:
    """Everything the web chat needs to draw one message."""
    stored = world.files.get(record.file_id) if record.file_id else None
    return {
        "id": record.message_id,
        "chat_id": chat.id,
        "bot_id": chat.bot_id,
        "from": person(world.users[record.sender_id]),
        "date": record.date,
        "text": record.text,
        "entities": record.entities,
        "html": render_html(record.text or "", record.entities),
        "caption": record.caption,
        "caption_entities": record.caption_entities,
        "caption_html": render_html(record.caption or "", record.caption_entities),
        "media": media(stored) if stored else None,
        "reply_to": record.reply_to,
        "buttons": record.inline_keyboard,
        "edited": record.edit_date is not None,
        "edit_date": record.edit_date,
        "deleted": record.deleted,
        "service": service_view(world, record.service) if record.service else None,
        "forward_origin": record.forward_origin,
        "protected": record.protect_content,
    }


def member(world: World, user_id: int, chat: ChatRecord) -> JSON:
    record = chat.members[user_id]
    data: JSON = {**person(world.users[user_id]), "status": record.status}
    if record.status == "administrator":
        data["rights"] = dict(record.rights)
    if record.until_date:
        data["until_date"] = record.until_date
    return data


def chat(world: World, record: ChatRecord) -> JSON:
    """A chat with its members (groups) or its user and bot (private)."""
    data: JSON = {
        "id": record.id,
        "type": record.type,
        "title": record.title,
        "username": record.username,
        "bot_id": record.bot_id,
        "pinned": list(record.pinned),
        "message_count": len(record.messages),
    }
    if record.is_private:
        data["title"] = world.users[record.id].full_name
        data["user_id"] = record.id
        data["blocked"] = record.blocked
    else:
        data["members"] = [member(world, uid, record) for uid in record.members]
        data["invite_links"] = [
            {
                "invite_link": link.link,
                "name": link.name,
                "expire_date": link.expire_date,
                "member_limit": link.member_limit,
                "joined": link.joined,
                "is_revoked": link.is_revoked,
            }
            for link in record.invite_links.values()
        ]
    return data


def user(world: World, record: UserRecord) -> JSON:
    """A user and the chats they can see."""
    chats = []
    for item in world.chats_of_user(record.id):
        status = "member" if item.is_private else item.members[record.id].status
        chats.append(
            {
                "chat_id": item.id,
                "type": item.type,
                "title": item.title if not item.is_private else None,
                "bot_id": item.bot_id,
                "status": status,
                "blocked": item.blocked if item.is_private else None,
            }
        )
    return {**person(record), "chats": chats}


def keyboard(chat_record: ChatRecord, user_id: int) -> JSON | None:
    """The reply keyboard or force-reply a user has in a chat, or None."""
    return keyboard_json(keyboard_for(chat_record, user_id))
