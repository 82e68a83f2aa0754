"""The training editor: a cadre creates a course with its sessions, step by step.

The `training_editor` conversation, drawn in ``training_editor.mmd`` beside
this module (which also holds the reason for not approving a request,
`handlers.trainings.requests`). One function per state, each saying what it
stores and what it asks next, as python-telegram-bot's ``conversationbot``
example. The answers are a `storage.trainings.TrainingDraft`, kept between
steps; the draft and the service decide whether an answer holds and a step
only words their refusal and asks again.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from core.i18n import N_
from display import activities as show_activity
from display import callbacks as cb
from display import time_input as show_time
from display import trainings as show
from handlers import enrolment_common as shared
from handlers import time_input
from handlers.common import (
    PRIVATE,
    cancel_keyboard,
    choice_keyboard,
    draft_of,
    explain,
    is_label,
    reply,
)
from handlers.enrolment_common import drop, keep, lost_answers, now_of, text_of
from handlers.menu import main_menu
from handlers.scope import Context, Scope, cadre_only, scoped
from handlers.trainings.cadre import publish_now
from handlers.trainings.requests import REJECTING, ask_reason, receive_reason
from handlers.trainings.states import (
    APPROVAL,
    CAPACITY,
    CONFIRM,
    DEADLINE,
    DESCRIPTION,
    MORE,
    REASON,
    REQUIRED,
    SESSION_END,
    SESSION_PLACE,
    SESSION_START,
    TITLE,
)
from handlers.trainings.views import render_manage
from storage import enrolment_rules as rules
from storage import trainings
from storage.enrolment_rules import ScheduleRefused
from storage.offerings import Incomplete
from storage.profile_rules import InvalidInput
from storage.trainings import TrainingDraft

NAME = "training_editor"
DRAFT = "draft_training"
TIMEOUT = 30 * 60

ANOTHER_SESSION_LABEL = N_("➕ Another session")
SESSIONS_DONE_LABEL = N_("✅ That's all")
APPROVAL_YES_LABEL = N_("🛂 Yes, a cadre approves")
APPROVAL_NO_LABEL = N_("🚪 No, open enrolment")
ALL_SESSIONS_LABEL = N_("All sessions")


def _draft(context: Context) -> TrainingDraft:
    """The answers so far; a fresh draft when none is kept (as when creating)."""
    draft = draft_of(context, DRAFT, TrainingDraft)
    if draft is None:
        draft = TrainingDraft()
        keep(context, DRAFT, draft)
    return draft


async def _ask_session_start(update: Update, scope: Scope, number: int) -> int:
    await reply(
        update,
        scope._(
            "Session {number}: when does it start? Write the date and time, like {example}."
        ).format(
            number=number,
            example=show_activity.example_time(now_of(scope), scope.settings.tz),
        )
        + "\n"
        + show_time.hint(scope.t),
        reply_markup=cancel_keyboard(scope),
    )
    return SESSION_START


@cadre_only
async def begin_new(update: Update, context: Context, scope: Scope) -> int:
    """Starts an empty draft, asks what the course is called."""
    await shared.answer(update)
    keep(context, DRAFT, TrainingDraft())
    await reply(
        update,
        scope._("Let's create a training. What is the course called?"),
        reply_markup=cancel_keyboard(scope),
    )
    return TITLE


@cadre_only
async def step_title(update: Update, context: Context, scope: Scope) -> int:
    """Stores the title, asks for a description."""
    if not await shared.read_title(update, scope, _draft(context)):
        return TITLE
    await reply(
        update,
        scope._("Describe the course: content, trainer, who it is for. Or tap Skip."),
        reply_markup=choice_keyboard(scope, [], skip=True),
    )
    return DESCRIPTION


@cadre_only
async def step_description(update: Update, context: Context, scope: Scope) -> int:
    """Stores the description (Skip: none), asks when the first session starts."""
    if not await shared.read_description(update, scope, _draft(context)):
        return DESCRIPTION
    return await _ask_session_start(update, scope, 1)


@cadre_only
async def step_session_start(update: Update, context: Context, scope: Scope) -> int:
    """Stores a session's start (if still ahead), asks when it ends."""
    start = await shared.read_moment(update, context, scope, step="training-start")
    if start is None:
        return SESSION_START
    try:
        _draft(context).set_session_start(start, now_of(scope))
    except ScheduleRefused as refused:
        await shared.refuse_schedule(update, scope, refused)
        return SESSION_START
    await reply(
        update,
        scope._("When does it end? A time like 16:00 on the same day, or a date and time."),
        reply_markup=cancel_keyboard(scope),
    )
    return SESSION_END


