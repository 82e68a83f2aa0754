"""Builders of Bot API JSON objects from the world's records.

Each function returns exactly the fields the official Bot API schema defines for
that object (optional fields only when they have a value), so python-telegram-bot
and any other client parse the sandbox's answers unchanged.
"""

from __future__ import annotations

from typing import Any

from sandbox.state import (
    ADMIN_RIGHTS,
    BotAccount,
    CallbackRecord,
    ChatRecord,
    FileRecord,
    InviteLink,
    MemberRecord,
    MessageRecord,
    UserRecord,
    World,
)

JSON = dict[str, Any]


def user(record: UserRecord) -> JSON:
    """A ``User``."""
    data: JSON = {"id": record.id, "is_bot": record.is_bot, "first_name": record.first_name}
    if record.last_name:
        data["last_name"] = record.last_name
    if record.username:
        data["username"] = record.username
    if record.language_code and not record.is_bot:
        data["language_code"] = record.language_code
    return data


def me(bot: BotAccount) -> JSON:
    """The ``User`` getMe returns, with the bot-only capability fields."""
    return {
        **user(bot.user),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def chat(world: World, record: ChatRecord) -> JSON:
    """A ``Chat`` (the short form embedded in messages and updates)."""
    if record.is_private:
        person = world.users[record.id]
        data: JSON = {"id": record.id, "type": "private", "first_name": person.first_name}
        if person.last_name:
            data["last_name"] = person.last_name
        if person.username:
            data["username"] = person.username
        return data
    data = {"id": record.id, "type": record.type, "title": record.title or ""}
    if record.username:
        data["username"] = record.username
    return data


def chat_full(world: World, record: ChatRecord) -> JSON:
    """A ``ChatFullInfo`` for getChat."""
    data = chat(world, record)
    data.update(
        {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
    )
    pinned = next((record.live_message(m) for m in reversed(record.pinned)), None)
    if pinned is not None:
        data["pinned_message"] = message(world, record, pinned)
    if not record.is_private:
        data["permissions"] = {
            "can_send_messages": True,
            "can_send_audios": True,
            "can_send_documents": True,
            "can_send_photos": True,
            "can_send_videos": True,
            "can_send_video_notes": True,
            "can_send_voice_notes": True,
            "can_send_polls": True,
            "can_send_other_messages": True,
            "can_add_web_page_previews": True,
            "can_change_info": False,
            "can_invite_users": True,
            "can_pin_messages": False,
            "can_manage_topics": False,
        }
    return data


def photo_sizes(record: FileRecord) -> list[JSON]:
    """The ``PhotoSize`` list of a photo: the sandbox keeps only the original size."""
    return [
        {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "width": record.width or 0,
            "height": record.height or 0,
            "file_size": record.size,
        }
    ]


def document(record: FileRecord) -> JSON:
    """A ``Document``."""
    data: JSON = {
        "file_id": record.file_id,
        "file_unique_id": record.file_unique_id,
        "file_size": record.size,
    }
    if record.file_name:
        data["file_name"] = record.file_name
    if record.mime_type:
        data["mime_type"] = record.mime_type
    return data


def voice(record: FileRecord) -> JSON:
    """A ``Voice``."""
    data: JSON = {
        "file_id": record.file_id,
        "file_unique_id": record.file_unique_id,
        "duration": record.duration or 0,
        "file_size": record.size,
    }
    if record.mime_type:
        data["mime_type"] = record.mime_type
    return data


def file(record: FileRecord) -> JSON:
    """A ``File`` for getFile."""
    return {
        "file_id": record.file_id,
        "file_unique_id": record.file_unique_id,
        "file_size": record.size,
        "file_path": record.file_path,
    }


def media_fields(world: World, record: MessageRecord) -> JSON:
    """The photo/document/voice field of a message carrying a file."""
    if record.file_id is None:
        return {}
    stored = world.files[record.file_id]
    if stored.kind == "photo":
        return {"photo": photo_sizes(stored)}
    if stored.kind == "voice":
        return {"voice": voice(stored)}
    return {"document": document(stored)}


def _service_fields(world: World, chat_record: ChatRecord, service: dict[str, Any]) -> JSON:
    data: JSON = {}
    if "new_chat_members" in service:
        data["new_chat_members"] = [user(world.users[uid]) for uid in service["new_chat_members"]]
    if "left_chat_member" in service:
        data["left_chat_member"] = user(world.users[service["left_chat_member"]])
    if "pinned_message" in service:
        pinned = chat_record.messages.get(service["pinned_message"])
        if pinned is not None:
            data["pinned_message"] = message(world, chat_record, pinned, with_reply=False)
    if "group_chat_created" in service:
        data["group_chat_created"] = True
    return data


def message(
    world: World, chat_record: ChatRecord, record: MessageRecord, *, with_reply: bool = True
) -> JSON:
    """A ``Message`` in its current state (``reply_to_message`` is never nested twice)."""
    data: JSON = {
        "message_id": record.message_id,
        "from": user(world.users[record.sender_id]),
        "date": record.date,
        "chat": chat(world, chat_record),
    }
    if record.forward_origin is not None:
        data["forward_origin"] = record.forward_origin
    if with_reply and record.reply_to is not None:
        replied = chat_record.messages.get(record.reply_to)
        if replied is not None and not replied.deleted:
            data["reply_to_message"] = message(world, chat_record, replied, with_reply=False)
    if record.edit_date is not None:
        data["edit_date"] = record.edit_date
    if record.protect_content:
        data["has_protected_content"] = True
    if record.text is not None:
        data["text"] = record.text
        if record.entities:
            data["entities"] = record.entities
        if record.link_preview_options:
            data["link_preview_options"] = record.link_preview_options
    data.update(media_fields(world, record))
    if record.caption:
        data["caption"] = record.caption
        if record.caption_entities:
            data["caption_entities"] = record.caption_entities
    if record.service:
        data.update(_service_fields(world, chat_record, record.service))
    if record.inline_keyboard:
        data["reply_markup"] = {"inline_keyboard": record.inline_keyboard}
    return data


def chat_member(member: MemberRecord | None, person: UserRecord) -> JSON:
    """A ``ChatMember`` of the right subtype for the member's status."""
    status = member.status if member is not None else "left"
    data: JSON = {"status": status, "user": user(person)}
    if status == "creator":
        data["is_anonymous"] = False
        if member is not None and member.custom_title:
            data["custom_title"] = member.custom_title
    elif status == "administrator" and member is not None:
        data["can_be_edited"] = False
        data["is_anonymous"] = False
        for right in ADMIN_RIGHTS:
            data[right] = member.rights.get(right, False)
        if member.custom_title:
            data["custom_title"] = member.custom_title
    elif status == "kicked":
        data["until_date"] = member.until_date if member is not None else 0
    return data


def chat_member_updated(
    world: World,
    chat_record: ChatRecord,
    actor: UserRecord,
    person: UserRecord,
    old: MemberRecord | None,
    new: MemberRecord | None,
    invite_link: InviteLink | None = None,
) -> JSON:
    """A ``ChatMemberUpdated`` (for chat_member and my_chat_member updates)."""
    data: JSON = {
        "chat": chat(world, chat_record),
        "from": user(actor),
        "date": world.now(),
        "old_chat_member": chat_member(old, person),
        "new_chat_member": chat_member(new, person),
    }
    if invite_link is not None:
        data["invite_link"] = invite_link_json(world, invite_link)
    return data


def invite_link_json(world: World, link: InviteLink) -> JSON:
    """A ``ChatInviteLink``."""
    data: JSON = {
        "invite_link": link.link,
        "creator": user(world.users[link.creator_id]),
        "creates_join_request": link.creates_join_request,
        "is_primary": False,
        "is_revoked": link.is_revoked,
    }
    if link.name:
        data["name"] = link.name
    if link.expire_date is not None:
        data["expire_date"] = link.expire_date
    if link.member_limit is not None:
        data["member_limit"] = link.member_limit
    return data


def callback_query(world: World, chat_record: ChatRecord, record: CallbackRecord) -> JSON:
    """A ``CallbackQuery`` carrying the bot's full message."""
    pressed = chat_record.messages[record.message_id]
    return {
        "id": record.id,
        "from": user(world.users[record.user_id]),
        "message": message(world, chat_record, pressed),
        "chat_instance": chat_record.chat_instance,
        "data": record.data,
    }


def webhook_info(bot: BotAccount) -> JSON:
    """A ``WebhookInfo``."""
    hook = bot.webhook
    data: JSON = {
        "url": hook.url if hook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(bot.updates.pending),
    }
    if hook is not None:
        data["max_connections"] = hook.max_connections
        data["ip_address"] = "127.0.0.1"
        if hook.last_error_date is not None:
            data["last_error_date"] = hook.last_error_date
            data["last_error_message"] = hook.last_error_message or ""
    if bot.allowed_updates:
        data["allowed_updates"] = list(bot.allowed_updates)
    return data
