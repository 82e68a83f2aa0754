"""The activity editor: a cadre creates an activity step by step, or changes one field.

The `activity_editor` conversation, drawn in ``activity_editor.mmd`` beside
this module, with one function per state whose docstring says what it stores
and what it asks next (as python-telegram-bot's ``conversationbot`` example).
The answers are a `storage.activities.ActivityDraft`, kept between steps; the
draft and the service decide whether an answer holds (a start in the past,
fewer seats than are taken) and a step only words their refusal and asks again.

Creating asks every field in turn, then shows a summary and the publish
choice. Editing (a ✏️ button on the cadre panel) asks only that field (the
time: start, end and deadline), saves it and tells whoever must know.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from core.i18n import N_
from display import activities as show
from display import callbacks as cb
from display import time_input as show_time
from display.broadcasts import EVERYONE, TAG, describe_audience, picker_items
from handlers import time_input
from handlers.activities.cadre import publish_now
from handlers.activities.states import (
    AUDIENCE,
    CAPACITY,
    CONFIRM,
    DEADLINE,
    DESCRIPTION,
    END,
    GUESTS,
    PHOTO,
    PLACE,
    START,
    TITLE,
)
from handlers.activities.views import render_manage
from handlers.common import (
    PRIVATE,
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
from handlers.enrolment_common import (
    PUBLISH_ANNOUNCE_LABEL,
    SAVE_DRAFT_LABEL,
    UNLIMITED_LABEL,
    UNTIL_START_LABEL,
    answer,
    confirm_choice,
    confirm_keyboard,
    created_text,
    delivering,
    drop,
    keep,
    lost_answers,
    now_of,
    read_capacity,
    read_deadline,
    read_description,
    read_moment,
    read_title,
    refuse_schedule,
    text_of,
)
from handlers.menu import main_menu
from handlers.scope import Context, Scope, cadre_only, scoped
from notices import activities as tell
from storage import activities, audiences
from storage import enrolment_rules as rules
from storage.activities import ActivityDraft, EditField
from storage.audiences import Audience
from storage.enrolment_rules import ScheduleRefused
from storage.members import NotFound
from storage.offerings import Incomplete, Refused
from storage.profile_rules import InvalidInput

log = logging.getLogger(__name__)

NAME = "activity_editor"
DRAFT = "draft_activity"
TIMEOUT = 30 * 60
PICKER_SOURCES = ("dept", "group")

GUESTS_YES_LABEL = N_("👥 Yes, +1 allowed")
GUESTS_NO_LABEL = N_("🚶 No guests")

# The question an ✏️ button asks first.
FIRST_STEP: dict[EditField, int] = {
    EditField.TITLE: TITLE,
    EditField.DESCRIPTION: DESCRIPTION,
    EditField.PHOTO: PHOTO,
    EditField.PLACE: PLACE,
    EditField.TIME: START,
    EditField.CAPACITY: CAPACITY,
    EditField.GUESTS: GUESTS,
    EditField.AUDIENCE: AUDIENCE,
}


def _draft(context: Context) -> ActivityDraft:
    """The answers so far; a fresh draft when none is kept (as when creating)."""
    draft = draft_of(context, DRAFT, ActivityDraft)
    if draft is None:
        draft = ActivityDraft()
        keep(context, DRAFT, draft)
    return draft


async def _ask(update: Update, scope: Scope, step: int, draft: ActivityDraft) -> int:
    """Ask for ``step`` and return it as the conversation's next state."""
    if step == AUDIENCE:
        # The picker is inline: first swap the reply keyboard (the guest choices,
        # or whatever the step before offered) for Cancel alone.
        await reply(
            update,
            scope._("Noted. Now choose who it is for:"),
            reply_markup=cancel_keyboard(scope),
        )
        await _render_picker(update, scope, draft, fresh=True)
        return AUDIENCE
    t = scope.t
    prompts: dict[int, tuple[str, Any]] = {
        TITLE: (
            t.gettext("What is the activity called? (at most 100 characters)"),
            cancel_keyboard(scope),
        ),
        DESCRIPTION: (
            t.gettext("Describe it: what it is, who it is for, what to bring. Or tap Skip."),
            choice_keyboard(scope, [], skip=True),
        ),
        PHOTO: (
            t.gettext("Send a photo or poster for it, or tap Skip.")
            if not draft.editing
            else t.gettext("Send the new photo, or tap Skip to remove the photo."),
            choice_keyboard(scope, [], skip=True),
        ),
        PLACE: (t.gettext("Where does it take place?"), cancel_keyboard(scope)),
        START: (
            t.gettext("When does it start? Write the date and time, like {example}.").format(
                example=show.example_time(now_of(scope), scope.settings.tz)
            )
            + "\n"
            + show_time.hint(t),
            cancel_keyboard(scope),
        ),
        END: (
            t.gettext("When does it end? A time like 16:00 on the same day, or a date and time."),
            cancel_keyboard(scope),
        ),
        DEADLINE: (
            t.gettext("Until when can members sign up? A date and time, or tap the button."),
            choice_keyboard(scope, [t.gettext(UNTIL_START_LABEL)]),
        ),
        CAPACITY: (
            t.gettext("How many seats are there? Send a number, or tap the button."),
            choice_keyboard(scope, [t.gettext(UNLIMITED_LABEL)]),
        ),
        GUESTS: (
            t.gettext("May members bring a guest (+1)?"),
            choice_keyboard(scope, [t.gettext(GUESTS_YES_LABEL), t.gettext(GUESTS_NO_LABEL)]),
        ),
    }
    text, markup = prompts[step]
    await reply(update, text, reply_markup=markup)
    return step


