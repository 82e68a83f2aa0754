"""Members and activities: the list, the card, signing up (or joining the waitlist), leaving.

Sign-ups to one activity stand in line by arrival (:func:`signup_line`); the
seat itself is decided by `storage.activities` under the activity's lock. A
seat freed or given to someone else is told to them through
`notices.activities`.
"""

from __future__ import annotations

from telegram import Message, Update

from display import activities as show
from display import callbacks as cb
from handlers.activities.views import render_card, visible
from handlers.common import pressed_args, show_panel
from handlers.enrolment_common import answer, delivering, now_of
from handlers.scope import Context, Scope, registered
from notices import activities as tell
from storage import activities
from storage.offerings import Refused


@registered
async def show_list(update: Update, context: Context, scope: Scope) -> None:
    page = 0
    if update.callback_query is not None:
        page = pressed_args(update, cb.ACT_LIST).page
        await answer(update)
    assert scope.member is not None
    found = await activities.upcoming_for(scope.session, scope.member, now_of(scope), page)
    await show_panel(
        update,
        show.list_text(scope.t, found),
        show.list_keyboard(scope.t, scope.settings.tz, found, cadre=scope.is_cadre),
    )


@registered
async def open_card(update: Update, context: Context, scope: Scope) -> None:
    activity = await visible(update, scope, pressed_args(update, cb.ACT_OPEN).activity)
    if activity is None:
        return
    await answer(update)
    # The poster comes with the card, as by link: from the list, the poster and a new card
    # follow it; from an announcement (the poster itself) the card follows the poster.
    query = update.callback_query
    pressed_photo = query is not None and isinstance(query.message, Message) and query.message.photo
    fresh = activity.photo_file_id is not None and not pressed_photo
    await render_card(update, scope, activity, fresh=fresh)


async def open_from_link(update: Update, context: Context, scope: Scope, activity_id: int) -> None:
    """`/start act_<id>` (a shared link): show the activity, if the member may see it."""
    activity = await visible(update, scope, activity_id)
    if activity is not None:
        await render_card(update, scope, activity, fresh=True)


@registered
async def sign_up(update: Update, context: Context, scope: Scope) -> None:
    pressed = pressed_args(update, cb.ACT_SIGN_UP)
    activity = await visible(update, scope, pressed.activity)
    if activity is None:
        return
    assert scope.member is not None
    now = now_of(scope)
    try:
        placement = await activities.sign_up(
            scope.session, activity.id, scope.member, guests=1 if pressed.guests else 0, now=now
        )
    except Refused as refused:
        await answer(
            update, show.refusal(scope.t, scope.settings.tz, refused.reason, activity), True
        )
        await render_card(
            update, scope, await activities.get(scope.session, activity.id), fresh=False
        )
        return
    activity = await activities.get(scope.session, activity.id)
    if placement.promoted:
        told = await tell.tell_promoted(
            scope.session, activity, placement.promoted, zone=scope.settings.tz, now=now
        )
        delivering(scope, context, told)
    await answer(
        update,
        show.placement_toast(scope.t, placement.seated, placement.position, placement.already),
    )
    await render_card(update, scope, activity, fresh=False)


@registered
async def leave(update: Update, context: Context, scope: Scope) -> None:
    activity = await visible(update, scope, pressed_args(update, cb.ACT_LEAVE).activity)
    if activity is None:
        return
    assert scope.member is not None
    now = now_of(scope)
    try:
        promoted = await activities.cancel_signup(scope.session, activity.id, scope.member.id, now)
    except Refused as refused:
        await answer(
            update, show.refusal(scope.t, scope.settings.tz, refused.reason, activity), True
        )
        return
    activity = await activities.get(scope.session, activity.id)
    told = await tell.tell_promoted(
        scope.session, activity, promoted, zone=scope.settings.tz, now=now
    )
    delivering(scope, context, told)
    await answer(update, scope._("Your sign-up is cancelled."))
    await render_card(update, scope, activity, fresh=False)


def signup_line(update: Update) -> tuple[str, int] | None:
    """Sign-ups to one activity stand in line by arrival (`bot.processor`): tap order."""
    query = update.callback_query
    if query is None or not cb.ACT_SIGN_UP.pattern.match(query.data):
        return None
    return ("activity", cb.ACT_SIGN_UP.unpack(query.data).activity)
