"""Cadres decide enrolment requests: approve with a tap, or give a reason for not approving.

The reason is asked in the `training_editor` conversation (state REASON, see
``training_editor.mmd``); the member is told either way through
`notices.trainings`, and an approval that seats the waitlist tells those too.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Update
from telegram.ext import ConversationHandler

from core import drafts
from display import activities as show_activity
from display import callbacks as cb
from display import trainings as show
from handlers.common import cancel_keyboard, draft_of, explain, pressed_args, reply, show_panel
from handlers.enrolment_common import answer, delivering, drop, keep, now_of, text_of
from handlers.menu import main_menu
from handlers.scope import Context, Scope, cadre_only
from handlers.trainings.states import REASON
from notices import trainings as tell
from storage import enrolment_rules as rules
from storage import trainings
from storage.members import NotFound
from storage.offerings import Refused
from storage.profile_rules import InvalidInput

REJECTING = "draft_reject"


@drafts.draft("training-rejection")
@dataclass
class Rejection:
    """The request a cadre is giving a reason for not approving."""

    enrolment: int


async def render_requests(update: Update, scope: Scope, training_id: int) -> None:
    training = await trainings.get(scope.session, training_id)
    pending = await trainings.pending_requests(scope.session, training_id)
    await show_panel(
        update,
        show.requests_text(scope.t, training, pending),
        show.requests_keyboard(scope.t, training, pending),
    )


@cadre_only
async def requests(update: Update, context: Context, scope: Scope) -> None:
    training_id = pressed_args(update, cb.TRN_REQUESTS).training
    await answer(update)
    try:
        await render_requests(update, scope, training_id)
    except NotFound:
        return


@cadre_only
async def approve(update: Update, context: Context, scope: Scope) -> None:
    now = now_of(scope)
    try:
        decision = await trainings.approve(
            scope.session,
            pressed_args(update, cb.TRN_APPROVE).enrolment,
            by=scope.member.id if scope.member else None,
            now=now,
        )
    except Refused as refused:
        await answer(
            update, show_activity.refusal(scope.t, scope.settings.tz, refused.reason), True
        )
        return
    training = await trainings.get(scope.session, decision.enrolment.training_id)
    told = await tell.tell_approved(scope.session, training, decision, now=now)
    if decision.promoted:
        told += await tell.tell_promoted(scope.session, training, decision.promoted, now=now)
    delivering(scope, context, told)
    await answer(update, scope._("Approved; the member is told."))
    await render_requests(update, scope, training.id)


@cadre_only
async def ask_reason(update: Update, context: Context, scope: Scope) -> int:
    """Stores which request, asks the cadre for the reason the member will read."""
    await answer(update)
    keep(context, REJECTING, Rejection(pressed_args(update, cb.TRN_REJECT).enrolment))
    await reply(
        update,
        scope._("Why is the request not approved? The member will read your reason."),
        reply_markup=cancel_keyboard(scope),
    )
    return REASON


@cadre_only
async def receive_reason(update: Update, context: Context, scope: Scope) -> int:
    """Stores the reason, tells the member, shows the requests left."""
    rejection = draft_of(context, REJECTING, Rejection)
    if rejection is None:
        return ConversationHandler.END
    try:
        reason = rules.clean_text(text_of(update), rules.REASON_MAX)
    except InvalidInput as error:
        await reply(update, explain(scope, error, rules.REASON_MAX))
        return REASON
    now = now_of(scope)
    drop(context, REJECTING)
    try:
        decision = await trainings.reject(
            scope.session,
            rejection.enrolment,
            reason,
            by=scope.member.id if scope.member else None,
            now=now,
        )
    except Refused as refused:
        await reply(
            update,
            show_activity.refusal(scope.t, scope.settings.tz, refused.reason),
            reply_markup=main_menu(scope),
        )
        return ConversationHandler.END
    training = await trainings.get(scope.session, decision.enrolment.training_id)
    delivering(
        scope, context, await tell.tell_rejected(scope.session, training, decision, reason, now=now)
    )
    await reply(update, scope._("Not approved; the member is told."), reply_markup=main_menu(scope))
    await render_requests(update, scope, training.id)
    return ConversationHandler.END
