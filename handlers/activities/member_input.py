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
from handlers.activities.states import CODE, COMMENT
from handlers.activities.views import visible
from handlers.common import (
    SKIP_LABEL,
    cancel_keyboard,
    choice_keyboard,
    draft_of,
    explain,
    is_label,
    pressed_args,
    reply,
    show_panel,
)
from handlers.enrolment_common import answer, drop, keep, now_of, text_of
from handlers.menu import main_menu
from handlers.scope import Context, Scope, registered, scoped
from storage import activities
from storage import enrolment_rules as rules
from storage.members import NotFound
from storage.offerings import Refused
from storage.profile_rules import InvalidInput

NAME = "activity_member_input"
CHECKIN = "draft_checkin"
RATING = "draft_rating"
TIMEOUT = 30 * 60


@drafts.draft("activity-checkin")
@dataclass
class CheckIn:
    """The activity whose check-in code the member is asked for."""

    activity: int


@drafts.draft("activity-rating")
@dataclass
class Rating:
    """The activity the member just rated, awaiting their comment."""

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


@registered
async def rate(update: Update, context: Context, scope: Scope) -> int:
    """Stores the stars, asks for a comment (or Skip)."""
    pressed = pressed_args(update, cb.ACT_RATE)
    assert scope.member is not None
    try:
        await activities.rate(
            scope.session, pressed.activity, scope.member.id, pressed.stars, now_of(scope)
        )
    except (Refused, NotFound) as error:
        reason = error.reason if isinstance(error, Refused) else "not_found"
        await answer(update, show.refusal(scope.t, scope.settings.tz, reason), True)
        return ConversationHandler.END
    await answer(update)
    keep(context, RATING, Rating(pressed.activity))
    await show_panel(
        update,
        scope._("Thank you! You gave {stars} of 5 stars.").format(stars="⭐" * pressed.stars),
        None,
    )
    await reply(
        update,
        scope._("Would you like to add a comment? Type it, or tap Skip."),
        reply_markup=choice_keyboard(scope, [], skip=True),
    )
    return COMMENT


@registered
async def receive_comment(update: Update, context: Context, scope: Scope) -> int:
    """Stores the comment (Skip: none), thanks the member."""
    assert scope.member is not None
    rating = draft_of(context, RATING, Rating)
    if rating is None:
        return ConversationHandler.END
    text = text_of(update)
    if not is_label(text, SKIP_LABEL):
        try:
            await activities.comment(scope.session, rating.activity, scope.member.id, text)
        except InvalidInput as error:
            await reply(update, explain(scope, error, rules.COMMENT_MAX))
            return COMMENT
    drop(context, RATING)
    await reply(update, scope._("Thank you for your feedback!"), reply_markup=main_menu(scope))
    return ConversationHandler.END


@scoped
async def timed_out(update: Update, context: Context, scope: Scope) -> None:
    drop(context, CHECKIN, RATING)


def conversation(
    text_step: filters.BaseFilter, fallbacks: list[BaseHandler[Update, Context, object]]
) -> ConversationHandler[Context]:
    """The check-in and comment prompts, as one persistent conversation."""
    return ConversationHandler(
        entry_points=[
            CallbackQueryHandler(ask_code, pattern=cb.ACT_CHECK_IN.pattern),
            CallbackQueryHandler(rate, pattern=cb.ACT_RATE.pattern),
        ],
        states={
            CODE: [MessageHandler(text_step, receive_code)],
            COMMENT: [MessageHandler(text_step, receive_comment)],
            ConversationHandler.TIMEOUT: [MessageHandler(filters.ALL, timed_out)],
        },
        fallbacks=fallbacks,
        name=NAME,
        persistent=True,
        conversation_timeout=TIMEOUT,
        allow_reentry=True,
    )
