"""The training as a member or a cadre sees it: looked up for the presser, then drawn.

Members see published (and cancelled) courses only; a draft is a cadre's. The
words are `display.trainings`.
"""

from __future__ import annotations

from telegram import Update

from core.i18n import N_
from display import links
from display import trainings as show
from handlers.common import reply, show_panel
from handlers.enrolment_common import answer, now_of
from handlers.scope import Context, Scope
from storage import ratings, trainings
from storage.members import NotFound
from storage.models import OfferingStatus, Training, TrainingRating

GONE = N_("This training no longer exists.")


def link_to(context: Context, training_id: int) -> str:
    """The deep link cadres share in other chats."""
    return links.url(context.bot.username, links.TRAINING, training_id)


async def gone(update: Update, scope: Scope) -> None:
    await answer(update, scope._(GONE), True)


async def visible(update: Update, scope: Scope, training_id: int) -> Training | None:
    """The course if the presser may see it (members: published or cancelled ones)."""
    try:
        training = await trainings.get(scope.session, training_id)
    except NotFound:
        training = None
    if training is None or (training.status == OfferingStatus.DRAFT.value and not scope.is_cadre):
        if update.callback_query is not None:
            await gone(update, scope)
        else:
            await reply(update, scope._(GONE))
        return None
    return training


async def render_card(update: Update, scope: Scope, training: Training, *, fresh: bool) -> None:
    """The member's card: sessions, their enrolment or place in line, what they may do now."""
    assert scope.member is not None
    sessions = await trainings.sessions_of(scope.session, training.id)
    enrolment, position = await trainings.enrolment_of(scope.session, training.id, scope.member.id)
    now = now_of(scope)
    started = bool(sessions) and now >= sessions[0].starts_at
    text = show.card_text(
        scope.t,
        scope.settings.tz,
        training,
        sessions,
        enrolment=enrolment,
        position=position,
        now=now,
    )
    markup = show.card_keyboard(
        scope.t, training, enrolment=enrolment, started=started, now=now, cadre=scope.is_cadre
    )
    if fresh:
        await reply(update, text, reply_markup=markup)
    else:
        await show_panel(update, text, markup)


async def render_manage(update: Update, context: Context, scope: Scope, training_id: int) -> None:
    """The cadre panel: sessions, seats, requests waiting, ratings, what to do next."""
    try:
        training = await trainings.get(scope.session, training_id)
    except NotFound:
        await gone(update, scope)
        return
    sessions = await trainings.sessions_of(scope.session, training.id)
    pending = await trainings.pending_count(scope.session, training.id)
    lines = await trainings.enrolment_report(scope.session, training.id)
    text = show.manage_text(
        scope.t,
        scope.settings.tz,
        training,
        sessions,
        pending=pending,
        waiting=sum(1 for line in lines if line.position is not None),
        ratings=await ratings.summary(scope.session, TrainingRating, training.id),
        link=link_to(context, training.id),
    )
    await show_panel(update, text, show.manage_keyboard(scope.t, training, pending))
