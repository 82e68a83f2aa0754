"""`setMyCommands` per scope and per language, so each person sees their own list.

Members see member commands in every private chat; admins additionally see
admin commands in their own chat; the cadre and escalation groups see cadre
commands. Each list is set once per supported language and once without a
language (the union's default).
"""

from __future__ import annotations

import logging

from telegram import (
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
)
from telegram.error import TelegramError
from telegram.ext import Application

from core.i18n import translator
from core.runtime import CommandScope, Runtime, runtime_of
from core.settings import SUPPORTED_LANGUAGES
from storage import members
from storage.db import transaction

log = logging.getLogger(__name__)

# Telegram wants two-letter language codes for command lists.
TELEGRAM_LANGUAGE = {"zh_CN": "zh", "en": "en"}


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


async def set_admin_commands(application: Application, telegram_id: int, is_admin: bool) -> None:
    """Show or hide the admin commands in one person's private chat."""
    scope = BotCommandScopeChat(telegram_id)
    try:
        if is_admin:
            await _set(application, scope, {"private", "admin"})
        else:
            await application.bot.delete_my_commands(scope=scope)
            for language in SUPPORTED_LANGUAGES:
                await application.bot.delete_my_commands(
                    scope=scope, language_code=TELEGRAM_LANGUAGE[language]
                )
    except TelegramError as exc:
        # An admin from settings who never opened the bot has no chat yet.
        log.warning("admin commands for one admin not set: %s", exc.message)


async def publish_commands(application: Application) -> None:
    runtime = runtime_of(application)
    settings = runtime.settings
    await _set(application, BotCommandScopeAllPrivateChats(), {"private"})
    groups = (settings.cadre_chat_id, settings.escalation_chat_id)
    for chat_id in {c for c in groups if c is not None}:
        try:
            await _set(application, BotCommandScopeChat(chat_id), {"cadre_group"})
        except TelegramError as exc:
            log.warning("cadre group commands not set (chat %s): %s", chat_id, exc.message)
    async with transaction(runtime.sessions) as session:
        admins = await members.admin_telegram_ids(session, settings.admin_ids)
    for telegram_id in sorted(admins):
        await set_admin_commands(application, telegram_id, True)
