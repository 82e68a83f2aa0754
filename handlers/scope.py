"""One session scope per update: the DB session, the loaded member, their language.

The decorators here are the single place where a handler's unit of work is
opened and finally committed or rolled back, where the member is loaded, and
where access by role is checked — so handlers stay thin and cannot forget any
of it. The unit is also committed before each Bot API request the handler
makes (`bot.request`): commit, then talk to Telegram.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.ext import ContextTypes

from core.i18n import N_, Translator, language_from_telegram, translator
from core.runtime import Runtime, runtime_of
from core.settings import Settings
from storage import members
from storage.db import committed_early, unit_of_work
from storage.models import Member, Role

Context = ContextTypes.DEFAULT_TYPE
# Added to an error when the handler had already committed part of its work
# (before a reply, `bot.request`): then the error handler's "nothing was saved"
# would be untrue (`bot.errors.message_for`).
PARTLY_SAVED_NOTE = "union-bot: the handler committed part of its work before it failed"


def mark_partly_saved(error: BaseException) -> None:
    if PARTLY_SAVED_NOTE not in getattr(error, "__notes__", ()):
        error.add_note(PARTLY_SAVED_NOTE)


R = TypeVar("R")
LANGUAGE_KEY = "language"


@dataclass
class Scope:
    session: AsyncSession
    runtime: Runtime
    member: Member | None
    role: Role
    t: Translator

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_cadre(self) -> bool:
        return self.role in (Role.CADRE, Role.ADMIN)

    def _(self, message: str) -> str:
        return self.t.gettext(message)


ScopedHandler = Callable[[Update, Context, Scope], Awaitable[R]]


def language_for(update: Update, context: Context, member: Member | None) -> str:
    """The member's chosen language, else a pending choice, else Telegram's hint."""
    if member is not None:
        return member.language
    chosen = context.user_data.get(LANGUAGE_KEY) if context.user_data is not None else None
    if chosen:
        return str(chosen)
    user = update.effective_user
    default = runtime_of(context).settings.default_language
    return language_from_telegram(user.language_code if user else None, default)


def scoped(func: ScopedHandler[R]) -> Callable[[Update, Context], Coroutine[Any, Any, R]]:
    """Run the handler in one unit of work with the member loaded (or None).

    The unit commits before every Bot API request the handler makes and goes
    on in a new transaction after it (`storage.db.unit_of_work`): what was done
    before a reply stays done even if a later step fails.
    """

    @functools.wraps(func)
    async def wrapper(update: Update, context: Context) -> R:
        runtime = runtime_of(context)
        user = update.effective_user
        # Committed early before each Bot API request (bot.request): see ARCHITECTURE.md.
        async with unit_of_work(runtime.sessions) as session:
            member = await members.get_member(session, user.id) if user else None
            if (
                member is not None
                and update.effective_chat is not None
                and (update.effective_chat.type == "private")
            ):
                await members.mark_reachable(session, member)
                await members.note_username(session, member, user.username if user else None)
            role = members.effective_role(
                member, user.id if user else 0, runtime.settings.admin_ids
            )
            lang = language_for(update, context, member)
            if context.user_data is not None:
                # Cached for the error handler, which must not need the database.
                context.user_data[LANGUAGE_KEY] = lang
            scope = Scope(session, runtime, member, role, translator(lang))
            try:
                return await func(update, context, scope)
            except Exception as error:
                if committed_early():
                    mark_partly_saved(error)  # the error handler must not say "nothing saved"
                raise

    return wrapper


def _refuse(message: str) -> Callable[[Update, Scope], Awaitable[None]]:
    async def refuse(update: Update, scope: Scope) -> None:
        text = scope._(message)
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(text)

    return refuse


_not_registered = _refuse(N_("Please register first: send /start."))
_not_admin = _refuse(
    N_("Only union admins can do that. If you need it done, please ask a union admin.")
)
_not_cadre = _refuse(
    N_("Only union cadres can do that. If you think you should be one, please ask a union admin.")
)


def registered(func: ScopedHandler[Any]) -> Callable[[Update, Context], Coroutine[Any, Any, Any]]:
    """Refuse unregistered users with a pointer to /start."""

    @scoped
    @functools.wraps(func)
    async def wrapper(update: Update, context: Context, scope: Scope) -> Any:
        if scope.member is None:
            await _not_registered(update, scope)
            return None
        return await func(update, context, scope)

    return wrapper


def admin_only(func: ScopedHandler[Any]) -> Callable[[Update, Context], Coroutine[Any, Any, Any]]:
    """Refuse everyone but admins (from settings or promoted), changing nothing."""

    @scoped
    @functools.wraps(func)
    async def wrapper(update: Update, context: Context, scope: Scope) -> Any:
        if not scope.is_admin:
            await _not_admin(update, scope)
            return None
        return await func(update, context, scope)

    return wrapper


def cadre_only(func: ScopedHandler[Any]) -> Callable[[Update, Context], Coroutine[Any, Any, Any]]:
    @scoped
    @functools.wraps(func)
    async def wrapper(update: Update, context: Context, scope: Scope) -> Any:
        if not scope.is_cadre:
            await _not_cadre(update, scope)
            return None
        return await func(update, context, scope)

    return wrapper
