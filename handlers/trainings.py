"""Trainings: members enrol (with a cadre's approval when the course asks for it), see
their history and hours; cadres create courses with sessions, decide requests, take
attendance and export enrolment and completion.

Telegram-facing only: rules in `storage.trainings` (seats via `storage.seating`),
words in `display.trainings`, notices to others through the outbox.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from telegram import InputFile, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from core.i18n import N_
from core.runtime import CommandSpec, MenuItem, runtime_of
from display import activities as show_activity
from display import callbacks as cb
from display import trainings as show
from handlers import enrolment_common as shared
from handlers.common import (
    CANCEL_LABEL,
    OTHER_INPUT,
    PRIVATE,
    TEXT_INPUT,
    ask_for_text,
    cancel_handlers,
    cancel_keyboard,
    choice_keyboard,
    explain,
    is_label,
    pressed_args,
    reply,
    show_panel,
    show_working,
)
from handlers.menu import button_filter, main_menu
from handlers.scope import Context, Scope, cadre_only, registered, scoped
from jobs import reminders
from storage import audiences, outbox, trainings
from storage import enrolment_rules as rules
from storage.audiences import Audience
from storage.members import NotFound
from storage.models import (
    OfferingStatus,
    SignupStatus,
    Training,
    TrainingEnrolment,
    TrainingSession,
)
from storage.offerings import Refused
from storage.profile_rules import InvalidInput
from storage.trainings import SessionDraft, TrainingDraft

TRAININGS_ITEM = MenuItem("trainings", N_("🎓 Trainings"), order=40)
DRAFT = "draft_training"
REJECTING = "draft_reject"
TIMEOUT = 30 * 60
MAX_SESSIONS = 20

ANOTHER_SESSION_LABEL = N_("➕ Another session")
SESSIONS_DONE_LABEL = N_("✅ That's all")
APPROVAL_YES_LABEL = N_("🛂 Yes, a cadre approves")
APPROVAL_NO_LABEL = N_("🚪 No, open enrolment")
ALL_SESSIONS_LABEL = N_("All sessions")

(
    TITLE,
    DESCRIPTION,
    SESSION_START,
    SESSION_END,
    SESSION_PLACE,
    MORE,
    DEADLINE,
    CAPACITY,
    APPROVAL,
    REQUIRED,
    CONFIRM,
    REASON,
) = range(12)


def link_to(context: Context, training_id: int) -> str:
    return f"https://t.me/{context.bot.username}?start=trn_{training_id}"


async def _training(update: Update, scope: Scope, training_id: int) -> Training | None:
    """The course if the presser may see it (members: published or cancelled ones)."""
    try:
        training = await trainings.get(scope.session, training_id)
    except NotFound:
        training = None
    if training is None or (training.status == OfferingStatus.DRAFT.value and not scope.is_cadre):
        text = scope._("This training no longer exists.")
        if update.callback_query is not None:
            await shared.answer(update, text, True)
        else:
            await reply(update, text)
        return None
    return training


# Members -----------------------------------------------------------------------------------


@registered
async def show_list(update: Update, context: Context, scope: Scope) -> None:
    page = 0
    if update.callback_query is not None:
        (page,) = pressed_args(update, cb.TRN_LIST)
        await shared.answer(update)
    found = await trainings.open_for_members(scope.session, shared.now_of(scope), int(page))
    await show_panel(
        update,
        show.list_text(scope.t, found),
        show.list_keyboard(scope.t, found, cadre=scope.is_cadre),
    )


async def render_card(update: Update, scope: Scope, training: Training, *, fresh: bool) -> None:
    assert scope.member is not None
    sessions = await trainings.sessions_of(scope.session, training.id)
    enrolment, position = await trainings.enrolment_of(scope.session, training.id, scope.member.id)
    now = shared.now_of(scope)
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


@registered
async def open_card(update: Update, context: Context, scope: Scope) -> None:
    (training_id,) = pressed_args(update, cb.TRN_OPEN)
    training = await _training(update, scope, int(training_id))
    if training is None:
        return
    await shared.answer(update)
    await render_card(update, scope, training, fresh=False)


async def open_from_link(update: Update, context: Context, scope: Scope, payload: str) -> bool:
    """`/start trn_<id>`: show the course."""
    if not payload[4:].isdigit():
        return False
    training = await _training(update, scope, int(payload[4:]))
    if training is not None:
        await render_card(update, scope, training, fresh=True)
    return True


async def _tell_promoted(
    context: Context, scope: Scope, training: Training, promoted: list[TrainingEnrolment]
) -> None:
    members = await reminders.members_of(scope.session, [e.member_id for e in promoted])
    tickets = {e.member_id: e.ticket for e in promoted}
    await reminders.tell(
        scope.session,
        members,
        key=lambda m: f"trn:{training.id}:seat:{tickets[m.id]}",
        kind="training-seat",
        text=lambda t, m: show.promoted_notice(t, training),
        markup=lambda t: show.open_keyboard(t, training.id),
        now=shared.now_of(scope),
        target=context,
    )


@registered
async def enrol(update: Update, context: Context, scope: Scope) -> None:
    (training_id,) = pressed_args(update, cb.TRN_ENROL)
    training = await _training(update, scope, int(training_id))
    if training is None:
        return
    assert scope.member is not None
    try:
        result = await trainings.enrol(
            scope.session, training.id, scope.member, shared.now_of(scope)
        )
    except Refused as refused:
        text = show_activity.refusal(scope.t, scope.settings.tz, refused.reason)
        if refused.reason == "deadline":
            text = scope._("Sorry, enrolment closed at {deadline}.").format(
                deadline=show_activity.moment(scope.t, scope.settings.tz, training.signup_deadline)
            )
        await shared.answer(update, text, True)
        return
    training = await trainings.get(scope.session, training.id)
    if result.promoted:
        await _tell_promoted(context, scope, training, result.promoted)
    await shared.answer(
        update, show.enrolled_toast(scope.t, result.enrolment, result.position, result.already)
    )
    await render_card(update, scope, training, fresh=False)


@registered
async def withdraw(update: Update, context: Context, scope: Scope) -> None:
    (training_id,) = pressed_args(update, cb.TRN_WITHDRAW)
    training = await _training(update, scope, int(training_id))
    if training is None:
        return
    assert scope.member is not None
    try:
        promoted = await trainings.withdraw(
            scope.session, training.id, scope.member.id, shared.now_of(scope)
        )
    except Refused as refused:
        await shared.answer(
            update, show_activity.refusal(scope.t, scope.settings.tz, refused.reason), True
        )
        return
    training = await trainings.get(scope.session, training.id)
    await _tell_promoted(context, scope, training, promoted)
    await shared.answer(update, scope._("You have withdrawn."))
    await render_card(update, scope, training, fresh=False)


@registered
async def my_trainings(update: Update, context: Context, scope: Scope) -> None:
    assert scope.member is not None
    lines = await trainings.history(scope.session, scope.member.id)
    await reply(update, show.history_text(scope.t, lines), reply_markup=main_menu(scope))


# Cadres: list and panel ------------------------------------------------------------------------


@cadre_only
async def admin_list(update: Update, context: Context, scope: Scope) -> None:
    page = 0
    if update.callback_query is not None:
        (page,) = pressed_args(update, cb.TRN_ADMIN)
        await shared.answer(update)
    found = await trainings.for_cadres(scope.session, shared.now_of(scope), int(page))
    await show_panel(
        update,
        show.list_text(scope.t, found, cadre_list=True),
        show.list_keyboard(scope.t, found, cadre=True, cadre_list=True),
    )


async def render_manage(update: Update, context: Context, scope: Scope, training_id: int) -> None:
    try:
        training = await trainings.get(scope.session, training_id)
    except NotFound:
        await shared.answer(update, scope._("This training no longer exists."), True)
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
        link=link_to(context, training.id),
    )
    await show_panel(update, text, show.manage_keyboard(scope.t, training, pending))


@cadre_only
async def manage(update: Update, context: Context, scope: Scope) -> None:
    (training_id,) = pressed_args(update, cb.TRN_MANAGE)
    await shared.answer(update)
    await render_manage(update, context, scope, int(training_id))


async def _publish(
    context: Context, scope: Scope, training_id: int, announce: bool
) -> tuple[bool, int]:
    now = shared.now_of(scope)
    published = await trainings.publish(scope.session, training_id, now)
    sent = 0
    if published and announce:
        training = await trainings.get(scope.session, training_id)
        sessions = await trainings.sessions_of(scope.session, training_id)
        zone = scope.settings.tz
        group = f"trn:{training_id}:announce"
        async for chunk in audiences.recipients(scope.session, Audience(everyone=True)):
            items = [
                reminders.message(
                    r,
                    f"{group}:{r.member_id}",
                    "training-announce",
                    show.announcement(reminders.translator_for(r), zone, training, sessions),
                    markup=show.open_keyboard(reminders.translator_for(r), training_id),
                    priority=reminders.PRIORITY_BULK,
                    group_key=group,
                )
                for r in chunk
            ]
            sent += await reminders.send(scope.session, items, now=now, target=context)
    return published, sent


@cadre_only
async def publish(update: Update, context: Context, scope: Scope) -> None:
    training_id, announce = pressed_args(update, cb.TRN_PUBLISH)
    published, sent = await _publish(context, scope, int(training_id), bool(announce))
    await shared.publish_toast(
        update, scope, published=published, announce=bool(announce), sent=sent
    )
    await render_manage(update, context, scope, int(training_id))


@cadre_only
async def share_link(update: Update, context: Context, scope: Scope) -> None:
    (training_id,) = pressed_args(update, cb.TRN_LINK)
    await shared.answer(update)
    await reply(
        update,
        scope._("Share this link in any chat; it opens the training in the bot:\n{link}").format(
            link=escape(link_to(context, int(training_id)))
        ),
    )


@cadre_only
async def ask_cancel(update: Update, context: Context, scope: Scope) -> None:
    (training_id,) = pressed_args(update, cb.TRN_CANCEL)
    await shared.answer(update)
    try:
        training = await trainings.get(scope.session, int(training_id))
    except NotFound:
        return
    await show_panel(
        update,
        scope._(
            "Cancel the training “{title}”? Everyone enrolled or waiting is told. "
            "This cannot be undone."
        ).format(title=escape(training.title)),
        show.cancel_confirm_keyboard(scope.t, training.id),
    )


@cadre_only
async def cancel_training(update: Update, context: Context, scope: Scope) -> None:
    (training_id,) = pressed_args(update, cb.TRN_CANCEL_CONFIRM)
    now = shared.now_of(scope)
    people = await trainings.cancel(scope.session, int(training_id), now)
    try:
        training = await trainings.get(scope.session, int(training_id))
    except NotFound:
        await shared.answer(update, scope._("This training no longer exists."), True)
        return
    await outbox.cancel_group(scope.session, f"trnrem:{training.id}", now=now)
    await reminders.tell(
        scope.session,
        people,
        key=lambda m: f"trn:{training.id}:cancelled:{m.id}",
        kind="training-cancelled",
        text=lambda t, m: show.cancelled_notice(t, training),
        now=now,
        target=context,
    )
    await shared.answer(
        update, scope._("Cancelled. {count} members are being told.").format(count=len(people))
    )
    await render_manage(update, context, scope, training.id)


# Cadres: requests --------------------------------------------------------------------------------


async def render_requests(update: Update, scope: Scope, training_id: int) -> None:
    training = await trainings.get(scope.session, training_id)
    requests = await trainings.pending_requests(scope.session, training_id)
    await show_panel(
        update,
        show.requests_text(scope.t, training, requests),
        show.requests_keyboard(scope.t, training, requests),
    )


@cadre_only
async def requests(update: Update, context: Context, scope: Scope) -> None:
    (training_id,) = pressed_args(update, cb.TRN_REQUESTS)
    await shared.answer(update)
    try:
        await render_requests(update, scope, int(training_id))
    except NotFound:
        return


@cadre_only
async def approve(update: Update, context: Context, scope: Scope) -> None:
    (enrolment_id,) = pressed_args(update, cb.TRN_APPROVE)
    now = shared.now_of(scope)
    try:
        decision = await trainings.approve(
            scope.session,
            int(enrolment_id),
            by=scope.member.id if scope.member else None,
            now=now,
        )
    except Refused as refused:
        await shared.answer(
            update, show_activity.refusal(scope.t, scope.settings.tz, refused.reason), True
        )
        return
    training = await trainings.get(scope.session, decision.enrolment.training_id)
    seated = decision.enrolment.status == SignupStatus.SEATED.value
    await reminders.tell(
        scope.session,
        [decision.member],
        key=lambda m: f"trn:{training.id}:decided:{decision.enrolment.id}",
        kind="training-decision",
        text=lambda t, m: show.approved_notice(t, training, seated, decision.position),
        markup=lambda t: show.open_keyboard(t, training.id),
        now=now,
        target=context,
    )
    if decision.promoted:
        await _tell_promoted(context, scope, training, decision.promoted)
    await shared.answer(update, scope._("Approved; the member is told."))
    await render_requests(update, scope, training.id)


@cadre_only
async def ask_reason(update: Update, context: Context, scope: Scope) -> int:
    (enrolment_id,) = pressed_args(update, cb.TRN_REJECT)
    await shared.answer(update)
    context.user_data[REJECTING] = int(enrolment_id)  # type: ignore[index]
    await reply(
        update,
        scope._("Why is the request not approved? The member will read your reason."),
        reply_markup=cancel_keyboard(scope),
    )
    return REASON


@cadre_only
async def receive_reason(update: Update, context: Context, scope: Scope) -> int:
    assert context.user_data is not None
    enrolment_id = context.user_data.get(REJECTING)
    if enrolment_id is None:
        return ConversationHandler.END
    text = update.effective_message.text or ""  # type: ignore[union-attr]
    try:
        reason = rules.clean_text(text, rules.REASON_MAX)
    except InvalidInput as error:
        await reply(update, explain(scope, error, rules.REASON_MAX))
        return REASON
    now = shared.now_of(scope)
    context.user_data.pop(REJECTING, None)
    try:
        decision = await trainings.reject(
            scope.session,
            int(enrolment_id),
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
    await reminders.tell(
        scope.session,
        [decision.member],
        key=lambda m: f"trn:{training.id}:decided:{decision.enrolment.id}",
        kind="training-decision",
        text=lambda t, m: show.rejected_notice(t, training, reason),
        now=now,
        target=context,
    )
    await reply(update, scope._("Not approved; the member is told."), reply_markup=main_menu(scope))
    await render_requests(update, scope, training.id)
    return ConversationHandler.END


# Cadres: attendance ---------------------------------------------------------------------------------


@cadre_only
async def sessions(update: Update, context: Context, scope: Scope) -> None:
    (training_id,) = pressed_args(update, cb.TRN_SESSIONS)
    await shared.answer(update)
    try:
        training = await trainings.get(scope.session, int(training_id))
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
    (session_id,) = pressed_args(update, cb.TRN_SESSION)
    try:
        meeting = await trainings.get_session(scope.session, int(session_id))
    except NotFound:
        await shared.answer(update, scope._("This training no longer exists."), True)
        return
    await shared.answer(update)
    await render_attendance(update, scope, meeting)


@cadre_only
async def mark(update: Update, context: Context, scope: Scope) -> None:
    session_id, member_id = pressed_args(update, cb.TRN_MARK)
    now = shared.now_of(scope)
    try:
        marked = await trainings.toggle_present(
            scope.session,
            int(session_id),
            int(member_id),
            by=scope.member.id if scope.member else None,
            now=now,
        )
    except (Refused, NotFound) as error:
        reason = error.reason if isinstance(error, Refused) else "not_found"
        await shared.answer(update, show_activity.refusal(scope.t, scope.settings.tz, reason), True)
        return
    if marked.completed_now:
        history = await trainings.history(scope.session, marked.member.id)
        hours = next((h.hours for h in history if h.training.id == marked.training.id), 0.0)
        await reminders.tell(
            scope.session,
            [marked.member],
            key=lambda m: f"trn:{marked.training.id}:completed:{m.id}",
            kind="training-completed",
            text=lambda t, m: show.completed_notice(t, marked.training, hours),
            now=now,
            target=context,
        )
    await shared.answer(
        update, scope._("Present.") if marked.present else scope._("Mark taken back.")
    )
    meeting = await trainings.get_session(scope.session, int(session_id))
    await render_attendance(update, scope, meeting)


@cadre_only
async def export(update: Update, context: Context, scope: Scope) -> None:
    (training_id,) = pressed_args(update, cb.TRN_EXPORT)
    try:
        training = await trainings.get(scope.session, int(training_id))
    except NotFound:
        await shared.answer(update, scope._("This training no longer exists."), True)
        return
    await shared.answer(update)
    await show_working(update)
    found = await trainings.sessions_of(scope.session, training.id)
    lines = await trainings.enrolment_report(scope.session, training.id)
    data = show.enrolment_xlsx(scope.t, scope.settings.tz, training, found, lines)
    message = update.effective_message
    assert message is not None
    await message.reply_document(
        InputFile(data, filename=f"training-{training.id}.xlsx"),
        caption=scope._("Enrolment and completion of {title}.").format(
            title=escape(training.title)
        ),
    )


# Cadres: the guided editor ----------------------------------------------------------------------------


def _draft(context: Context) -> dict[str, Any]:
    return shared.draft_of(context, DRAFT)


_text = shared.text_of


@cadre_only
async def begin_new(update: Update, context: Context, scope: Scope) -> int:
    await shared.answer(update)
    assert context.user_data is not None
    context.user_data[DRAFT] = {"sessions": []}
    await reply(
        update,
        scope._("Let's create a training. What is the course called?"),
        reply_markup=cancel_keyboard(scope),
    )
    return TITLE


@cadre_only
async def step_title(update: Update, context: Context, scope: Scope) -> int:
    if not await shared.read_title(update, scope, _draft(context)):
        return TITLE
    await reply(
        update,
        scope._("Describe the course: content, trainer, who it is for. Or tap Skip."),
        reply_markup=choice_keyboard(scope, [], skip=True),
    )
    return DESCRIPTION


async def _ask_session_start(update: Update, scope: Scope, number: int) -> int:
    await reply(
        update,
        scope._(
            "Session {number}: when does it start? Write the date and time, like {example}."
        ).format(
            number=number,
            example=show_activity.example_time(shared.now_of(scope), scope.settings.tz),
        ),
        reply_markup=cancel_keyboard(scope),
    )
    return SESSION_START


@cadre_only
async def step_description(update: Update, context: Context, scope: Scope) -> int:
    if not await shared.read_description(update, scope, _draft(context)):
        return DESCRIPTION
    return await _ask_session_start(update, scope, 1)


@cadre_only
async def step_session_start(update: Update, context: Context, scope: Scope) -> int:
    start = await shared.read_start(update, scope)
    if start is None:
        return SESSION_START
    _draft(context)["current"] = {"start": start.isoformat()}
    await reply(
        update,
        scope._("When does it end? A time like 16:00 on the same day, or a date and time."),
        reply_markup=cancel_keyboard(scope),
    )
    return SESSION_END


@cadre_only
async def step_session_end(update: Update, context: Context, scope: Scope) -> int:
    current = _draft(context).setdefault("current", {})
    if "start" not in current:
        return await _ask_session_start(update, scope, len(_draft(context)["sessions"]) + 1)
    end = await shared.read_end(update, scope, datetime.fromisoformat(current["start"]))
    if end is None:
        return SESSION_END
    current["end"] = end.isoformat()
    await reply(
        update,
        scope._("Where is it? Type the place, or paste the link for an online session."),
        reply_markup=cancel_keyboard(scope),
    )
    return SESSION_PLACE


@cadre_only
async def step_session_place(update: Update, context: Context, scope: Scope) -> int:
    draft = _draft(context)
    current = draft.get("current") or {}
    if "end" not in current:
        return await _ask_session_start(update, scope, len(draft["sessions"]) + 1)
    text = _text(update)
    link = rules.clean_link(text)
    if link is not None:
        current["link"], current["place"] = link, ""
    else:
        try:
            current["place"] = rules.clean_title(text, rules.PLACE_MAX)
        except InvalidInput as error:
            await reply(update, explain(scope, error, rules.PLACE_MAX))
            return SESSION_PLACE
    draft["sessions"].append(current)
    draft.pop("current", None)
    count = len(draft["sessions"])
    buttons = [scope._(SESSIONS_DONE_LABEL)]
    if count < MAX_SESSIONS:
        buttons.insert(0, scope._(ANOTHER_SESSION_LABEL))
    await reply(
        update,
        scope._("Session {number} added. Add another?").format(number=count),
        reply_markup=choice_keyboard(scope, buttons),
    )
    return MORE


@cadre_only
async def step_more(update: Update, context: Context, scope: Scope) -> int:
    text = _text(update)
    draft = _draft(context)
    if is_label(text, ANOTHER_SESSION_LABEL) and len(draft["sessions"]) < MAX_SESSIONS:
        return await _ask_session_start(update, scope, len(draft["sessions"]) + 1)
    if not is_label(text, SESSIONS_DONE_LABEL):
        await reply(update, scope._("Please tap one of the buttons."))
        return MORE
    await reply(
        update,
        scope._("Until when can members enrol? A date and time, or tap the button."),
        reply_markup=choice_keyboard(scope, [scope._(shared.UNTIL_START_LABEL)]),
    )
    return DEADLINE


def _first_start(draft: dict[str, Any]) -> datetime:
    return min(datetime.fromisoformat(s["start"]) for s in draft["sessions"])


@cadre_only
async def step_deadline(update: Update, context: Context, scope: Scope) -> int:
    draft = _draft(context)
    first = _first_start(draft)
    deadline = await shared.read_deadline(update, scope, first)
    if deadline is None:
        return DEADLINE
    if deadline > first or deadline <= shared.now_of(scope):
        code = "deadline_after_start" if deadline > first else "deadline_past"
        await reply(update, shared.schedule_error(scope, code))
        return DEADLINE
    draft["deadline"] = deadline.isoformat()
    await reply(
        update,
        scope._("How many places are there? Send a number, or tap the button."),
        reply_markup=choice_keyboard(scope, [scope._(shared.UNLIMITED_LABEL)]),
    )
    return CAPACITY


@cadre_only
async def step_capacity(update: Update, context: Context, scope: Scope) -> int:
    if not await shared.read_capacity(update, scope, _draft(context)):
        return CAPACITY
    await reply(
        update,
        scope._("Does a cadre approve each enrolment?"),
        reply_markup=choice_keyboard(
            scope, [scope._(APPROVAL_YES_LABEL), scope._(APPROVAL_NO_LABEL)]
        ),
    )
    return APPROVAL


@cadre_only
async def step_approval(update: Update, context: Context, scope: Scope) -> int:
    text = _text(update)
    if is_label(text, APPROVAL_YES_LABEL):
        _draft(context)["approval"] = True
    elif is_label(text, APPROVAL_NO_LABEL):
        _draft(context)["approval"] = False
    else:
        await reply(update, scope._("Please tap one of the buttons."))
        return APPROVAL
    count = len(_draft(context)["sessions"])
    if count == 1:
        _draft(context)["required"] = None
        return await _confirm(update, scope, _draft(context))
    await reply(
        update,
        scope._("How many of the {count} sessions must a member attend to complete it?").format(
            count=count
        ),
        reply_markup=choice_keyboard(scope, [scope._(ALL_SESSIONS_LABEL)]),
    )
    return REQUIRED


@cadre_only
async def step_required(update: Update, context: Context, scope: Scope) -> int:
    text = _text(update)
    draft = _draft(context)
    count = len(draft["sessions"])
    if is_label(text, ALL_SESSIONS_LABEL):
        draft["required"] = None
    else:
        try:
            value = rules.parse_capacity(text)
        except InvalidInput:
            value = 0
        if not 1 <= value <= count:
            await reply(
                update,
                scope._("Please send a number from 1 to {count}, or tap All sessions.").format(
                    count=count
                ),
            )
            return REQUIRED
        draft["required"] = None if value == count else value
    return await _confirm(update, scope, draft)


def _draft_value(draft: dict[str, Any]) -> TrainingDraft:
    return TrainingDraft(
        title=draft["title"],
        description=draft.get("description", ""),
        capacity=draft.get("capacity"),
        signup_deadline=datetime.fromisoformat(draft["deadline"]),
        needs_approval=bool(draft.get("approval")),
        required_sessions=draft.get("required"),
        sessions=[
            SessionDraft(
                starts_at=datetime.fromisoformat(s["start"]),
                ends_at=datetime.fromisoformat(s["end"]),
                place=s.get("place", ""),
                online_link=s.get("link"),
            )
            for s in draft["sessions"]
        ],
    )


async def _confirm(update: Update, scope: Scope, draft: dict[str, Any]) -> int:
    value = _draft_value(draft)
    preview = Training(
        id=0,
        title=value.title,
        description=value.description,
        capacity=value.capacity,
        seats_taken=0,
        signup_deadline=value.signup_deadline,
        needs_approval=value.needs_approval,
        required_sessions=value.required_sessions,
        status=OfferingStatus.DRAFT.value,
    )
    meetings = [
        TrainingSession(
            starts_at=s.starts_at, ends_at=s.ends_at, place=s.place, online_link=s.online_link
        )
        for s in sorted(value.sessions, key=lambda s: s.starts_at)
    ]
    text = "\n".join(
        [
            "<b>" + scope._("Please check the training:") + "</b>",
            "",
            *show.details(scope.t, scope.settings.tz, preview, meetings),
        ]
    )
    await reply(update, text, reply_markup=shared.confirm_keyboard(scope))
    return CONFIRM


@cadre_only
async def step_confirm(update: Update, context: Context, scope: Scope) -> int:
    draft = _draft(context)
    choice = await shared.confirm_choice(update, scope)
    if choice is None:
        return CONFIRM
    if "deadline" not in draft or not draft.get("sessions"):
        return await shared.lost_answers(update, context, scope, DRAFT)
    value = _draft_value(draft)
    if value.signup_deadline is not None and value.signup_deadline <= shared.now_of(scope):
        await reply(update, shared.schedule_error(scope, "deadline_past"))
        return CONFIRM
    training = await trainings.create(
        scope.session,
        value,
        created_by=scope.member.id if scope.member else None,
        now=shared.now_of(scope),
    )
    context.user_data.pop(DRAFT, None)  # type: ignore[union-attr]
    sent = 0
    if choice != shared.SAVE_DRAFT_LABEL:
        _, sent = await _publish(
            context, scope, training.id, choice == shared.PUBLISH_ANNOUNCE_LABEL
        )
    done = shared.created_text(scope, choice, sent)
    await reply(update, done, reply_markup=main_menu(scope))
    await render_manage(update, context, scope, training.id)
    return ConversationHandler.END


@scoped
async def editor_timeout(update: Update, context: Context, scope: Scope) -> None:
    if context.user_data is not None:
        context.user_data.pop(DRAFT, None)
        context.user_data.pop(REJECTING, None)


def enrol_line(update: Update) -> tuple[str, int] | None:
    """Enrolments in one training stand in line by arrival (`bot.processor`): tap order."""
    query = update.callback_query
    if query is None or not query.data or not cb.TRN_ENROL.pattern.match(query.data):
        return None
    return ("training", int(cb.TRN_ENROL.unpack(query.data)[0]))


def register(application: Application) -> None:
    runtime = runtime_of(application)
    runtime.add_menu(TRAININGS_ITEM)
    runtime.add_command(
        CommandSpec("trainings", N_("Trainings: enrol"), frozenset({"private"}), 40)
    )
    runtime.add_command(
        CommandSpec(
            "my_trainings", N_("My trainings and training hours"), frozenset({"private"}), 41
        )
    )
    runtime.add_command(
        CommandSpec("new_training", N_("Create a training"), frozenset({"admin"}), 42)
    )
    text_step = TEXT_INPUT & ~button_filter(CANCEL_LABEL)
    application.add_handler(
        ConversationHandler(
            entry_points=[
                CallbackQueryHandler(begin_new, pattern=cb.TRN_NEW.pattern),
                CommandHandler("new_training", begin_new, filters=PRIVATE),
                CallbackQueryHandler(ask_reason, pattern=cb.TRN_REJECT.pattern),
            ],
            states={
                TITLE: [MessageHandler(text_step, step_title)],
                DESCRIPTION: [MessageHandler(text_step, step_description)],
                SESSION_START: [MessageHandler(text_step, step_session_start)],
                SESSION_END: [MessageHandler(text_step, step_session_end)],
                SESSION_PLACE: [MessageHandler(text_step, step_session_place)],
                MORE: [MessageHandler(text_step, step_more)],
                DEADLINE: [MessageHandler(text_step, step_deadline)],
                CAPACITY: [MessageHandler(text_step, step_capacity)],
                APPROVAL: [MessageHandler(text_step, step_approval)],
                REQUIRED: [MessageHandler(text_step, step_required)],
                CONFIRM: [MessageHandler(text_step, step_confirm)],
                REASON: [MessageHandler(text_step, receive_reason)],
                ConversationHandler.TIMEOUT: [MessageHandler(filters.ALL, editor_timeout)],
            },
            fallbacks=[*cancel_handlers(), MessageHandler(OTHER_INPUT, ask_for_text)],
            name="training_editor",
            persistent=True,
            conversation_timeout=TIMEOUT,
            allow_reentry=True,
        )
    )
    application.add_handler(CommandHandler("trainings", show_list, filters=PRIVATE))
    application.add_handler(CommandHandler("my_trainings", my_trainings, filters=PRIVATE))
    application.add_handler(
        MessageHandler(button_filter(TRAININGS_ITEM.label) & PRIVATE, show_list)
    )
    for action, callback in (
        (cb.TRN_LIST, show_list),
        (cb.TRN_OPEN, open_card),
        (cb.TRN_ENROL, enrol),
        (cb.TRN_WITHDRAW, withdraw),
        (cb.TRN_ADMIN, admin_list),
        (cb.TRN_MANAGE, manage),
        (cb.TRN_PUBLISH, publish),
        (cb.TRN_LINK, share_link),
        (cb.TRN_CANCEL, ask_cancel),
        (cb.TRN_CANCEL_CONFIRM, cancel_training),
        (cb.TRN_REQUESTS, requests),
        (cb.TRN_APPROVE, approve),
        (cb.TRN_SESSIONS, sessions),
        (cb.TRN_SESSION, session_attendance),
        (cb.TRN_MARK, mark),
        (cb.TRN_EXPORT, export),
    ):
        application.add_handler(CallbackQueryHandler(callback, pattern=action.pattern))
    runtime_of(application).add_line(enrol_line)