async def _next(update: Update, context: Context, scope: Scope, step: int) -> int:
    """After a field: the next question when creating, or save when editing one field."""
    draft = _draft(context)
    if draft.editing:
        return await _finish_edit(update, context, scope, draft)
    return await _ask(update, scope, step, draft)


# Entry points ---------------------------------------------------------------------------------


@cadre_only
async def begin_new(update: Update, context: Context, scope: Scope) -> int:
    """Starts an empty draft, asks for the title."""
    await answer(update)
    draft = ActivityDraft()
    keep(context, DRAFT, draft)
    await reply(update, scope._("Let's create an activity. You can stop any time with ✖️ Cancel."))
    return await _ask(update, scope, TITLE, draft)


@cadre_only
async def begin_edit(update: Update, context: Context, scope: Scope) -> int:
    """Starts a draft for one field of the activity (if it may change), asks for that field."""
    pressed = pressed_args(update, cb.ACT_EDIT)
    try:
        draft = await activities.start_edit(scope.session, pressed.activity, pressed.field)
    except (Refused, NotFound):
        await answer(update, scope._("This button is no longer valid."), True)
        return ConversationHandler.END
    assert draft.edited is not None
    await answer(update)
    keep(context, DRAFT, draft)
    return await _ask(update, scope, FIRST_STEP[draft.edited], draft)


async def _finish_edit(update: Update, context: Context, scope: Scope, draft: ActivityDraft) -> int:
    """Save the one edited field, tell whoever must know, show the panel again."""
    now = now_of(scope)
    zone = scope.settings.tz
    try:
        edited = await activities.apply_edit(scope.session, draft, now)
    except ScheduleRefused as refused:
        await refuse_schedule(update, scope, refused)
        return await _ask(update, scope, START, draft)
    except Incomplete:
        return await lost_answers(update, context, scope, DRAFT)
    except Refused as refused:
        assert draft.activity is not None
        activity = await activities.get(scope.session, draft.activity)
        text = show.refusal(scope.t, zone, refused.reason, activity)
        if refused.reason == "below_taken":
            await reply(update, text)
            return CAPACITY
        drop(context, DRAFT)  # cancelled meanwhile: nothing more to change
        await reply(update, text, reply_markup=main_menu(scope))
        return ConversationHandler.END
    if edited.moved_from is not None:
        told = await tell.tell_moved(
            scope.session, edited.activity, edited.moved_from, zone=zone, now=now
        )
        delivering(scope, context, told)
        await reply(
            update, scope._("New time saved. {count} members are being told.").format(count=told)
        )
    if edited.promoted:
        told = await tell.tell_promoted(
            scope.session, edited.activity, edited.promoted, zone=zone, now=now
        )
        delivering(scope, context, told)
        await reply(
            update,
            scope._("{count} members moved up from the waitlist and are being told.").format(
                count=len(edited.promoted)
            ),
        )
    drop(context, DRAFT)
    await reply(update, scope._("Saved."), reply_markup=main_menu(scope))
    await render_manage(update, context, scope, edited.activity.id)
    return ConversationHandler.END


# One function per state ---------------------------------------------------------------------------


@cadre_only
async def step_title(update: Update, context: Context, scope: Scope) -> int:
    """Stores the title, asks for a description."""
    if not await read_title(update, scope, _draft(context)):
        return TITLE
    return await _next(update, context, scope, DESCRIPTION)


@cadre_only
async def step_description(update: Update, context: Context, scope: Scope) -> int:
    """Stores the description (Skip: none), asks for a photo."""
    if not await read_description(update, scope, _draft(context)):
        return DESCRIPTION
    return await _next(update, context, scope, PHOTO)


@cadre_only
async def step_photo(update: Update, context: Context, scope: Scope) -> int:
    """Stores the photo (Skip: none), asks where it takes place."""
    message = update.effective_message
    assert message is not None
    if message.photo:
        _draft(context).photo_file_id = message.photo[-1].file_id
    elif is_label(message.text or "", SKIP_LABEL):
        _draft(context).photo_file_id = None
    else:
        await reply(update, scope._("Please send a photo, or tap Skip."))
        return PHOTO
    return await _next(update, context, scope, PLACE)