@cadre_only
async def step_session_end(update: Update, context: Context, scope: Scope) -> int:
    """Stores the session's end (after its start), asks where it takes place."""
    draft = _draft(context)
    if draft.next_start is None:
        return await _ask_session_start(update, scope, len(draft.sessions) + 1)
    end = await shared.read_moment(
        update, context, scope, day=draft.next_start, base=draft.next_start, step="training-end"
    )
    if end is None:
        return SESSION_END
    try:
        draft.set_session_end(end)
    except ScheduleRefused as refused:
        await shared.refuse_schedule(update, scope, refused)
        return SESSION_END
    await reply(
        update,
        scope._("Where is it? Type the place, or paste the link for an online session."),
        reply_markup=cancel_keyboard(scope),
    )
    return SESSION_PLACE


@cadre_only
async def step_session_place(update: Update, context: Context, scope: Scope) -> int:
    """Stores the session with its place or link, asks whether there is another."""
    draft = _draft(context)
    try:
        count = draft.add_session(text_of(update))
    except Incomplete:
        return await _ask_session_start(update, scope, len(draft.sessions) + 1)
    except InvalidInput as error:
        await reply(update, explain(scope, error, rules.PLACE_MAX))
        return SESSION_PLACE
    buttons = [scope._(SESSIONS_DONE_LABEL)]
    if draft.may_add_session:
        buttons.insert(0, scope._(ANOTHER_SESSION_LABEL))
    await reply(
        update,
        scope._("Session {number} added. Add another?").format(number=count),
        reply_markup=choice_keyboard(scope, buttons),
    )
    return MORE


@cadre_only
async def step_more(update: Update, context: Context, scope: Scope) -> int:
    """Another session (asks its start), or that's all (asks until when members may enrol)."""
    text = text_of(update)
    draft = _draft(context)
    if is_label(text, ANOTHER_SESSION_LABEL) and draft.may_add_session:
        return await _ask_session_start(update, scope, len(draft.sessions) + 1)
    if not is_label(text, SESSIONS_DONE_LABEL):
        await reply(update, scope._("Please tap one of the buttons."))
        return MORE
    await reply(
        update,
        scope._("Until when can members enrol? A date and time, or tap the button."),
        reply_markup=choice_keyboard(scope, [scope._(shared.UNTIL_START_LABEL)]),
    )
    return DEADLINE


@cadre_only
async def step_deadline(update: Update, context: Context, scope: Scope) -> int:
    """Stores the enrolment deadline (by the first session), asks for the places."""
    draft = _draft(context)
    try:
        first = draft.first_start
    except Incomplete:
        return await lost_answers(update, context, scope, DRAFT)
    deadline = await shared.read_deadline(update, context, scope, first, step="training-deadline")
    if deadline is None:
        return DEADLINE
    try:
        draft.set_deadline(deadline, now_of(scope))
    except ScheduleRefused as refused:
        await shared.refuse_schedule(update, scope, refused)
        return DEADLINE
    await reply(
        update,
        scope._("How many places are there? Send a number, or tap the button."),
        reply_markup=choice_keyboard(scope, [scope._(shared.UNLIMITED_LABEL)]),
    )
    return CAPACITY


