"""Activities: members browse, sign up, wait in line, check in and rate; cadres run them.

Telegram-facing only, one module per interaction:

* `member`: the list, the card, signing up and leaving;
* `member_input`: the check-in code and a rating's comment (a conversation);
* `cadre`: the cadre list and panel, publishing, the roster, exports, cancelling;
* `editor`: creating an activity or changing one field (a conversation).

The rules are `storage.activities` (seats through `storage.seating`), the
words `display.activities`, and whatever is sent to someone other than the
person tapping is written by `notices.activities`. Each conversation's
states are drawn in a ``.mmd`` file beside its module.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
)

from core.i18n import N_
from core.runtime import CommandSpec, MenuItem, runtime_of
from display import callbacks as cb
from display import links
from handlers.activities import cadre, editor, member, member_input
from handlers.common import (
    CANCEL_LABEL,
    OTHER_INPUT,
    PRIVATE,
    TEXT_INPUT,
    ask_for_text,
    cancel_handlers,
)
from handlers.menu import button_filter
from handlers.scope import Context

__all__ = ["ACTIVITIES_ITEM", "register"]

ACTIVITIES_ITEM = MenuItem("activities", N_("🎉 Activities"), order=30)


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    runtime = runtime_of(application)
    runtime.add_menu(ACTIVITIES_ITEM)
    runtime.add_deep_link(links.ACTIVITY, member.open_from_link)
    runtime.add_command(
        CommandSpec("activities", N_("Upcoming activities: sign up"), frozenset({"private"}), 30)
    )
    runtime.add_command(
        CommandSpec("new_activity", N_("Create an activity"), frozenset({"admin"}), 31)
    )
    text_step = TEXT_INPUT & ~button_filter(CANCEL_LABEL)
    fallbacks: list[BaseHandler[Update, Context, object]] = [
        *cancel_handlers(),
        MessageHandler(OTHER_INPUT, ask_for_text),
    ]
    application.add_handler(editor.conversation(text_step, fallbacks))
    application.add_handler(member_input.conversation(text_step, fallbacks))
    application.add_handler(CommandHandler("activities", member.show_list, filters=PRIVATE))
    application.add_handler(
        MessageHandler(button_filter(ACTIVITIES_ITEM.label) & PRIVATE, member.show_list)
    )
    for action, callback in (
        (cb.ACT_LIST, member.show_list),
        (cb.ACT_OPEN, member.open_card),
        (cb.ACT_SIGN_UP, member.sign_up),
        (cb.ACT_LEAVE, member.leave),
        (cb.ACT_ADMIN, cadre.admin_list),
        (cb.ACT_MANAGE, cadre.manage),
        (cb.ACT_PUBLISH, cadre.publish),
        (cb.ACT_LINK, cadre.share_link),
        (cb.ACT_CANCEL, cadre.ask_cancel),
        (cb.ACT_CANCEL_CONFIRM, cadre.cancel_activity),
        (cb.ACT_ROSTER, cadre.roster),
        (cb.ACT_MARK, cadre.mark),
        (cb.ACT_EXPORT, cadre.export),
    ):
        application.add_handler(CallbackQueryHandler(callback, pattern=action.pattern))
    runtime.add_line(member.signup_line)
