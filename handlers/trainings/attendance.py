"""Cadres take attendance per session; the mark that completes a course congratulates
the member (through `notices.trainings`) with the hours it counts."""

from __future__ import annotations

from html import escape

from telegram import Update

from display import activities as show_activity
from display import callbacks as cb
from display import trainings as show
from handlers.common import pressed_args, show_panel
from handlers.enrolment_common import answer, delivering, now_of
from handlers.scope import Context, Scope, cadre_only
from handlers.trainings.views import gone
from notices import trainings as tell
from storage import trainings
from storage.members import NotFound
from storage.models import TrainingSession
from storage.offerings import Refused


@cadre_only
async def sessions(update: Update, context: Context, scope: Scope) -> None:
    await answer(update)
    try:
        training = await trainings.get(
            scope.session, pressed_args(update, cb.TRN_SESSIONS).training
        )
    except NotFound:
        return
    found = await trainings.sessions_of(scope.session, training.id)
    await show_panel(
        update,
        "<b>" + escape(training.title) + "</b>\n" + scope._("Choose a session to take attendance."),
        show.sessions_keyboard(scope.t, scope.settings.tz, training, found),
    )


async def render_attendance(update: Update, scope: Scope, meeting: TrainingSession) -> None:
    training = await trainings.get(scope.session, meeting.training_id)
    people = await trainings.seated_members(scope.session, training.id)
    present = await trainings.attendance(scope.session, meeting.id)
    await show_panel(
        update,
        show.attendance_text(scope.t, scope.settings.tz, training, meeting, len(present)),
        show.attendance_keyboard(scope.t, training, meeting, people, present),
    )


@cadre_only
async def session_attendance(update: Update, context: Context, scope: Scope) -> None:
    try:
        meeting = await trainings.get_session(
            scope.session, pressed_args(update, cb.TRN_SESSION).session
        )
    except NotFound:
        await gone(update, scope)
        return
    await answer(update)
    await render_attendance(update, scope, meeting)


@cadre_only
async def mark(update: Update, context: Context, scope: Scope) -> None:
    pressed = pressed_args(update, cb.TRN_MARK)
    now = now_of(scope)
    try:
        marked = await trainings.toggle_present(
            scope.session,
            pressed.session,
            pressed.member,
            by=scope.member.id if scope.member else None,
            now=now,
        )
    except (Refused, NotFound) as error:
        reason = error.reason if isinstance(error, Refused) else "not_found"
        await answer(update, show_activity.refusal(scope.t, scope.settings.tz, reason), True)
        return
    if marked.completed_now:
        delivering(scope, context, await tell.tell_completed(scope.session, marked, now=now))
    await answer(update, scope._("Present.") if marked.present else scope._("Mark taken back."))
    meeting = await trainings.get_session(scope.session, pressed.session)
    await render_attendance(update, scope, meeting)
