"""The card's buttons in the union groups: take, reply, resolve, escalate, mute, unmute.

Every press is checked twice: the presser must be a cadre or admin
(`storage.members.effective_role`) and the press must come from one of the
case's groups (its category's group, the cadre group or the escalation group).
A forged or stale press gets an alert and changes nothing.
"""

from __future__ import annotations

import logging

from telegram import ForceReply, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler

from display import callbacks as cb
from display import grievances as display
from handlers.common import pressed_args
from handlers.grievances.answers import remember_prompt
from handlers.grievances.shared import NOT_CADRE, WRONG_GROUP, in_case_group, query_message
from handlers.scope import Context, Scope, scoped
from jobs.delivery import wake_after_commit
from notices import grievances as relay
from storage import grievance_rules as rules
from storage import grievances as service
from storage.grievance_rules import CadreAction, Escalation, NotOffered
from storage.models import Grievance
from storage.models import GrievanceStatus as Status

log = logging.getLogger(__name__)


async def _case_for_press(
    update: Update, scope: Scope, case_id: int, what: CadreAction
) -> Grievance | None:
    """The case a cadre button names, if this presser may do this there and now."""
    query = update.callback_query
    assert query is not None
    if not scope.is_cadre:
        await query.answer(scope._(NOT_CADRE), show_alert=True)
        return None
    case = await service.get_case(scope.session, case_id, lock=True)
    if case is None:
        await query.answer(scope._("This button is no longer valid."), show_alert=True)
        return None
    if not in_case_group(update, scope, case):
        await query.answer(scope._(WRONG_GROUP), show_alert=True)
        return None
    now = scope.runtime.now()
    muted = case.muted_until is not None and case.muted_until > now
    if not rules.cadre_may(
        what, Status(case.status), muted=muted, escalated=case.escalated_at is not None
    ):
        if Status(case.status) in rules.FINISHED:
            text = scope._(
                "This case is closed; nothing was changed. If the member needs more help, "
                "they can open a new case."
            )
        else:
            text = scope._("That was already done; the card has been refreshed.")
        await query.answer(text, show_alert=True)
        await _redraw_pressed(update, scope, case)
        return None
    return case


