"""A member rates a training: the stars of a rating request, then an optional comment.

The `training_rating` conversation (``training_rating.mmd``). The request comes
after a session the member attended (`jobs.reminders`); the steps are the
ones activities use (`handlers.offering_ratings`), the rules
`storage.trainings.rate`.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from display import callbacks as cb
from handlers import offering_ratings as ratings
from handlers.enrolment_common import drop
from handlers.scope import Context, Scope, registered, scoped
from handlers.trainings.states import COMMENT
from handlers.trainings.views import GONE
from storage import trainings

NAME = "training_rating"
TIMEOUT = 30 * 60
RATING = ratings.Flow("trn", cb.TRN_RATE, trainings.rate, trainings.comment, GONE)


@registered
async def rate(update: Update, context: Context, scope: Scope) -> int:
    """Stores the stars, asks for a comment (or Skip)."""
    return await ratings.rate(update, context, scope, RATING, COMMENT)


@registered
async def receive_comment(update: Update, context: Context, scope: Scope) -> int:
    """Stores the comment (Skip: none), thanks the member."""
    return await ratings.receive_comment(update, context, scope, RATING, COMMENT)


@scoped
async def timed_out(update: Update, context: Context, scope: Scope) -> None:
    drop(context, ratings.DRAFT)


def conversation(
    text_step: filters.BaseFilter, fallbacks: list[BaseHandler[Update, Context, object]]
) -> ConversationHandler[Context]:
    """The comment prompt after the stars, as a persistent conversation."""
    return ConversationHandler(
        entry_points=[CallbackQueryHandler(rate, pattern=cb.TRN_RATE.pattern)],
        states={
            COMMENT: [MessageHandler(text_step, receive_comment)],
            ConversationHandler.TIMEOUT: [MessageHandler(filters.ALL, timed_out)],
        },
        fallbacks=fallbacks,
        name=NAME,
        persistent=True,
        conversation_timeout=TIMEOUT,
        allow_reentry=True,
    )
