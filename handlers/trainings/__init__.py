"""Trainings: members enrol (with a cadre's approval when the course asks for it), see
their history and hours and rate a course after a session; cadres create courses with
sessions, decide requests, take attendance, read the ratings and export enrolment and
completion.

Telegram-facing only, one module per interaction:

* `member`: the list, the card, enrolling, withdrawing, /my_trainings;
* `cadre`: the cadre list and panel, publishing, the link, cancelling, the export;
* `requests`: approving a request, or the reason for not approving it;
* `attendance`: marks per session, and completion;
* the `training_rating` conversation: a member's stars and comment after a session they
  attended, the steps activities use too (`handlers.offering_ratings`);
* `editor`: creating a course (a conversation, ``training_editor.mmd``).

The rules are `storage.trainings` (places through `storage.seating`), the
words `display.trainings`, and whatever is sent to someone other than the
person tapping is written by `notices.trainings`.
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
from handlers import offering_ratings
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
from handlers.trainings import attendance, cadre, editor, member, requests
from handlers.trainings.states import COMMENT
from handlers.trainings.views import GONE
from storage import trainings
from storage.models import TrainingRating

__all__ = ["TRAININGS_ITEM", "register"]

TRAININGS_ITEM = MenuItem("trainings", N_("🎓 Trainings"), order=40)
RATING = offering_ratings.Flow("trn", cb.TRN_RATE, trainings.rate, TrainingRating, GONE)


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    runtime = runtime_of(application)
    runtime.add_menu(TRAININGS_ITEM)
    runtime.add_deep_link(links.TRAINING, member.open_from_link)
    runtime.add_command(
        CommandSpec("trainings", N_("Trainings: enrol"), frozenset({"private"}), 40)
    )
    runtime.add_command(
        CommandSpec(
            "my_trainings", N_("My trainings and training hours"), frozenset({"private"}), 41
        )
    )
    runtime.add_command(
        CommandSpec("new_training", N_("Create a training"), frozenset({"admin"}), 42)
    )
    text_step = TEXT_INPUT & ~button_filter(CANCEL_LABEL)
    fallbacks: list[BaseHandler[Update, Context, object]] = [
        *cancel_handlers(),
        MessageHandler(OTHER_INPUT, ask_for_text),
    ]
    application.add_handler(editor.conversation(text_step, fallbacks))
    application.add_handler(
        offering_ratings.conversation(RATING, "training_rating", COMMENT, text_step, fallbacks)
    )
    application.add_handler(CommandHandler("trainings", member.show_list, filters=PRIVATE))
    application.add_handler(CommandHandler("my_trainings", member.my_trainings, filters=PRIVATE))
    application.add_handler(
        MessageHandler(button_filter(TRAININGS_ITEM.label) & PRIVATE, member.show_list)
    )
    for action, callback in (
        (cb.TRN_LIST, member.show_list),
        (cb.TRN_OPEN, member.open_card),
        (cb.TRN_ENROL, member.enrol),
        (cb.TRN_WITHDRAW, member.withdraw),
        (cb.TRN_ADMIN, cadre.admin_list),
        (cb.TRN_MANAGE, cadre.manage),
        (cb.TRN_PUBLISH, cadre.publish),
        (cb.TRN_LINK, cadre.share_link),
        (cb.TRN_CANCEL, cadre.ask_cancel),
        (cb.TRN_CANCEL_CONFIRM, cadre.cancel_training),
        (cb.TRN_REQUESTS, requests.requests),
        (cb.TRN_APPROVE, requests.approve),
        (cb.TRN_SESSIONS, attendance.sessions),
        (cb.TRN_SESSION, attendance.session_attendance),
        (cb.TRN_MARK, attendance.mark),
        (cb.TRN_EXPORT, cadre.export),
    ):
        application.add_handler(CallbackQueryHandler(callback, pattern=action.pattern))
    runtime.add_line(member.enrol_line)
