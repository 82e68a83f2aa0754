"""What a member types about an activity: the check-in code, a comment with a rating.

The `activity_member_input` conversation; its states are drawn in
``activity_member_input.mmd`` beside this module. Both start from a button
(📍 Check in on the card, the stars of a rating request) and wait for one
text; the activity they are about is kept as a small draft.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from core import drafts
from display import activities as show
from display import callbacks as cb
from handlers import offering_ratings as ratings
from handlers.activities.states import CODE, COMMENT
from handlers.activities.views import visible
from handlers.common import (
    cancel_keyboard,
    draft_of,
    pressed_args,
    reply,
)
from handlers.enrolment_common import answer, drop, keep, now_of, text_of
from handlers.menu import main_menu
from handlers.scope import Context, Scope, registered, scoped
from storage import activities
from storage.models import ActivityRating
from storage.offerings import Refused

NAME = "activity_member_input"
CHECKIN = "draft_checkin"
TIMEOUT = 30 * 60


@drafts.draft("activity-checkin")
@dataclass
class CheckIn:
    """The activity whose check-in code the member is asked for."""

    activity: int


@registered
async def ask_code(update: Update, context: Context, scope: Scope) -> int:
    """Stores the activity, asks for the code shown at the venue."""
    activity = await visible(update, scope, pressed_args(update, cb.ACT_CHECK_IN).activity)
    if activity is None:
        return ConversationHandler.END
    await answer(update)
    keep(context, CHECKIN, CheckIn(activity.id))
    await reply(
        update,
        scope._("Send the check-in code shown at the venue (4 digits)."),
        reply_markup=cancel_keyboard(scope),
    )
    return CODE


@registered
async def receive_code(update: Update, context: Context, scope: Scope) -> int:
    """Checks the member in with the code; asks again after a wrong one."""
    assert scope.member is not None
    checkin = draft_of(context, CHECKIN, CheckIn)
    if checkin is None:
        return ConversationHandler.END
    try:
        await activities.check_in_with_code(
            scope.session, checkin.activity, scope.member.id, text_of(update), now_of(scope)
        )
    except Refused as refused:
        await reply(update, show.refusal(scope.t, scope.settings.tz, refused.reason))
        if refused.reason == "wrong_code":
            return CODE
        drop(context, CHECKIN)
        await reply(update, scope._("Choose from the menu below."), reply_markup=main_menu(scope))
        return ConversationHandler.END
    drop(context, CHECKIN)
    await reply(update, scope._("✅ You are checked in. Enjoy!"), reply_markup=main_menu(scope))
    return ConversationHandler.END


RATING = ratings.Flow(
    "act", cb.ACT_RATE, activities.rate, ActivityRating, show.REFUSALS["not_found"]
)


@scoped
async def timed_out(update: Update, context: Context, scope: Scope) -> None:
    drop(context, CHECKIN, ratings.DRAFT)


def conversation(
    text_step: filters.BaseFilter, fallbacks: list[BaseHandler[Update, Context, object]]
) -> ConversationHandler[Context]:
    """The check-in and comment prompts, as one persistent conversation."""
    stars, comment = ratings.steps(RATING, COMMENT, text_step)
    return ConversationHandler(
        entry_points=[CallbackQueryHandler(ask_code, pattern=cb.ACT_CHECK_IN.pattern), stars],
        states={
            CODE: [MessageHandler(text_step, receive_code)],
            COMMENT: [comment],
            ConversationHandler.TIMEOUT: [MessageHandler(filters.ALL, timed_out)],
        },
        fallbacks=fallbacks,
        name=NAME,
        persistent=True,
        conversation_timeout=TIMEOUT,
        allow_reentry=True,
    )