@cadre_only
async def step_place(update: Update, context: Context, scope: Scope) -> int:
    """Stores the place, asks when it starts."""
    try:
        _draft(context).place = rules.clean_title(text_of(update), rules.PLACE_MAX)
    except InvalidInput as error:
        await reply(update, explain(scope, error, rules.PLACE_MAX))
        return PLACE
    return await _next(update, context, scope, START)


@cadre_only
async def step_start(update: Update, context: Context, scope: Scope) -> int:
    """Stores the start (if still ahead), asks when it ends."""
    draft = _draft(context)
    start = await read_moment(update, context, scope, step="activity-start")
    if start is None:
        return START
    try:
        draft.set_start(start, now_of(scope))
    except ScheduleRefused as refused:
        await refuse_schedule(update, scope, refused)
        return START
    return await _ask(update, scope, END, draft)


@cadre_only
async def step_end(update: Update, context: Context, scope: Scope) -> int:
    """Stores the end (after the start), asks until when members may sign up."""
    draft = _draft(context)
    if draft.starts_at is None:
        return await lost_answers(update, context, scope, DRAFT)
    end = await read_moment(
        update, context, scope, day=draft.starts_at, base=draft.starts_at, step="activity-end"
    )
    if end is None:
        return END
    try:
        draft.set_end(end)
    except ScheduleRefused as refused:
        await refuse_schedule(update, scope, refused)
        return END
    return await _ask(update, scope, DEADLINE, draft)


@cadre_only
async def step_deadline(update: Update, context: Context, scope: Scope) -> int:
    """Stores the sign-up deadline, asks for the seats (editing the time: saves it)."""
    draft = _draft(context)
    if draft.starts_at is None:
        return await lost_answers(update, context, scope, DRAFT)
    deadline = await read_deadline(
        update, context, scope, draft.starts_at, step="activity-deadline"
    )
    if deadline is None:
        return DEADLINE
    try:
        draft.set_deadline(deadline, now_of(scope))
    except ScheduleRefused as refused:
        await refuse_schedule(update, scope, refused)
        return DEADLINE
    except Incomplete:
        return await lost_answers(update, context, scope, DRAFT)
    if draft.editing:
        return await _finish_edit(update, context, scope, draft)
    return await _ask(update, scope, CAPACITY, draft)


@cadre_only
async def step_capacity(update: Update, context: Context, scope: Scope) -> int:
    """Stores the seats (or unlimited), asks whether a guest may come along."""
    if not await read_capacity(update, scope, _draft(context)):
        return CAPACITY
    return await _next(update, context, scope, GUESTS)


@cadre_only
async def step_guests(update: Update, context: Context, scope: Scope) -> int:
    """Stores whether guests may come, asks who it is for."""
    text = text_of(update)
    if is_label(text, GUESTS_YES_LABEL):
        _draft(context).guests_allowed = True
    elif is_label(text, GUESTS_NO_LABEL):
        _draft(context).guests_allowed = False
    else:
        await reply(update, scope._("Please tap one of the buttons."))
        return GUESTS
    return await _next(update, context, scope, AUDIENCE)


# The audience picker (inline buttons while composing) -----------------------------------------------


async def _picker(scope: Scope, draft: ActivityDraft) -> tuple[str, InlineKeyboardMarkup]:
    audience = Audience.from_json(draft.audience)
    sources = [
        (source, await source.choices(scope.session, scope.settings.tz))
        for source in audiences.SOURCES.ordered()
        if source.key in PICKER_SOURCES
    ]
    draft.tags = await audiences.tags_in_use(scope.session)  # the tag buttons carry an index
    items = picker_items(scope.t, audience, sources, draft.tags)
    described = describe_audience(
        scope.t, await audiences.describe(scope.session, audience, scope.settings.tz)
    )
    count = await audiences.count(scope.session, audience)
    return show.audience_picker(scope.t, items, described, count)


async def _render_picker(
    update: Update, scope: Scope, draft: ActivityDraft, *, fresh: bool
) -> None:
    text, markup = await _picker(scope, draft)
    if fresh:
        await reply(update, text, reply_markup=markup)
    else:
        await show_panel(update, text, markup)


