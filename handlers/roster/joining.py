"""A newcomer with a one-time code: `/start join_<code>` shows the roster's data, ✅ registers.

Nothing is kept between the two steps: the confirm button carries the code
(already in the member's chat), and the press checks it again, so a forged or
stale button registers nobody and a wrong code counts against the rate limit.
"""

from __future__ import annotations

import contextlib
from html import escape

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler

from display import callbacks as cb
from display import roster as show
from handlers.common import pressed_args, reply
from handlers.menu import main_menu
from handlers.scope import Context, Scope, scoped
from storage import roster
from storage.roster import CodeRefused


async def open_code(update: Update, context: Context, scope: Scope, code: str) -> None:
    """`/start join_<code>`: show whom the code names and ask to confirm."""
    user = update.effective_user
    assert user is not None
    try:
        entry = await roster.find_code(
            scope.session,
            code,
            telegram_id=user.id,
            secret=scope.settings.secret_key,
            now=scope.runtime.now(),
            attempts_per_hour=scope.settings.roster_code_attempts_per_hour,
        )
    except CodeRefused as refused:
        markup = main_menu(scope) if scope.member is not None else None
        await reply(update, show.join_refusal(scope.t, refused.reason), reply_markup=markup)
        return
    clean = roster.clean_code(code)
    assert clean is not None  # find_code found an entry by it
    await reply(
        update,
        show.join_text(scope.t, entry.name, entry.department, entry.birthday),
        reply_markup=show.join_keyboard(scope.t, clean),
    )


@scoped
async def confirm(update: Update, context: Context, scope: Scope) -> None:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    code = pressed_args(update, cb.ROSTER_JOIN).code
    try:
        member = await roster.join(
            scope.session,
            code,
            telegram_id=update.effective_user.id,
            language=scope.t.language,
            secret=scope.settings.secret_key,
            now=scope.runtime.now(),
            attempts_per_hour=scope.settings.roster_code_attempts_per_hour,
        )
    except CodeRefused as refused:
        await query.answer()
        with contextlib.suppress(BadRequest):  # already without buttons
            await query.edit_message_reply_markup(None)
        await reply(update, show.join_refusal(scope.t, refused.reason))
        return
    scope.member = member
    await query.answer()
    with contextlib.suppress(BadRequest):  # already without buttons
        await query.edit_message_reply_markup(None)
    await reply(
        update,
        scope._(
            "Welcome to the union, {name}! You are registered. "
            "Everything is in the menu below; /help explains it."
        ).format(name=escape(member.name)),
        reply_markup=main_menu(scope),
    )


@scoped
async def decline(update: Update, context: Context, scope: Scope) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    with contextlib.suppress(BadRequest):  # already without buttons
        await query.edit_message_reply_markup(None)
    await reply(
        update,
        scope._(
            "Then the code is not yours: nothing was saved. Please ask the union, or "
            "send /start to register yourself."
        ),
    )


def register(application: Application) -> None:
    application.add_handler(CallbackQueryHandler(confirm, pattern=cb.ROSTER_JOIN.pattern))
    application.add_handler(CallbackQueryHandler(decline, pattern=cb.ROSTER_JOIN_NO.pattern))
