"""Bot command lists per scope and language, and which list a user actually sees.

setMyCommands stores a list under (scope, language); getMyCommands reads exactly
that slot back. What a user sees in the command menu is found by Telegram's
documented fallback order, implemented in :func:`visible_commands` so tests and
the web chat can check, for example, that cadres see cadre commands in their group.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.errors import bad_request
from sandbox.state import BotAccount, ChatRecord, UserRecord, World

_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")
MAX_COMMANDS = 100


def validate_commands(value: Any) -> list[dict[str, str]]:
    """Check a ``commands`` array as Telegram does."""
    if not isinstance(value, list):
        raise bad_request("can't parse commands JSON object")
    if len(value) > MAX_COMMANDS:
        raise bad_request("too many commands specified")
    commands = []
    for item in value:
        if not isinstance(item, dict):
            raise bad_request("can't parse BotCommand")
        command, description = item.get("command"), item.get("description")
        if not isinstance(command, str) or not _COMMAND.match(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        commands.append({"command": command, "description": description})
    return commands


def validate_language(value: str | None) -> str:
    """An ISO 639-1 code or "" (all languages)."""
    if not value:
        return ""
    if not _LANGUAGE.match(value):
        raise bad_request("invalid language_code specified")
    return value


def scope_key(world: World, bot: BotAccount, scope: Any) -> str:
    """Turn a ``BotCommandScope`` object into a storage key, checking its chat exists."""
    if scope is None:
        return "default"
    if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
        raise bad_request("can't parse BotCommandScope JSON object")
    kind = scope["type"]
    if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
        return kind
    if kind not in ("chat", "chat_administrators", "chat_member"):
        raise bad_request("unsupported bot command scope type")
    chat_id = scope.get("chat_id")
    if isinstance(chat_id, str) and chat_id.startswith("@"):
        group = world.group_by_username(chat_id)
        chat_id = group.id if group else None
    if not isinstance(chat_id, int) or world.chat(bot.id, chat_id) is None:
        raise bad_request("chat not found")
    if kind == "chat":
        return f"chat:{chat_id}"
    if chat_id > 0:
        raise bad_request(f"can't use BotCommandScope {kind} in private chats")
    if kind == "chat_administrators":
        return f"chat_administrators:{chat_id}"
    user_id = scope.get("user_id")
    if not isinstance(user_id, int) or user_id not in world.users:
        raise bad_request("user not found")
    return f"chat_member:{chat_id}:{user_id}"


def visible_commands(
    bot: BotAccount, chat: ChatRecord, person: UserRecord
) -> tuple[str, list[dict[str, str]]]:
    """The command list ``person`` sees in ``chat`` and the scope it came from.

    Follows the order in the Bot API documentation ("Determining list of commands").
    """
    language = (person.language_code or "").split("-", 1)[0].lower()
    if chat.is_private:
        scopes = [f"chat:{chat.id}", "all_private_chats", "default"]
    else:
        member = chat.member(person.id)
        is_admin = member is not None and member.is_admin
        scopes = [f"chat_member:{chat.id}:{person.id}"]
        if is_admin:
            scopes.append(f"chat_administrators:{chat.id}")
        scopes.append(f"chat:{chat.id}")
        if is_admin:
            scopes.append("all_chat_administrators")
        scopes.extend(["all_group_chats", "default"])
    languages = [language, ""] if language else [""]
    for scope in scopes:
        for lang in languages:
            commands = bot.commands.get((scope, lang))
            if commands:
                return f"{scope}|{lang}", commands
    return "", []
