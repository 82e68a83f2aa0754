"""What every broadcast screen needs: the stale-button answer and edits that may be no-ops."""

from __future__ import annotations

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
