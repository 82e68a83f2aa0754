"""Bot API methods about chats: info, members, pins, invite links, bans, commands."""

from __future__ import annotations

import secrets
from typing import Any

from sandbox import schema
from sandbox.commands import scope_key, validate_commands, validate_language
from sandbox.context import ApiContext, Handler
from sandbox.errors import bad_request
from sandbox.state import ChatRecord, InviteLink, UserRecord

MAX_LINK_NAME = 32
MAX_MEMBER_LIMIT = 99999
BAN_MIN_SECONDS = 30
BAN_MAX_SECONDS = 366 * 24 * 3600


async def get_chat(ctx: ApiContext) -> dict[str, Any]:
    return schema.chat_full(ctx.world, ctx.chat())


def _person(ctx: ApiContext) -> UserRecord:
    user_id = ctx.params.require_int("user_id")
    person = ctx.world.users.get(user_id)
    if person is None:
        raise bad_request("user not found")
    return person


async def get_chat_member(ctx: ApiContext) -> dict[str, Any]:
    chat = ctx.chat()
    person = _person(ctx)
    if chat.is_private:
        if person.id not in (chat.id, ctx.bot.id):
            raise bad_request("user not found")
        return {"status": "member", "user": schema.user(person)}
    return schema.chat_member(chat.member(person.id), person)


async def get_chat_administrators(ctx: ApiContext) -> list[dict[str, Any]]:
    chat = ctx.chat()
    if chat.is_private:
        raise bad_request("there are no administrators in the private chat")
    return [
        schema.chat_member(member, ctx.world.users[user_id])
        for user_id, member in chat.members.items()
        if member.is_admin
    ]


async def get_chat_member_count(ctx: ApiContext) -> int:
    chat = ctx.chat()
    if chat.is_private:
        return 2
    return sum(1 for member in chat.members.values() if member.active)


def _pin_rights(ctx: ApiContext, chat: ChatRecord) -> None:
    if not chat.is_private:
        ctx.require_right(
            chat, "can_pin_messages", "not enough rights to manage pinned messages in the chat"
        )


async def pin_chat_message(ctx: ApiContext) -> bool:
    chat = ctx.chat()
    _pin_rights(ctx, chat)
    record = chat.live_message(ctx.params.require_int("message_id"))
    if record is None or record.service is not None:
        raise bad_request("message to pin not found")
    ctx.actions.pin(ctx.bot, chat, record)
    return True


async def unpin_chat_message(ctx: ApiContext) -> bool:
    chat = ctx.chat()
    _pin_rights(ctx, chat)
    message_id = ctx.params.get_int("message_id")
    if message_id is None:
        if chat.pinned:
            ctx.actions.unpin(chat, chat.pinned[-1])
        return True
    if message_id not in chat.pinned:
        raise bad_request("message to unpin not found")
    ctx.actions.unpin(chat, message_id)
    return True


async def unpin_all_chat_messages(ctx: ApiContext) -> bool:
    chat = ctx.chat()
    _pin_rights(ctx, chat)
    for message_id in list(chat.pinned):
        ctx.actions.unpin(chat, message_id)
    return True


async def create_chat_invite_link(ctx: ApiContext) -> dict[str, Any]:
    chat = ctx.chat()
    ctx.require_group(chat)
    ctx.require_right(chat, "can_invite_users", "not enough rights to manage chat invite link")
    name = ctx.params.get_str("name")
    if name is not None and len(name) > MAX_LINK_NAME:
        raise bad_request("invite link name is too long")
    expire_date = ctx.params.get_int("expire_date")
    if expire_date is not None and expire_date <= ctx.world.now():
        raise bad_request("EXPIRE_DATE_INVALID")
    member_limit = ctx.params.get_int("member_limit")
    if member_limit is not None and not 1 <= member_limit <= MAX_MEMBER_LIMIT:
        raise bad_request("USAGE_LIMIT_INVALID")
    if ctx.params.get_bool("creates_join_request"):
        if member_limit is not None:
            raise bad_request("can't combine member_limit with creates_join_request")
        raise bad_request("join requests are not supported by the sandbox")
    link = InviteLink(
        link=f"https://t.me/+{secrets.token_urlsafe(12)}",
        chat_id=chat.id,
        creator_id=ctx.bot.id,
        created=ctx.world.now(),
        name=name or None,
        expire_date=expire_date,
        member_limit=member_limit,
    )
    chat.invite_links[link.link] = link
    ctx.world.invite_links[link.link] = link
    ctx.world.events.emit(
        "member", chat.id, change="invite_link", invite_link=link.link, name=link.name
    )
    return schema.invite_link_json(ctx.world, link)


