"""The one error handler: log once with context, tell the user what to do next.

The log line says what kind of update failed, in which handler and where, and
the error's class: never who sent it, what they wrote, or the error's message
(a database error's message carries the statement's parameters, member ids
among them). PTB runs each update once, so an update that fails every time is
answered once, logged once and then left behind.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import ContextTypes

from core.frames import our_frames
from core.i18n import N_, language_from_telegram, translator
from core.runtime import runtime_of
from display import callbacks as cb
from handlers.scope import PARTLY_SAVED_NOTE

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


_KINDS = (
    "callback_query",
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "my_chat_member",
    "chat_member",
)


def _command(text: str | None) -> str | None:
    """The command's name when it is a well-formed one (anything else may be the user's text)."""
    if not text or not text.startswith("/"):
        return None
    name = text.split(maxsplit=1)[0][1:].split("@", 1)[0]
    return name if name.isascii() and name.isidentifier() and len(name) <= 32 else "?"


def describe(update: object) -> str:
    """Context for the log line: what kind of update, never who or what they wrote."""
    if not isinstance(update, Update):
        return f"non-update {type(update).__name__}"
    kind = next((k for k in _KINDS if getattr(update, k, None) is not None), "other")
    chat = update.effective_chat.type if update.effective_chat else "none"
    detail = ""
    if update.callback_query is not None:
        action = cb.action_of(update.callback_query.data)
        detail = " button=" + (action.prefix if action else "?")
    elif (message := update.effective_message) is not None:
        command = _command(message.text)
        if command is not None:
            detail = " command=/" + command
    return f"update {update.update_id} {kind} in {chat} chat{detail}"


def where(error: BaseException | None) -> str:
    """The handler that failed (first frame in ``handlers``) and where (last frame of ours)."""
    if error is None:
        return "unknown place"
    frames = our_frames(error)
    # The scope's wrapper runs every handler: the feature's own frame is the one to name.
    handler = next(
        (f for f in frames if f.startswith("handlers.") and not f.startswith("handlers.scope.")),
        None,
    )
    last = frames[-1] if frames else "outside the project's code"
    if handler is None or handler == last:
        return f"in {last}"
    return f"in {handler.rsplit(':', 1)[0]}, at {last}"


def message_for(error: BaseException | None) -> str:
    """What to tell the user: true about what was kept, "busy" only when the database was
    really out of reach, "slow" only when Telegram did not answer."""
    if error is not None and PARTLY_SAVED_NOTE in getattr(error, "__notes__", ()):
        return PARTLY_SAVED
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return DATABASE_BUSY
    if isinstance(error, OperationalError | InterfaceError | PoolTimeout | ConnectionError):
        return DATABASE_BUSY
    # BadRequest is a NetworkError in PTB, but Telegram answered: it refused the request.
    if isinstance(error, TimedOut | NetworkError) and not isinstance(error, BadRequest):
        return TELEGRAM_SLOW
    return GENERIC


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    error = context.error
    if update is not None:  # counted under its feature as an error (`bot.metrics`)
        runtime_of(context).metrics.update_failed(id(update))
    if isinstance(error, Forbidden):
        # The member blocked the bot mid-conversation: nothing to tell them.
        log.info("%s: %s", describe(update), error.message)
        return
    if isinstance(error, RetryAfter):
        log.warning("%s: Telegram asked to wait %s s", describe(update), error.retry_after)
        return
    # One line and no traceback: the error's message (its last line) may quote
    # what the member typed or, for a database error, the statement's parameters.
    log.error("%s failed %s: %s", describe(update), where(error), type(error).__name__)
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
