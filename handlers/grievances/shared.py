"""What the grievance handlers of both sides share: reading the update, panels, case groups."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import BaseHandler, MessageHandler, filters

from core.i18n import N_
from handlers.common import CANCEL_LABEL, PRIVATE, show_panel
from handlers.menu import button_filter
from handlers.scope import Context, Scope
from notices import grievances as relay
from storage.models import Grievance

NOT_CADRE = N_(
    "Only union cadres can do that. If you think you should be one, please ask a union admin."
)
WRONG_GROUP = N_(
    "Case buttons work only in the union's cadre groups. Nothing was changed: please use them in the cadre group."
)

# The keys a grievance conversation keeps in user_data (`handlers.common.cancel` drops them).
DRAFT = "draft_grievance"
ADDING_KEY = "draft_grievance_add"
COMMENT_KEY = "draft_grievance_comment"
REOPEN_KEY = "draft_grievance_reopen"
TIMEOUT = 30 * 60

MESSAGE_IN_PRIVATE = PRIVATE & filters.UpdateType.MESSAGE & ~filters.COMMAND
NOT_TEXT = MESSAGE_IN_PRIVATE & ~filters.TEXT


def text_step() -> filters.BaseFilter:
    """A member's typed answer in a step: private text, not a command, not ✖️ Cancel."""
    not_cancel = ~button_filter(CANCEL_LABEL)
    return PRIVATE & filters.TEXT & ~filters.COMMAND & filters.UpdateType.MESSAGE & not_cancel


def message_of(update: Update) -> Message:
    message = update.effective_message
    assert message is not None
    return message


def query_message(update: Update) -> Message | None:
    """The message a pressed button sits under, if Telegram still has it."""
    query = update.callback_query
    message = query.message if query else None
    return message if isinstance(message, Message) else None


async def show(update: Update, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Answer the press (if any) and show the panel in its place."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    await show_panel(update, text, markup)


def in_case_group(update: Update, scope: Scope, case: Grievance) -> bool:
    """Whether the update comes from a group whose cadres may act on the case."""
    chat = update.effective_chat
    return (
        chat is not None
        and chat.type in ("group", "supergroup")
        and chat.id in relay.case_chats(scope.runtime, case)
    )


async def draft_timeout(update: Update, context: Context) -> None:
    """A member's grievance conversation timed out: what they had typed goes with it."""
    if context.user_data is not None:
        for key in (DRAFT, ADDING_KEY, COMMENT_KEY, REOPEN_KEY):
            context.user_data.pop(key, None)


def timeout_handlers() -> list[BaseHandler[Update, Context, object]]:
    return [MessageHandler(filters.ALL, draft_timeout)]
