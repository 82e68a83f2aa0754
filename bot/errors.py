"""The one error handler: log once with context, tell the user what to do next."""

from __future__ import annotations

import logging

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from telegram import Update
from telegram.error import Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import ContextTypes

from bot.i18n import N_, language_from_telegram, translator
from bot.runtime import runtime_of

log = logging.getLogger(__name__)

DATABASE_BUSY = N_(
    "Our database is busy right now, so nothing was saved. Please try again in a minute."
)
TELEGRAM_SLOW = N_("Telegram is slow to answer right now. Please try again in a minute.")
GENERIC = N_(
    "Sorry, something went wrong on our side and your last step was not saved. "
    "Please try again, or send /cancel to start over."
)

PARTLY_SAVED = N_(
    "Sorry, something went wrong on our side after your step was saved. "
    "Please check the result before you try again."
)
# Added to an error by `bot.scope` when the handler had already committed part of
# its work (before a reply, `bot.request`): then "nothing was saved" would be untrue.
PARTLY_SAVED_NOTE = "union-bot: the handler committed part of its work before it failed"


def mark_partly_saved(error: BaseException) -> None:
    if PARTLY_SAVED_NOTE not in getattr(error, "__notes__", ()):
        error.add_note(PARTLY_SAVED_NOTE)


def describe(update: object) -> str:
    """Context for the log line: what kind of update, never who or what they wrote."""
    if not isinstance(update, Update):
        return f"non-update {type(update).__name__}"
    kind = "callback" if update.callback_query else "message" if update.message else "other"
    chat = update.effective_chat.type if update.effective_chat else "none"
    detail = ""
    if update.callback_query and update.callback_query.data:
        detail = " button=" + update.callback_query.data.split(":", 1)[0]
    elif update.message and update.message.text and update.message.text.startswith("/"):
        detail = " command=" + update.message.text.split()[0][:32]
    return f"update {update.update_id} {kind} in {chat} chat{detail}"


def message_for(error: BaseException | None) -> str:
    if isinstance(error, TimedOut | NetworkError):
        return TELEGRAM_SLOW
    if error is not None and PARTLY_SAVED_NOTE in getattr(error, "__notes__", ()):
        return PARTLY_SAVED
    if isinstance(error, OperationalError | PoolTimeout | DBAPIError | ConnectionError):
        return DATABASE_BUSY
    return GENERIC


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    error = context.error
    if isinstance(error, Forbidden):
        # The member blocked the bot mid-conversation: nothing to tell them.
        log.info("%s: %s", describe(update), error.message)
        return
    if isinstance(error, RetryAfter):
        log.warning("%s: Telegram asked to wait %s s", describe(update), error.retry_after)
        return
    log.error("%s failed", describe(update), exc_info=error)
    if not isinstance(update, Update):
        return
    user = update.effective_user
    default = runtime_of(context).settings.default_language
    lang = context.user_data.get("language") if context.user_data else None
    t = translator(lang or language_from_telegram(user.language_code if user else None, default))
    text = t.gettext(message_for(error))
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.effective_chat is not None and update.effective_chat.type == "private":
            await context.bot.send_message(update.effective_chat.id, text)
    except Exception as exc:  # the user is unreachable; the error is logged above
        log.info("%s: could not tell the user (%s)", describe(update), type(exc).__name__)
