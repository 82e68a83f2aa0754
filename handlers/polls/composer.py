"""The new-poll conversation: question, options, the settings card, preview, publish.

States and moves: `handlers/polls/composer.mmd`, beside this file. Each state has one function
("stores X, asks Y"); the draft (`storage.poll_drafts.NewPoll`) decides what
each answer or tap does to it, and this module words its refusals. The card's
buttons carry the draft's nonce, so a button of an older draft never acts on
the current one; publishing creates the poll and its outbox rows in one
transaction (`notices.polls.announce`).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from telegram import ReplyKeyboardMarkup, Update
from telegram.ext import ConversationHandler

from core.i18n import N_
from display import broadcasts as audience_display
from display import callbacks as cb
from display import polls as display
from display import time_input as show_time
from handlers import time_input
from handlers.common import (
    cancel_keyboard,
    choice_keyboard,
    explain,
    is_label,
    pressed_args,
    reply,
)
from handlers.menu import main_menu
from handlers.polls.base import alert, edit
from handlers.polls.manage import send_manage_card
from handlers.scope import Context, Scope, registered
from jobs.delivery import wake_after_commit
from notices import polls as notices
from storage import audience_picks, audiences, poll_drafts, polls
from storage.audience_picks import NoRecipients, PickRefused
from storage.audiences import SOURCES
from storage.poll_drafts import NewPoll
from storage.poll_rules import OPTION_MAX, QUESTION_MAX, NotOffered, parse_closing
from storage.profile_rules import InvalidInput

DONE_LABEL = N_("✅ Done")
QUESTION, OPTIONS, SETTINGS, CLOSING = range(4)
DRAFT = "draft_poll"
CONVERSATION_TIMEOUT = 30 * 60


def _draft(context: Context, nonce: int | None = None) -> NewPoll | None:
    """The current draft; None if there is none or the button belongs to another one."""
    draft = (context.user_data or {}).get(DRAFT)
    if not isinstance(draft, NewPoll) or (nonce is not None and draft.nonce != nonce):
        return None
    return draft


async def _stale_draft(update: Update, scope: Scope) -> None:
    await alert(
        update,
        scope._("This draft is no longer active. Start a new poll from 🗳 Polls."),
    )


async def _lost_draft(update: Update, scope: Scope) -> int:
    await reply(update, scope._("Sorry, I lost the draft. Please start again."))
    return ConversationHandler.END


def _typed(update: Update) -> str:
    """The text of the message a text step received."""
    message = update.effective_message
    assert message is not None
    return message.text or ""


def _explain(scope: Scope, error: InvalidInput, limit: int = 0) -> str:
    if error.code in display.POLL_INPUT_ERRORS:
        now = scope.runtime.now()
        return scope._(display.POLL_INPUT_ERRORS[error.code]).format(
            example=display.example_time(now + timedelta(days=3), scope.settings.tz)
        )
    return explain(scope, error, limit)


# The states, in the order the conversation visits them ------------------------------------


@registered
async def start_new(update: Update, context: Context, scope: Scope) -> int:
    """Starts an empty draft, asks for the question."""
    if not await polls.may_create(scope.session, scope.role):
        await alert(
            update,
            scope._(
                "Only union admins can create polls (and cadres, if the admins allow it). To propose a poll, send it with /suggest."
            ),
        )
        return ConversationHandler.END
    if update.callback_query is not None:
        await update.callback_query.answer()
    assert context.user_data is not None
    context.user_data[DRAFT] = NewPoll(nonce=secrets.randbelow(10**9))
    await reply(
        update,
        scope._("New poll. What is the question? (at most {limit} characters)").format(
            limit=QUESTION_MAX
        ),
        reply_markup=cancel_keyboard(scope),
    )
    return QUESTION


@registered
async def receive_question(update: Update, context: Context, scope: Scope) -> int:
    """Stores the question, asks for the options."""
    draft = _draft(context)
    if draft is None:
        return await _lost_draft(update, scope)
    try:
        draft.ask(_typed(update))
    except InvalidInput as error:
        await reply(update, _explain(scope, error, QUESTION_MAX))
        return QUESTION
    await reply(update, display.options_prompt(scope.t, []), reply_markup=cancel_keyboard(scope))
    return OPTIONS


def _options_keyboard(scope: Scope, draft: NewPoll) -> ReplyKeyboardMarkup:
    return choice_keyboard(scope, [scope._(DONE_LABEL)] if draft.enough_options else [])


@registered
async def receive_option(update: Update, context: Context, scope: Scope) -> int:
    """Stores options (one per line), asks for more, or on Done shows the settings card."""
    draft = _draft(context)
    if draft is None:
        return await _lost_draft(update, scope)
    text = _typed(update)
    if is_label(text, DONE_LABEL):
        return await _to_settings(update, scope, draft)
    try:
        draft.add_options(text)
    except InvalidInput as error:
        await reply(
            update,
            _explain(scope, error, OPTION_MAX),
            reply_markup=_options_keyboard(scope, draft),
        )
        return OPTIONS
    if draft.options_done:
        await reply(update, scope._("That makes 10 options, the most a poll can have."))
        return await _to_settings(update, scope, draft)
    await reply(
        update,
        display.options_prompt(scope.t, draft.options),
        reply_markup=_options_keyboard(scope, draft),
    )
    return OPTIONS


async def _to_settings(update: Update, scope: Scope, draft: NewPoll) -> int:
    try:
        draft.finish_options()
    except InvalidInput:
        await reply(update, scope._("A poll needs at least 2 options. Please send another."))
        return OPTIONS
    await reply(update, scope._("Options saved."), reply_markup=cancel_keyboard(scope))
    await _show_card(update, scope, draft, edit_card=False)
    return SETTINGS


@registered
async def draft_setting(update: Update, context: Context, scope: Scope) -> int | None:
    """Stores one setting from the card, asks for the next: the card again, the audience
    picker, a typed closing time, the preview, or (from the preview) publishes."""
    pressed = pressed_args(update, cb.POLL_DRAFT)
    draft = _draft(context, pressed.nonce)
    if draft is None or not draft.has_question:
        await _stale_draft(update, scope)
        return None
    if not await polls.may_create(scope.session, scope.role):
        await alert(
            update,
            scope._(
                "You may no longer create polls: the admins have turned it off. Please ask a union admin to send it."
            ),
        )
        return ConversationHandler.END
    setting = pressed.setting
    if setting == "aud":
        await _show_picker(update, scope, draft)
        return SETTINGS
    if setting == "closet":
        return await _ask_closing(update, scope)
    if setting == "prev":
        return await _preview(update, scope, draft)
    if setting == "pub":
        return await _publish(update, context, scope, draft)
    if setting != "card":  # "card": back to it, unchanged
        try:
            draft.change(setting)
        except NotOffered:
            await _stale_draft(update, scope)
            return None
    await _show_card(update, scope, draft, edit_card=True)
    return SETTINGS


@registered
async def draft_audience(update: Update, context: Context, scope: Scope) -> int | None:
    """Stores one audience pick, shows the picker again."""
    pressed = pressed_args(update, cb.POLL_AUDIENCE)
    draft = _draft(context, pressed.nonce)
    if draft is None or not draft.has_question:
        await _stale_draft(update, scope)
        return None
    try:
        changed = await audience_picks.toggled(
            scope.session, draft.audience, pressed.source, pressed.item, draft.tags
        )
    except PickRefused:
        await _stale_draft(update, scope)
        return None
    draft.choose(changed)
    await _show_picker(update, scope, draft)
    return SETTINGS


async def _ask_closing(update: Update, scope: Scope) -> int:
    assert update.callback_query is not None
    await update.callback_query.answer()
    example = display.example_time(scope.runtime.now() + timedelta(days=3), scope.settings.tz)
    await reply(
        update,
        scope._("Type the closing time, like {example} ({zone} time):").format(
            example=example, zone=scope.settings.timezone
        )
        + "\n"
        + show_time.hint(scope.t),
        reply_markup=cancel_keyboard(scope),
    )
    return CLOSING


@registered
async def receive_closing(update: Update, context: Context, scope: Scope) -> int:
    """Stores a typed closing time, shows the card again."""
    draft = _draft(context)
    if draft is None or not draft.has_question:
        return await _lost_draft(update, scope)
    try:
        closes_at = await time_input.read(
            update,
            context,
            scope,
            lambda text: parse_closing(text, scope.runtime.now(), scope.settings.tz),
            step="poll-closing",
            unreadable=lambda error: (
                isinstance(error, InvalidInput) and error.code == "closing_format"
            ),
        )
    except InvalidInput as error:
        await reply(update, _explain(scope, error))
        return CLOSING
    if closes_at is None:
        return CLOSING
    draft.close_at(closes_at)
    await _show_card(update, scope, draft, edit_card=False)
    return SETTINGS


@registered
async def use_the_card(update: Update, context: Context, scope: Scope) -> int:
    """Text while the card is shown: points back to its buttons."""
    await reply(update, scope._("Please use the buttons on the card above, or tap ✖️ Cancel."))
    return SETTINGS


async def draft_timeout(update: Update, context: Context) -> None:
    if context.user_data is not None:
        context.user_data.pop(DRAFT, None)


@registered
async def preview_button(update: Update, context: Context, scope: Scope) -> None:
    """The option buttons of a preview do nothing but say so."""
    assert update.callback_query is not None
    await update.callback_query.answer(scope._("This is only a preview."))


# The card, the picker, the preview, publishing -----------------------------------------


async def _draft_view(scope: Scope, draft: NewPoll) -> display.DraftView:
    assert draft.question is not None
    audience = draft.audience
    return display.DraftView(
        nonce=draft.nonce,
        question=draft.question,
        options=draft.options,
        multiple=draft.multiple,
        max_choices=draft.max_choices,
        anonymous=draft.anonymous,
        audience=await audiences.describe(scope.session, audience, scope.settings.tz),
        recipients=await audiences.count(scope.session, audience),
        closes_at=draft.closing(scope.runtime.now()),
        closing_hours=draft.closing_hours or None,
        results_visible=draft.results_visible,
        share_results=draft.share_results,
        remind=draft.remind,
    )


async def _show_card(update: Update, scope: Scope, draft: NewPoll, *, edit_card: bool) -> None:
    view = await _draft_view(scope, draft)
    text = display.draft_text(scope.t, view, scope.settings.tz)
    markup = display.draft_keyboard(scope.t, view, scope.settings.tz)
    if edit_card and update.callback_query is not None:
        await update.callback_query.answer()
        await edit(update, text, markup)
    else:
        await reply(update, text, reply_markup=markup)


async def _show_picker(update: Update, scope: Scope, draft: NewPoll) -> None:
    session = scope.session
    sources = [
        (source, await source.choices(session, scope.settings.tz)) for source in SOURCES.ordered()
    ]
    # The tag buttons carry an index into this list: keep it for the next tap.
    draft.tags = await audiences.tags_in_use(session)
    audience = draft.audience
    text = display.audience_text(
        scope.t,
        await audiences.describe(session, audience, scope.settings.tz),
        await audiences.count(session, audience),
    )
    items = audience_display.picker_items(scope.t, audience, sources, draft.tags)
    assert update.callback_query is not None
    await update.callback_query.answer()
    await edit(update, text, display.audience_keyboard(scope.t, draft.nonce, items))


async def _publishable(
    update: Update, scope: Scope, draft: NewPoll, now: datetime
) -> polls.PollDraft | None:
    """The poll to create at ``now``, or None after saying why it cannot go out yet."""
    try:
        return await poll_drafts.publishable(scope.session, draft, now)
    except NoRecipients:
        await alert(update, scope._("Nobody is in that audience. Please choose who may vote."))
    except InvalidInput as error:
        await alert(update, _explain(scope, error))
    return None


async def _preview(update: Update, scope: Scope, draft: NewPoll) -> int:
    sample = await _publishable(update, scope, draft, scope.runtime.now())
    if sample is None:
        return SETTINGS
    view = poll_drafts.preview(sample)
    assert update.callback_query is not None
    await update.callback_query.answer()
    await reply(
        update,
        display.poll_text(scope.t, view, scope.settings.tz, 0),
        reply_markup=display.poll_keyboard(scope.t, view, 0, preview=True),
    )
    recipients = await audiences.count(scope.session, sample.audience)
    await reply(
        update,
        display.preview_note(scope.t, recipients, anonymous=sample.anonymous),
        reply_markup=display.preview_keyboard(scope.t, draft.nonce),
    )
    return SETTINGS


async def _publish(update: Update, context: Context, scope: Scope, draft: NewPoll) -> int:
    now = scope.runtime.now()
    poll = await _publishable(update, scope, draft, now)
    if poll is None:
        return SETTINGS
    assert scope.member is not None and update.callback_query is not None
    view = await polls.create(scope.session, poll, creator_id=scope.member.id, now=now)
    sent = await notices.announce(scope.session, view, now=now, zone=scope.settings.tz)
    wake_after_commit(scope.session, context)
    assert context.user_data is not None
    context.user_data.pop(DRAFT, None)
    await update.callback_query.answer()
    await edit(
        update,
        scope._("✅ Published: the poll is on its way to {count} members.").format(count=sent),
        None,
    )
    await reply(update, scope._("Done."), reply_markup=main_menu(scope))
    await send_manage_card(update, scope, view)
    return ConversationHandler.END
