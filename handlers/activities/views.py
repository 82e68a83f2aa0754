"""The activity as a member or a cadre sees it: looked up for the presser, then drawn.

Every button names an activity id; :func:`visible` checks again that the
presser may see it (its audience, or being a cadre), so a forged press shows
nothing its presser could not open by hand. The words are `display.activities`.
"""

from __future__ import annotations

from html import escape

from telegram import Update

from display import activities as show
from display import links
from display.broadcasts import describe_audience
from handlers.common import reply, show_panel
from handlers.enrolment_common import answer, now_of
from handlers.scope import Context, Scope
from storage import activities, audiences, ratings
from storage.members import NotFound
from storage.models import Activity, ActivityRating


def link_to(context: Context, activity_id: int) -> str:
    """The deep link cadres share in other chats."""
    return links.url(context.bot.username, links.ACTIVITY, activity_id)


async def visible(update: Update, scope: Scope, activity_id: int) -> Activity | None:
    """The activity if the presser may see it; otherwise say so and return None."""
    try:
        activity = await activities.get(scope.session, activity_id)
    except NotFound:
        activity = None
    if (
        activity is None
        or scope.member is None
        or not await activities.may_see(scope.session, activity, scope.member, scope.is_cadre)
    ):
        reason = "not_found" if activity is None else "not_for_you"
        text = show.refusal(scope.t, scope.settings.tz, reason)
        if update.callback_query is not None:
            await answer(update, text, alert=True)
        else:
            await reply(update, text)
        return None
    return activity


async def render_card(update: Update, scope: Scope, activity: Activity, *, fresh: bool) -> None:
    """The member's card: details, their seat or place in line, what they may do now."""
    assert scope.member is not None
    signup, position = await activities.signup_of(scope.session, activity.id, scope.member.id)
    waiting = await activities.waiting(scope.session, activity.id)
    now = now_of(scope)
    text = show.card_text(
        scope.t,
        scope.settings.tz,
        activity,
        signup=signup,
        position=position,
        waiting=waiting,
        now=now,
    )
    markup = show.card_keyboard(scope.t, activity, signup=signup, now=now, cadre=scope.is_cadre)
    if fresh:
        if activity.photo_file_id:
            message = update.effective_message
            assert message is not None
            await message.reply_photo(activity.photo_file_id, caption=escape(activity.title))
        await reply(update, text, reply_markup=markup)
    else:
        await show_panel(update, text, markup)


async def render_manage(update: Update, context: Context, scope: Scope, activity_id: int) -> None:
    """The cadre panel: details, seats, audience, check-in code, ratings, what to change."""
    try:
        activity = await activities.get(scope.session, activity_id)
    except NotFound:
        await answer(update, show.refusal(scope.t, scope.settings.tz, "not_found"), True)
        return
    lines = await activities.roster(scope.session, activity.id)
    described = await audiences.describe(
        scope.session, activities.audience_of(activity), scope.settings.tz
    )
    text = show.manage_text(
        scope.t,
        scope.settings.tz,
        activity,
        waiting=sum(1 for line in lines if line.position is not None),
        checked_in=sum(1 for line in lines if line.checked_in_at is not None),
        audience=describe_audience(scope.t, described),
        ratings=await ratings.summary(scope.session, ActivityRating, activity.id),
        link=link_to(context, activity.id),
    )
    await show_panel(update, text, show.manage_keyboard(scope.t, activity))