def _restrict_target(ctx: ApiContext, chat: ChatRecord) -> UserRecord:
    ctx.require_group(chat)
    ctx.require_right(
        chat, "can_restrict_members", "not enough rights to restrict/unrestrict chat member"
    )
    person = _person(ctx)
    if person.id == ctx.bot.id:
        raise bad_request("can't restrict self")
    member = chat.member(person.id)
    if member is not None and member.status == "creator":
        raise bad_request("can't remove chat owner")
    if member is not None and member.status == "administrator":
        raise bad_request("user is an administrator of the chat")
    return person


async def ban_chat_member(ctx: ApiContext) -> bool:
    chat = ctx.chat()
    person = _restrict_target(ctx, chat)
    until = ctx.params.get_int("until_date") or 0
    remaining = until - ctx.world.now()
    if until and not BAN_MIN_SECONDS <= remaining <= BAN_MAX_SECONDS:
        until = 0  # Telegram treats too short or too long bans as forever
    ctx.actions.set_status(chat, person.id, "kicked", actor_id=ctx.bot.id, until_date=until)
    if ctx.params.get_bool("revoke_messages"):
        for record in list(chat.messages.values()):
            if record.sender_id == person.id and not record.deleted:
                ctx.actions.mark_deleted(chat, record)
    return True


async def unban_chat_member(ctx: ApiContext) -> bool:
    chat = ctx.chat()
    person = _restrict_target(ctx, chat)
    member = chat.member(person.id)
    if member is None or member.status == "left":
        return True
    if member.active and ctx.params.get_bool("only_if_banned"):
        return True
    # Unbanning a present member removes them, so they "can join again" (Bot API docs).
    ctx.actions.set_status(chat, person.id, "left", actor_id=ctx.bot.id)
    return True


async def leave_chat(ctx: ApiContext) -> bool:
    chat = ctx.chat()
    if chat.is_private:
        raise bad_request("chat member status can't be changed in private chats")
    ctx.actions.set_status(chat, ctx.bot.id, "left", actor_id=ctx.bot.id)
    return True


def _command_slot(ctx: ApiContext) -> tuple[str, str]:
    scope = scope_key(ctx.world, ctx.bot, ctx.params.get_json("scope"))
    return scope, validate_language(ctx.params.get_str("language_code"))


def _emit_commands(ctx: ApiContext, slot: tuple[str, str]) -> None:
    ctx.world.events.emit(
        "commands",
        None,
        bot_id=ctx.bot.id,
        scope=slot[0],
        language_code=slot[1],
        commands=ctx.bot.commands.get(slot, []),
    )


async def set_my_commands(ctx: ApiContext) -> bool:
    commands = validate_commands(ctx.params.get_json("commands"))
    slot = _command_slot(ctx)
    if commands:
        ctx.bot.commands[slot] = commands
    else:
        ctx.bot.commands.pop(slot, None)
    _emit_commands(ctx, slot)
    return True


async def get_my_commands(ctx: ApiContext) -> list[dict[str, str]]:
    return list(ctx.bot.commands.get(_command_slot(ctx), []))


async def delete_my_commands(ctx: ApiContext) -> bool:
    slot = _command_slot(ctx)
    ctx.bot.commands.pop(slot, None)
    _emit_commands(ctx, slot)
    return True


METHODS: dict[str, Handler] = {
    "getChat": get_chat,
    "getChatMember": get_chat_member,
    "getChatAdministrators": get_chat_administrators,
    "getChatMemberCount": get_chat_member_count,
    "pinChatMessage": pin_chat_message,
    "unpinChatMessage": unpin_chat_message,
    "unpinAllChatMessages": unpin_all_chat_messages,
    "createChatInviteLink": create_chat_invite_link,
    "banChatMember": ban_chat_member,
    "unbanChatMember": unban_chat_member,
    "leaveChat": leave_chat,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "deleteMyCommands": delete_my_commands,
}