async def _redraw_pressed(
    update: Update, scope: Scope, case: Grievance, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Redraw the card that was pressed; a /case copy stays a copy, thread and all (one
    posted before copies were kept is redrawn as the card)."""
    message = query_message(update)
    if message is None or message.text is None:
        return
    now = scope.runtime.now()
    post = await service.post_at(scope.session, case.id, message.chat_id, message.message_id)
    if post is not None and post.role == "copy":
        t = await relay.copy_language(scope.session, scope.runtime, message.chat_id)
        text, card_markup = await relay.render_copy(
            scope.session, scope.runtime, case, now, t, with_buttons=True
        )
    else:
        text, card_markup = await relay.render_card(scope.session, scope.runtime, case, now)
    chosen = markup if markup is not None else card_markup
    if message.text_html == text and message.reply_markup == chosen:
        return
    try:
        await message.edit_text(text, reply_markup=chosen)
    except TelegramError as error:
        log.info("pressed card not redrawn: %s", type(error).__name__)


async def _changed(
    update: Update,
    context: Context,
    scope: Scope,
    case: Grievance,
    action: str,
    detail: str | None = None,
    *,
    toast: str | None = None,
) -> None:
    """After a cadre's change: audit, answer the press with ``toast``, redraw every card.

    The audit record is written before the answer, which commits (`bot.request`):
    the change and its record are saved together.
    """
    user = update.effective_user
    now = scope.runtime.now()
    await service.record(
        scope.session, case, action, now, actor=user.id if user else None, detail=detail
    )
    wake_after_commit(scope.session, context)
    assert update.callback_query is not None
    await update.callback_query.answer(toast)
    await _redraw_pressed(update, scope, case)
    message = query_message(update)
    skip = (message.chat_id, message.message_id) if message is not None else None
    await relay.refresh_cards(context.bot, scope.session, scope.runtime, case, now, skip=skip)
    log.info("grievance %s: %s by a cadre", case.code, action)


@scoped
async def take(update: Update, context: Context, scope: Scope) -> None:
    args = pressed_args(update, cb.GRIEVANCE_TAKE)
    case = await _case_for_press(update, scope, args.case, CadreAction.TAKE)
    if case is None:
        return
    assert update.effective_user is not None and update.callback_query is not None
    now = scope.runtime.now()
    service.take(case, update.effective_user.id, now)
    await relay.notify_member(
        scope.session, scope.runtime, case, "taken", now, moment=case.answer_due_at
    )
    toast = scope._("You took {code}.").format(code=case.code)
    await _changed(update, context, scope, case, "took", toast=toast)


@scoped
async def ask_reply(update: Update, context: Context, scope: Scope) -> None:
    args = pressed_args(update, cb.GRIEVANCE_REPLY)
    case = await _case_for_press(update, scope, args.case, CadreAction.REPLY)
    if case is None:
        return
    query = update.callback_query
    message = query_message(update)
    user = update.effective_user
    assert query is not None and message is not None and user is not None
    await query.answer()
    # Selective, and the prompt mentions the presser: only their reply field opens
    # (the prompt replies to the card, a bot message, so the mention is what targets).
    name = scope.member.name if scope.member is not None else user.full_name
    await message.reply_text(
        display.reply_prompt(scope.t, case.code, user.id, name),
        reply_markup=ForceReply(selective=True, input_field_placeholder=case.code),
    )
    remember_prompt(context, case.id, message.chat_id, scope.runtime.now())


@scoped
async def ask_resolve(update: Update, context: Context, scope: Scope) -> None:
    args = pressed_args(update, cb.GRIEVANCE_RESOLVE)
    case = await _case_for_press(update, scope, args.case, CadreAction.RESOLVE)
    if case is None:
        return
    assert update.callback_query is not None
    await update.callback_query.answer()
    await _redraw_pressed(update, scope, case, display.resolve_keyboard(scope.t, case))


@scoped
async def resolve(update: Update, context: Context, scope: Scope) -> None:
    args = pressed_args(update, cb.GRIEVANCE_RESOLVE_CONFIRM)
    case = await _case_for_press(update, scope, args.case, CadreAction.RESOLVE)
    if case is None:
        return
    assert update.callback_query is not None
    now = scope.runtime.now()
    service.finish(case, Status.RESOLVED, now)
    await relay.notify_member(scope.session, scope.runtime, case, "resolved", now)
    toast = scope._("{code} is resolved.").format(code=case.code)
    await _changed(update, context, scope, case, "resolved", toast=toast)


@scoped
async def escalate(update: Update, context: Context, scope: Scope) -> None:
    args = pressed_args(update, cb.GRIEVANCE_ESCALATE)
    case = await _case_for_press(update, scope, args.case, CadreAction.ESCALATE)
    if case is None:
        return
    query = update.callback_query
    assert query is not None
    upstairs = scope.settings.escalation_chat_id
    if upstairs is None:
        await query.answer(
            scope._("No escalation group is set (ESCALATION_CHAT_ID); nothing was changed."),
            show_alert=True,
        )
        return
    now = scope.runtime.now()
    service.escalate(case, Escalation.MANUAL, now)
    await relay.escalated_by_cadre(scope.session, scope.runtime, case, upstairs, now)
    toast = scope._("{code} was escalated.").format(code=case.code)
    await _changed(update, context, scope, case, "escalated", toast=toast)


@scoped
async def mute(update: Update, context: Context, scope: Scope) -> None:
    args = pressed_args(update, cb.GRIEVANCE_MUTE)
    case = await _case_for_press(update, scope, args.case, CadreAction.MUTE)
    if case is None:
        return
    query = update.callback_query
    assert query is not None
    if args.days == 0:  # 🔇 Mute: the lengths to choose from
        await query.answer()
        await _redraw_pressed(update, scope, case, display.mute_keyboard(scope.t, case))
        return
    try:
        service.mute_for(case, args.days, scope.runtime.now())
    except NotOffered:
        await query.answer(scope._("This button is no longer valid."), show_alert=True)
        return
    toast = scope._("Muted: the sender of {code} cannot open new cases for {days} days.").format(
        code=case.code, days=args.days
    )
    await _changed(update, context, scope, case, "muted", f"{args.days} d", toast=toast)


@scoped
async def unmute(update: Update, context: Context, scope: Scope) -> None:
    args = pressed_args(update, cb.GRIEVANCE_UNMUTE)
    case = await _case_for_press(update, scope, args.case, CadreAction.UNMUTE)
    if case is None:
        return
    assert update.callback_query is not None
    service.mute(case, None)
    await _changed(update, context, scope, case, "unmuted")


@scoped
async def back_to_card(update: Update, context: Context, scope: Scope) -> None:
    query = update.callback_query
    assert query is not None
    if not scope.is_cadre:
        await query.answer(scope._(NOT_CADRE), show_alert=True)
        return
    case = await service.get_case(scope.session, pressed_args(update, cb.GRIEVANCE_CARD).case)
    if case is None or not in_case_group(update, scope, case):
        await query.answer(scope._(WRONG_GROUP), show_alert=True)
        return
    await query.answer()
    await _redraw_pressed(update, scope, case)


def handlers() -> list[BaseHandler[Update, Context, object]]:
    presses = (
        (cb.GRIEVANCE_TAKE, take),
        (cb.GRIEVANCE_REPLY, ask_reply),
        (cb.GRIEVANCE_RESOLVE, ask_resolve),
        (cb.GRIEVANCE_RESOLVE_CONFIRM, resolve),
        (cb.GRIEVANCE_ESCALATE, escalate),
        (cb.GRIEVANCE_MUTE, mute),
        (cb.GRIEVANCE_UNMUTE, unmute),
        (cb.GRIEVANCE_CARD, back_to_card),
    )
    return [CallbackQueryHandler(handler, pattern=action.pattern) for action, handler in presses]