@cadre_only
async def step_capacity(update: Update, context: Context, scope: Scope) -> int:
    """Stores the places (or unlimited), asks whether a cadre approves each enrolment."""
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
    """Stores approval or open enrolment, asks how many sessions complete it (one: none)."""
    text = text_of(update)
    draft = _draft(context)
    if is_label(text, APPROVAL_YES_LABEL):
        draft.needs_approval = True
    elif is_label(text, APPROVAL_NO_LABEL):
        draft.needs_approval = False
    else:
        await reply(update, scope._("Please tap one of the buttons."))
        return APPROVAL
    count = len(draft.sessions)
    if count == 1:
        draft.set_required(None)
        return await _confirm(update, context, scope, draft)
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
    """Stores how many sessions complete the course, shows the summary to confirm."""
    text = text_of(update)
    draft = _draft(context)
    try:
        draft.set_required(
            None if is_label(text, ALL_SESSIONS_LABEL) else rules.parse_capacity(text)
        )
    except InvalidInput:
        await reply(
            update,
            scope._("Please send a number from 1 to {count}, or tap All sessions.").format(
                count=len(draft.sessions)
            ),
        )
        return REQUIRED
    return await _confirm(update, context, scope, draft)


async def _confirm(update: Update, context: Context, scope: Scope, draft: TrainingDraft) -> int:
    if draft.signup_deadline is None or not draft.sessions:
        return await lost_answers(update, context, scope, DRAFT)
    await reply(
        update,
        show.draft_summary(scope.t, scope.settings.tz, draft),
        reply_markup=shared.confirm_keyboard(scope),
    )
    return CONFIRM


@cadre_only
async def step_confirm(update: Update, context: Context, scope: Scope) -> int:
    """Saves the course (published, announced, or as a draft), shows its panel."""
    draft = _draft(context)
    choice = await shared.confirm_choice(update, scope)
    if choice is None:
        return CONFIRM
    try:
        training = await trainings.create(
            scope.session,
            draft,
            created_by=scope.member.id if scope.member else None,
            now=now_of(scope),
        )
    except Incomplete:
        return await lost_answers(update, context, scope, DRAFT)
    except ScheduleRefused as refused:  # the deadline passed while the cadre checked
        await shared.refuse_schedule(update, scope, refused)
        return CONFIRM
    drop(context, DRAFT)
    sent = 0
    if choice != shared.SAVE_DRAFT_LABEL:
        _, sent = await publish_now(
            context, scope, training.id, choice == shared.PUBLISH_ANNOUNCE_LABEL
        )
    await reply(update, shared.created_text(scope, choice, sent), reply_markup=main_menu(scope))
    await render_manage(update, context, scope, training.id)
    return ConversationHandler.END


@scoped
async def timed_out(update: Update, context: Context, scope: Scope) -> None:
    drop(context, DRAFT, REJECTING)


def conversation(
    text_step: filters.BaseFilter, fallbacks: list[BaseHandler[Update, Context, object]]
) -> ConversationHandler[Context]:
    """The editor and the reason for a rejection, as one persistent conversation."""
    return ConversationHandler(
        entry_points=[
            CallbackQueryHandler(begin_new, pattern=cb.TRN_NEW.pattern),
            CommandHandler("new_training", begin_new, filters=PRIVATE),
            CallbackQueryHandler(ask_reason, pattern=cb.TRN_REJECT.pattern),
        ],
        states={
            TITLE: [MessageHandler(text_step, step_title)],
            DESCRIPTION: [MessageHandler(text_step, step_description)],
            SESSION_START: [
                MessageHandler(text_step, step_session_start),
                *time_input.buttons(step_session_start),
            ],
            SESSION_END: [
                MessageHandler(text_step, step_session_end),
                *time_input.buttons(step_session_end),
            ],
            SESSION_PLACE: [MessageHandler(text_step, step_session_place)],
            MORE: [MessageHandler(text_step, step_more)],
            DEADLINE: [
                MessageHandler(text_step, step_deadline),
                *time_input.buttons(step_deadline),
            ],
            CAPACITY: [MessageHandler(text_step, step_capacity)],
            APPROVAL: [MessageHandler(text_step, step_approval)],
            REQUIRED: [MessageHandler(text_step, step_required)],
            CONFIRM: [MessageHandler(text_step, step_confirm)],
            REASON: [MessageHandler(text_step, receive_reason)],
            ConversationHandler.TIMEOUT: [MessageHandler(filters.ALL, timed_out)],
        },
        fallbacks=fallbacks,
        name=NAME,
        persistent=True,
        conversation_timeout=TIMEOUT,
        allow_reentry=True,
    )
