"""`setMyCommands` per scope and per language, so each person sees their own list.

Members see member commands in every private chat; admins additionally see
admin commands in their own chat; the cadre and escalation groups see cadre
commands. Each shared list is set once per supported language and once without
a language (the union's default), which follows the Telegram app's language.

A member who chose a language (at registration or with /language) gets their
own list in their private chat: Telegram puts a chat's list without a language
code before any list of all private chats, so the menu follows the member's
choice, not the app's. A cadre gets the cadre list in their language in the
union's groups the same way (a chat-member scope). These calls follow a change
already committed; one that fails is logged and changes nothing else.
"""

from __future__ import annotations

import logging

from telegram import (
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeChatMember,
)
from telegram.error import TelegramError
from telegram.ext import Application

from core.i18n import translator
from core.runtime import CommandScope, Runtime, runtime_of
from core.settings import SUPPORTED_LANGUAGES
from storage import members
from storage.db import transaction
from storage.models import Role

log = logging.getLogger(__name__)

# Telegram wants two-letter language codes for command lists.
TELEGRAM_LANGUAGE = {"zh_CN": "zh", "en": "en"}


def app_language(language_code: str | None, default: str) -> str:
    """The language of the shared list Telegram shows a person whose app is in ``language_code``."""
    code = (language_code or "").split("-", 1)[0].lower()
    for language, telegram in TELEGRAM_LANGUAGE.items():
        if telegram == code:
            return language
    return default


def commands_for(runtime: Runtime, scopes: set[CommandScope], language: str) -> list[BotCommand]:
    t = translator(language)
    return [
        BotCommand(spec.name, t.gettext(spec.description))
        for spec in runtime.commands
        if spec.scopes & scopes
    ]


async def _set(application: Application, scope: BotCommandScope, wanted: set[CommandScope]) -> None:
    runtime = runtime_of(application)
    bot = application.bot
    default = runtime.settings.default_language
    await bot.set_my_commands(commands_for(runtime, wanted, default), scope=scope)
    for language in SUPPORTED_LANGUAGES:
        await bot.set_my_commands(
            commands_for(runtime, wanted, language),
            scope=scope,
            language_code=TELEGRAM_LANGUAGE[language],
        )


def _groups(runtime: Runtime) -> list[int]:
    settings = runtime.settings
    return sorted({c for c in (settings.cadre_chat_id, settings.escalation_chat_id) if c})


async def set_member_commands(
    application: Application,
    telegram_id: int,
    language: str | None,
    role: Role,
    *,
    was_cadre: bool = False,
) -> None:
    """One person's lists in their language: their private chat, and the union's groups for cadres.

    ``language`` None (no member row, e.g. an admin from settings who never
    registered) is the union's default. ``was_cadre``: a member who was a cadre
    until now loses their list in the groups.
    """
    runtime = runtime_of(application)
    bot = application.bot
    language = language or runtime.settings.default_language
    wanted: set[CommandScope] = {"private", "admin"} if role is Role.ADMIN else {"private"}
    try:
        await bot.set_my_commands(
            commands_for(runtime, wanted, language), scope=BotCommandScopeChat(telegram_id)
        )
        for chat_id in _groups(runtime) if role is not Role.MEMBER or was_cadre else ():
            scope = BotCommandScopeChatMember(chat_id, telegram_id)
            if role is Role.MEMBER:
                await bot.delete_my_commands(scope=scope)
            else:
                await bot.set_my_commands(
                    commands_for(runtime, {"cadre_group"}, language), scope=scope
                )
    except TelegramError as exc:
        # A person who never opened the bot has no chat yet; a new cadre may not be
        # in the group yet: their app shows the shared lists meanwhile.
        log.warning("commands for one person not set: %s", exc.message)


async def clear_member_commands(
    application: Application, telegram_id: int, *, was_cadre: bool
) -> None:
    """After /forget: the person's own lists go, the shared ones show again."""
    runtime = runtime_of(application)
    bot = application.bot
    try:
        await bot.delete_my_commands(scope=BotCommandScopeChat(telegram_id))
        for chat_id in _groups(runtime) if was_cadre else ():
            await bot.delete_my_commands(scope=BotCommandScopeChatMember(chat_id, telegram_id))
    except TelegramError as exc:
        log.warning("commands for one person not cleared: %s", exc.message)


async def publish_commands(application: Application) -> None:
    runtime = runtime_of(application)
    await _set(application, BotCommandScopeAllPrivateChats(), {"private"})
    for chat_id in _groups(runtime):
        try:
            await _set(application, BotCommandScopeChat(chat_id), {"cadre_group"})
        except TelegramError as exc:
            log.warning("cadre group commands not set (chat %s): %s", chat_id, exc.message)
    async with transaction(runtime.sessions) as session:
        admins = await members.admin_languages(session, runtime.settings.admin_ids)
    for telegram_id, language in sorted(admins.items()):
        await _drop_language_lists(application, telegram_id)
        await set_member_commands(application, telegram_id, language, Role.ADMIN)


async def _drop_language_lists(application: Application, telegram_id: int) -> None:
    """Per-language lists in an admin's chat (as earlier versions set them) would beat theirs."""
    try:
        for language in SUPPORTED_LANGUAGES:
            await application.bot.delete_my_commands(
                scope=BotCommandScopeChat(telegram_id), language_code=TELEGRAM_LANGUAGE[language]
            )
    except TelegramError as exc:
        log.warning("old admin commands not removed: %s", exc.message)