@cadre_only
async def toggle_audience(update: Update, context: Context, scope: Scope) -> int:
    """Stores one group chosen or dropped, asks again (the picker redrawn)."""
    pressed = pressed_args(update, cb.ACT_AUDIENCE)
    draft = _draft(context)
    audience = Audience.from_json(draft.audience)
    if pressed.source == EVERYONE:
        audience = audience.toggle_everyone()
    elif pressed.source == TAG:
        if not 0 <= pressed.item < len(draft.tags):
            await answer(update, scope._("This button is no longer valid."), True)
            return AUDIENCE
        audience = audience.toggle_tag(draft.tags[pressed.item])
    elif pressed.source in PICKER_SOURCES:
        audience = audience.toggle_item(pressed.source, pressed.item)
    else:
        await answer(update, scope._("This button is no longer valid."), True)
        return AUDIENCE
    draft.audience = audience.to_json()
    await answer(update)
    await _render_picker(update, scope, draft, fresh=False)
    return AUDIENCE


@cadre_only
async def audience_done(update: Update, context: Context, scope: Scope) -> int:
    """Keeps the audience (at least one group), shows the summary (editing: saves it)."""
    draft = _draft(context)
    if Audience.from_json(draft.audience).empty:
        await answer(update, scope._("Choose at least one group, or Everyone."), True)
        return AUDIENCE
    await answer(update)
    if draft.editing:
        return await _finish_edit(update, context, scope, draft)
    return await _confirm(update, context, scope, draft)


# Confirm and save -------------------------------------------------------------------------------------


async def _confirm(update: Update, context: Context, scope: Scope, draft: ActivityDraft) -> int:
    try:
        value = draft.value()
    except Incomplete:
        return await lost_answers(update, context, scope, DRAFT)
    described = describe_audience(
        scope.t, await audiences.describe(scope.session, value.audience, scope.settings.tz)
    )
    await reply(
        update,
        show.draft_summary(scope.t, scope.settings.tz, value, described),
        reply_markup=confirm_keyboard(scope),
    )
    return CONFIRM


@cadre_only
async def step_confirm(update: Update, context: Context, scope: Scope) -> int:
    """Saves the activity (published, announced, or as a draft), shows its panel."""
    draft = _draft(context)
    choice = await confirm_choice(update, scope)
    if choice is None:
        return CONFIRM
    now = now_of(scope)
    try:
        activity = await activities.create(
            scope.session,
            draft.value(),
            created_by=scope.member.id if scope.member else None,
            now=now,
        )
    except Incomplete:
        return await lost_answers(update, context, scope, DRAFT)
    except ScheduleRefused as refused:  # time passed while the cadre checked the summary
        await refuse_schedule(update, scope, refused)
        return await _ask(update, scope, START, draft)
    drop(context, DRAFT)
    sent = 0
    if choice != SAVE_DRAFT_LABEL:
        _, sent = await publish_now(context, scope, activity.id, choice == PUBLISH_ANNOUNCE_LABEL)
    log.info("activity %d created by a cadre", activity.id)
    await reply(update, created_text(scope, choice, sent), reply_markup=main_menu(scope))
    await render_manage(update, context, scope, activity.id)
    return ConversationHandler.END


@scoped
async def timed_out(update: Update, context: Context, scope: Scope) -> None:
    drop(context, DRAFT)


def conversation(
    text_step: filters.BaseFilter, fallbacks: list[BaseHandler[Update, Context, object]]
) -> ConversationHandler[Context]:
    """The editor as one persistent conversation (entered by ➕, /new_activity or ✏️)."""
    return ConversationHandler(
        entry_points=[
            CallbackQueryHandler(begin_new, pattern=cb.ACT_NEW.pattern),
            CommandHandler("new_activity", begin_new, filters=PRIVATE),
            CallbackQueryHandler(begin_edit, pattern=cb.ACT_EDIT.pattern),
        ],
        states={
            TITLE: [MessageHandler(text_step, step_title)],
            DESCRIPTION: [MessageHandler(text_step, step_description)],
            PHOTO: [MessageHandler((filters.PHOTO & PRIVATE) | text_step, step_photo)],
            PLACE: [MessageHandler(text_step, step_place)],
            START: [MessageHandler(text_step, step_start), *time_input.buttons(step_start)],
            END: [MessageHandler(text_step, step_end), *time_input.buttons(step_end)],
            DEADLINE: [
                MessageHandler(text_step, step_deadline),
                *time_input.buttons(step_deadline),
            ],
            CAPACITY: [MessageHandler(text_step, step_capacity)],
            GUESTS: [MessageHandler(text_step, step_guests)],
            AUDIENCE: [
                CallbackQueryHandler(toggle_audience, pattern=cb.ACT_AUDIENCE.pattern),
                CallbackQueryHandler(audience_done, pattern=cb.ACT_AUDIENCE_DONE.pattern),
            ],
            CONFIRM: [MessageHandler(text_step, step_confirm)],
            ConversationHandler.TIMEOUT: [MessageHandler(filters.ALL, timed_out)],
        },
        fallbacks=fallbacks,
        name=NAME,
        persistent=True,
        conversation_timeout=TIMEOUT,
        allow_reentry=True,
    )
