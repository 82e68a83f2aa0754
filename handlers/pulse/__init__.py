"""The monthly satisfaction pulse: members answer it, admins switch it and read it.

Telegram-facing only:

* `member`: the stars and the optional comment (a conversation);
* `admin`: `/pulse` and the admin panel's 📈 Satisfaction: the switch and the last months.

The rules are `storage.pulse`, the words `display.pulse`, the question is
written to the outbox by `notices.pulse` from `jobs.pulse`.
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
from core.runtime import CommandSpec, runtime_of
from display import callbacks as cb
from handlers.common import (
    CANCEL_LABEL,
    OTHER_INPUT,
    PRIVATE,
    TEXT_INPUT,
    ask_for_text,
    cancel_handlers,
)
from handlers.menu import button_filter
from handlers.pulse import admin, member
from handlers.scope import Context

__all__ = ["register"]


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    runtime = runtime_of(application)
    runtime.add_command(
        CommandSpec(
            "pulse", N_("Satisfaction pulse: switch it, see the results"), frozenset({"admin"}), 102
        )
    )
    text_step = TEXT_INPUT & ~button_filter(CANCEL_LABEL)
    fallbacks: list[BaseHandler[Update, Context, object]] = [
        *cancel_handlers(),
        MessageHandler(OTHER_INPUT, ask_for_text),
    ]
    application.add_handler(member.conversation(text_step, fallbacks))
    application.add_handler(CommandHandler("pulse", admin.panel, filters=PRIVATE))
    application.add_handler(CallbackQueryHandler(admin.panel, pattern=cb.PULSE_HOME.pattern))
    application.add_handler(CallbackQueryHandler(admin.switch, pattern=cb.PULSE_SWITCH.pattern))
