"""What every broadcast screen needs: the stale-button answer and edits that may be no-ops."""

from __future__ import annotations

import contextlib

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

from core.i18n import N_
from handlers.scope import Scope

STALE = N_("This button is no longer valid.")


async def stale(update: Update, scope: Scope) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer(scope._(STALE), show_alert=True)


async def edit(message: Message, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Edit a message in place; one that already reads so is left alone."""
    try:
        await message.edit_text(text, reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            raise


async def drop_buttons(update: Update) -> None:
    """Take the buttons off the message that was pressed, so it cannot be pressed again."""
    query = update.callback_query
    if query is not None and query.message is not None:
        with contextlib.suppress(BadRequest):  # already without buttons
            await query.edit_message_reply_markup(None)
