"""Members and trainings: the list, the card, enrolling (or asking to), withdrawing, history.

Enrolments in one course stand in line by arrival (:func:`enrol_line`); the
place itself is decided by `storage.trainings` under the course's lock.
Whoever a withdrawal seats is told through `notices.trainings`.
"""

from __future__ import annotations

from telegram import Update

from display import activities as show_activity
from display import callbacks as cb
from display import trainings as show
from handlers.common import pressed_args, reply, show_panel
from handlers.enrolment_common import answer, delivering, now_of
from handlers.menu import main_menu
from handlers.scope import Context, Scope, registered
from handlers.trainings.views import render_card, visible
from notices import trainings as tell
from storage import trainings
from storage.offerings import Refused


@registered
async def show_list(update: Update, context: Context, scope: Scope) -> None:
    page = 0
    if update.callback_query is not None:
        page = pressed_args(update, cb.TRN_LIST).page
        await answer(update)
    found = await trainings.open_for_members(scope.session, now_of(scope), page)
    await show_panel(
        update,
        show.list_text(scope.t, found),
        show.list_keyboard(scope.t, found, cadre=scope.is_cadre),
    )


@registered
async def open_card(update: Update, context: Context, scope: Scope) -> None:
    training = await visible(update, scope, pressed_args(update, cb.TRN_OPEN).training)
    if training is None:
        return
    await answer(update)
    await render_card(update, scope, training, fresh=False)


async def open_from_link(update: Update, context: Context, scope: Scope, training_id: int) -> None:
    """`/start trn_<id>` (a shared link): show the course, if the member may see it."""
    training = await visible(update, scope, training_id)
    if training is not None:
        await render_card(update, scope, training, fresh=True)


@registered
async def enrol(update: Update, context: Context, scope: Scope) -> None:
    training = await visible(update, scope, pressed_args(update, cb.TRN_ENROL).training)
    if training is None:
        return
    assert scope.member is not None
    now = now_of(scope)
    try:
        result = await trainings.enrol(scope.session, training.id, scope.member, now)
    except Refused as refused:
        text = show_activity.refusal(scope.t, scope.settings.tz, refused.reason)
        if refused.reason == "deadline":
            text = scope._("Sorry, enrolment closed at {deadline}.").format(
                deadline=show_activity.moment(scope.t, scope.settings.tz, training.signup_deadline)
            )
        await answer(update, text, True)
        return
    training = await trainings.get(scope.session, training.id)
    if result.promoted:
        told = await tell.tell_promoted(scope.session, training, result.promoted, now=now)
        delivering(scope, context, told)
    await answer(
        update, show.enrolled_toast(scope.t, result.enrolment, result.position, result.already)
    )
    await render_card(update, scope, training, fresh=False)


@registered
async def withdraw(update: Update, context: Context, scope: Scope) -> None:
    training = await visible(update, scope, pressed_args(update, cb.TRN_WITHDRAW).training)
    if training is None:
        return
    assert scope.member is not None
    now = now_of(scope)
    try:
        promoted = await trainings.withdraw(scope.session, training.id, scope.member.id, now)
    except Refused as refused:
        await answer(
            update, show_activity.refusal(scope.t, scope.settings.tz, refused.reason), True
        )
        return
    training = await trainings.get(scope.session, training.id)
    delivering(scope, context, await tell.tell_promoted(scope.session, training, promoted, now=now))
    await answer(update, scope._("You have withdrawn."))
    await render_card(update, scope, training, fresh=False)


@registered
async def my_trainings(update: Update, context: Context, scope: Scope) -> None:
    assert scope.member is not None
    lines = await trainings.history(scope.session, scope.member.id)
    await reply(update, show.history_text(scope.t, lines), reply_markup=main_menu(scope))


def enrol_line(update: Update) -> tuple[str, int] | None:
    """Enrolments in one training stand in line by arrival (`bot.processor`): tap order."""
    query = update.callback_query
    if query is None or not cb.TRN_ENROL.pattern.match(query.data):
        return None
    return ("training", cb.TRN_ENROL.unpack(query.data).training)
