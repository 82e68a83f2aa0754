"""Pieces every conversation shares: the cancel button, choice keyboards, input checks."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any, TypeVar

from telegram import (
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatAction
from telegram.error import BadRequest, TelegramError
from telegram.ext import BaseHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from core.i18n import N_, every_translation
from display import callbacks as cb
from handlers.menu import button_filter, main_menu
from handlers.scope import Context, Scope, scoped
from storage.profile_rules import InvalidInput

CANCEL_LABEL = N_("✖️ Cancel")
SKIP_LABEL = N_("⏭ Skip")
PRIVATE = filters.ChatType.PRIVATE
TEXT_INPUT = filters.TEXT & ~filters.COMMAND & PRIVATE & filters.UpdateType.MESSAGE
OTHER_INPUT = ~filters.TEXT & ~filters.COMMAND & PRIVATE & filters.UpdateType.MESSAGE

INPUT_ERRORS: dict[str, str] = {
    "empty": N_("That was empty. Please type it again."),
    "too_long": N_("That is too long (at most {limit} characters). Please shorten it."),
    "control": N_("That contains characters I cannot store. Please type it again."),
    "command": N_("Please type the text itself, not a command."),
    "format": N_("I could not read that date. Please write it like 1990-05-03."),
    "no_such_date": N_("That date does not exist. Please check the month and day."),
    "future": N_("That date is in the future. Please send your date of birth."),
    "implausible": N_("That date of birth does not look right. Please check the year."),
    "tag_chars": N_("Tags may contain letters, digits and dashes only."),
}


def explain(scope: Scope, error: InvalidInput, limit: int = 0) -> str:
    return scope._(INPUT_ERRORS[error.code]).format(limit=limit)


def choice_keyboard(
    scope: Scope, choices: Sequence[str], *, columns: int = 2, skip: bool = False
) -> ReplyKeyboardMarkup:
    """Choices as a reply keyboard, with Skip (optional) and Cancel at the bottom."""
    rows = [list(choices[i : i + columns]) for i in range(0, len(choices), columns)]
    last = [scope._(SKIP_LABEL)] if skip else []
    rows.append([*last, scope._(CANCEL_LABEL)])
    return ReplyKeyboardMarkup(
        [[KeyboardButton(text) for text in row] for row in rows],
        resize_keyboard=True,
        one_time_keyboard=False,
    )


def cancel_keyboard(scope: Scope) -> ReplyKeyboardMarkup:
    return choice_keyboard(scope, [])


def is_label(text: str, label: str) -> bool:
    """Whether the text is that button's label in any language."""
    return text in every_translation(label)


async def show_working(update: Update, action: str = ChatAction.UPLOAD_DOCUMENT) -> None:
    """Show "sending a file…" while an export or chart is built, as Telegram clients do.

    Only a courtesy: if Telegram refuses it, the file still follows.
    """
    chat = update.effective_chat
    if chat is not None:
        with contextlib.suppress(TelegramError):
            await chat.send_action(action)


def pressed_args(update: Update, action: cb.CallbackAction[cb.Shape]) -> cb.Shape:
    """The pressed button's fields, named and typed (the handler's pattern matched it)."""
    query = update.callback_query
    assert query is not None
    return action.unpack(query.data)


def text_of(update: Update) -> str:
    """What the member typed: the update's message text, or "" (a text step's filter let it in)."""
    message = update.effective_message
    return (message.text if message is not None else None) or ""


D = TypeVar("D")


def draft_of(context: Context, key: str, kind: type[D]) -> D | None:
    """The conversation's draft under ``key``, if it is a ``kind``.

    Anything else counts as no draft: a value an older version stored before an
    upgrade, or none at all; the step then asks again rather than failing.
    """
    value = (context.user_data or {}).get(key)
    return value if isinstance(value, kind) else None


def keep_draft(context: Context, key: str, draft: object) -> None:
    """Keep ``draft`` for the next step; the key starts with "draft" so /cancel and expiry drop it."""
    if not key.startswith("draft"):
        raise ValueError(f"draft key {key!r} must start with 'draft'")
    if context.user_data is None:  # only updates without a user (channel posts) lack it
        raise RuntimeError("a conversation step without user_data")
    context.user_data[key] = draft


def drop_draft(context: Context, key: str) -> None:
    if context.user_data is not None:
        context.user_data.pop(key, None)


async def drop_buttons(update: Update) -> None:
    """Take the buttons off the message that was pressed, so it cannot be pressed again.

    A forged or repeated press may name a message without buttons (or one Telegram no
    longer lets us edit): then there is nothing to take off.
    """
    query = update.callback_query
    if query is not None and query.message is not None:
        with contextlib.suppress(BadRequest):  # already without buttons
            await query.edit_message_reply_markup(None)


async def show_panel(update: Update, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Edit the message a button belongs to, or send a new one (commands, photo messages).

    An unchanged panel is left alone: Telegram refuses an edit that changes nothing.
    The press itself is not answered here; each caller answers it exactly once.
    """
    if markup is not None and not any(markup.inline_keyboard):
        # An empty list (no groups yet, say) is sent as `{}`, which Telegram refuses.
        markup = None
    query = update.callback_query
    message = query.message if query is not None else None
    if query is not None and isinstance(message, Message) and message.text is not None:
        if message.text_html != text or message.reply_markup != markup:
            try:
                await query.edit_message_text(text, reply_markup=markup)
            except BadRequest as error:
                # Two quick presses on one message: the second carries the message as it
                # was before the first redrew it, and the panel already shows this.
                if "not modified" not in error.message.lower():
                    raise
        return
    await reply(update, text, reply_markup=markup)


async def reply(update: Update, text: str, **kwargs: Any) -> Message:
    """Answer in the update's chat; ``kwargs`` are reply_text's (reply_markup, …)."""
    message = update.effective_message
    assert message is not None
    return await message.reply_text(text, **kwargs)


@scoped
async def ask_for_text(update: Update, context: Context, scope: Scope) -> None:
    """A photo, sticker or file where text was expected: say so, stay in the step."""
    await reply(update, scope._("Please answer with text, or tap ✖️ Cancel."))


@scoped
async def cancel(update: Update, context: Context, scope: Scope) -> int:
    """Leave any conversation; nothing half-typed is saved."""
    for key in [k for k in (context.user_data or {}) if str(k).startswith("draft")]:
        drop_draft(context, key)
    if scope.member is not None:
        await reply(
            update, scope._("Cancelled. Nothing was changed."), reply_markup=main_menu(scope)
        )
    else:
        await reply(
            update,
            scope._("Cancelled. Nothing was saved. Send /start when you are ready."),
            reply_markup=ReplyKeyboardRemove(),
        )
    return ConversationHandler.END


def cancel_handlers() -> list[BaseHandler[Update, Context, object]]:
    """The fallbacks of every conversation: /cancel and the Cancel button."""
    return [
        CommandHandler("cancel", cancel),
        MessageHandler(button_filter(CANCEL_LABEL) & PRIVATE, cancel),
    ]
