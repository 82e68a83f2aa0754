"""🎉 Greetings for admins: occasions on and off, texts, preview, audience, own dates.

Reached from the admin panel's "🎉 Greetings" button or `/greetings`. Every
handler is admin-only and re-reads the occasion named by the button, so a
stale or forged press on a deleted date only gets "no longer exists". The
sending itself is `jobs.greetings`, scheduled by `bot.app` (JOBS).

The typed-input conversation's states are drawn in `greetings_input.mmd` beside this module.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
)

from core import drafts
from core.i18n import N_
from core.runtime import CommandSpec, runtime_of
from core.settings import SUPPORTED_LANGUAGES
from display import callbacks as cb
from display import greetings as display
from display.greeting_text import greeting_text, in_force
from handlers.common import (
    CANCEL_LABEL,
    OTHER_INPUT,
    PRIVATE,
    TEXT_INPUT,
    ask_for_text,
    cancel_handlers,
    cancel_keyboard,
    choice_keyboard,
    drop_draft,
    explain,
    is_label,
    keep_draft,
    pressed_args,
    reply,
    show_panel,
    text_of,
)
from handlers.menu import button_filter, main_menu
from handlers.scope import Context, Scope, admin_only
from storage import greetings, occasions
from storage.greetings import Occasion, TemplateError
from storage.members import Conflict, NotFound
from storage.profile_rules import TAG_MAX, InvalidInput

log = logging.getLogger(__name__)

TEXT = 0
DRAFT = "draft_greetings"
CONVERSATION_TIMEOUT = 30 * 60
PREVIEW_NAME = N_("Wang Xiaoming")

DATE_ERRORS: dict[str, str] = {
    "month_day": N_("I could not read that day. Please write it like 10-18 or 10月18日."),
    "no_such_date": N_("That day does not exist. Please check the month and day."),
}


# What the one typed-input step is waiting for (kept under DRAFT between messages).


@drafts.draft("greeting-text")
@dataclass
class TextDraft:
    """An occasion's text in one language."""

    code: str
    language: str


@drafts.draft("greeting-audience")
@dataclass
class AudienceDraft:
    """The tag an occasion's greeting is limited to."""

    code: str


@drafts.draft("greeting-date-name")
@dataclass
class NameDraft:
    """The name of a new date of the union's own."""


@drafts.draft("greeting-date-day")
@dataclass
class DayDraft:
    """The day of the year of the new date ``name``."""

    name: str


def _today(scope: Scope) -> date:
    return scope.runtime.now().astimezone(scope.settings.tz).date()


async def _show(
    update: Update, text: str, markup: InlineKeyboardMarkup, *, answered: bool = False
) -> None:
    """Edit the panel in place when a button was pressed, else send it.

    ``answered``: the press already got its answer (an alert); Telegram takes one only.
    """
    if update.callback_query is not None and not answered:
        await update.callback_query.answer()
    await show_panel(update, text, markup)


async def _stale(update: Update, scope: Scope) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer(
            scope._("That no longer exists. The list has been refreshed."), show_alert=True
        )


# Home and the next 30 days ------------------------------------------------------


async def _render_home(update: Update, scope: Scope, *, answered: bool = False) -> None:
    today = _today(scope)
    found = await greetings.list_occasions(scope.session)
    customs = greetings.custom_dates(found)
    listed = [(o, occasions.next_occurrence(o.code, today, customs)) for o in found]
    # Birthdays first (every day), then by the next date.
    listed.sort(key=lambda pair: (not pair[0].is_birthday, pair[1].day if pair[1] else date.max))
    soon = await greetings.upcoming(scope.session, today)
    await _show(
        update,
        display.home_text(scope.t, soon, scope.settings.greeting_hour, scope.settings.timezone),
        display.home_keyboard(scope.t, listed),
        answered=answered,
    )


@admin_only
async def home(update: Update, context: Context, scope: Scope) -> None:
    await _render_home(update, scope)


@admin_only
async def upcoming(update: Update, context: Context, scope: Scope) -> None:
    today = _today(scope)
    items = await greetings.upcoming(scope.session, today)
    await _show(
        update, display.upcoming_text(scope.t, today, items), display.upcoming_keyboard(scope.t)
    )


# One occasion -------------------------------------------------------------------


async def _render_card(
    update: Update, scope: Scope, occasion: Occasion, *, fresh: bool = False
) -> None:
    today = _today(scope)
    customs = greetings.custom_dates(await greetings.list_occasions(scope.session))
    next_day = occasions.next_occurrence(occasion.code, today, customs)
    own = await greetings.own_templates(scope.session, occasion.code)
    texts = in_force(occasion, own)
    day = None if occasion.is_birthday else next_day.day if next_day else today
    recipients = await greetings.count_recipients(scope.session, occasion, day)
    text = display.card_text(scope.t, occasion, next_day, texts, set(own), recipients)
    markup = display.card_keyboard(scope.t, occasion, bool(own))
    if fresh:
        await reply(update, text, reply_markup=markup)
    else:
        await _show(update, text, markup)


async def _occasion(update: Update, scope: Scope, code: str) -> Occasion | None:
    try:
        return await greetings.get_occasion(scope.session, code)
    except NotFound:
        await _stale(update, scope)
        await _render_home(update, scope, answered=True)
        return None


@admin_only
async def card(update: Update, context: Context, scope: Scope) -> None:
    occasion = await _occasion(update, scope, pressed_args(update, cb.GREET_OCCASION).code)
    if occasion is not None:
        await _render_card(update, scope, occasion)


@admin_only
async def toggle(update: Update, context: Context, scope: Scope) -> None:
    pressed = pressed_args(update, cb.GREET_TOGGLE)
    occasion = await _occasion(update, scope, pressed.code)
    if occasion is None:
        return
    occasion = await greetings.set_enabled(scope.session, occasion.code, not occasion.enabled)
    log.info(
        "greeting %s switched %s by an admin", occasion.code, "on" if occasion.enabled else "off"
    )
    if pressed.to_card:
        await _render_card(update, scope, occasion)
    else:
        await _render_home(update, scope)


@admin_only
async def preview(update: Update, context: Context, scope: Scope) -> None:
    occasion = await _occasion(update, scope, pressed_args(update, cb.GREET_PREVIEW).code)
    if occasion is None:
        return
    assert update.callback_query is not None
    await update.callback_query.answer()
    today = _today(scope)
    customs = greetings.custom_dates(await greetings.list_occasions(scope.session))
    next_day = occasions.next_occurrence(occasion.code, today, customs)
    day = next_day.day if next_day is not None else today
    name = scope.member.name if scope.member is not None else scope._(PREVIEW_NAME)
    texts = in_force(occasion, await greetings.own_templates(scope.session, occasion.code))
    await reply(update, display.preview_intro(scope.t, occasion, name, day))
    for language in SUPPORTED_LANGUAGES:
        greeting = greeting_text(occasion, texts, language, name, day)
        await reply(update, display.preview_version(scope.t, language, greeting))
    # The card again below the preview, so the admin goes on where they are looking.
    await _render_card(update, scope, occasion, fresh=True)


@admin_only
async def reset(update: Update, context: Context, scope: Scope) -> None:
    occasion = await _occasion(update, scope, pressed_args(update, cb.GREET_RESET).code)
    if occasion is None:
        return
    await greetings.reset_templates(scope.session, occasion.code)
    await _render_card(update, scope, occasion)


@admin_only
async def delete(update: Update, context: Context, scope: Scope) -> None:
    occasion = await _occasion(update, scope, pressed_args(update, cb.GREET_DELETE).code)
    if occasion is None:
        return
    if not occasion.custom:
        await _render_card(update, scope, occasion)
        return
    await _show(
        update,
        display.delete_confirm_text(scope.t, occasion),
        display.delete_confirm_keyboard(scope.t, occasion),
    )


@admin_only
async def delete_confirmed(update: Update, context: Context, scope: Scope) -> None:
    code = pressed_args(update, cb.GREET_DELETE_CONFIRM).code
    try:
        await greetings.delete_custom(scope.session, code)
    except NotFound:
        await _stale(update, scope)
        await _render_home(update, scope, answered=True)
        return
    await _render_home(update, scope)


# Typed input: a text, an audience, a new date -----------------------------------


@admin_only
async def ask_input(update: Update, context: Context, scope: Scope) -> int:
    query = update.callback_query
    assert query is not None
    data = query.data or ""
    if cb.GREET_ADD.pattern.match(data):
        keep_draft(context, DRAFT, NameDraft())
        await query.answer()
        await reply(
            update,
            scope._("Send the name of the date, for example: the union's founding day"),
            reply_markup=cancel_keyboard(scope),
        )
        return TEXT
    if cb.GREET_EDIT.pattern.match(data):
        edit = cb.GREET_EDIT.unpack(data)
        code, language = edit.code, edit.language
        occasion = await _occasion(update, scope, code)
        if occasion is None:
            return ConversationHandler.END
        if language not in SUPPORTED_LANGUAGES:
            await query.answer(scope._("This button is no longer valid."), show_alert=True)
            return ConversationHandler.END
        texts = in_force(occasion, await greetings.own_templates(scope.session, code))
        keep_draft(context, DRAFT, TextDraft(code, language))
        await query.answer()
        await reply(
            update,
            display.edit_prompt(scope.t, occasion, language, texts[language]),
            reply_markup=cancel_keyboard(scope),
        )
        return TEXT
    if cb.GREET_AUDIENCE.pattern.match(data):
        occasion = await _occasion(update, scope, cb.GREET_AUDIENCE.unpack(data).code)
        if occasion is None:
            return ConversationHandler.END
        tags = await greetings.known_tags(scope.session)
        keep_draft(context, DRAFT, AudienceDraft(occasion.code))
        await query.answer()
        await reply(
            update,
            display.audience_prompt(scope.t, occasion),
            reply_markup=choice_keyboard(scope, [scope._(display.ALL_MEMBERS_LABEL), *tags]),
        )
        return TEXT
    await query.answer(scope._("This button is no longer valid."), show_alert=True)
    return ConversationHandler.END


@admin_only
async def receive_input(update: Update, context: Context, scope: Scope) -> int:
    draft = (context.user_data or {}).get(DRAFT)
    text = text_of(update)
    if isinstance(draft, TextDraft):
        step = await _save_text(update, scope, text, draft)
    elif isinstance(draft, AudienceDraft):
        step = await _save_audience(update, scope, text, draft)
    elif isinstance(draft, NameDraft):
        step = await _save_name(update, context, scope, text)
    elif isinstance(draft, DayDraft):
        step = await _save_date(update, scope, text, draft)
    else:  # none, or one an older version kept
        return ConversationHandler.END
    if step == ConversationHandler.END:
        drop_draft(context, DRAFT)
    return step


async def _done(update: Update, scope: Scope, occasion: Occasion) -> int:
    await reply(update, scope._("Saved."), reply_markup=main_menu(scope))
    await _render_card(update, scope, occasion, fresh=True)
    return ConversationHandler.END


async def _gone(update: Update, scope: Scope) -> int:
    await reply(
        update,
        scope._("That date no longer exists. Nothing was saved."),
        reply_markup=main_menu(scope),
    )
    return ConversationHandler.END


async def _save_text(update: Update, scope: Scope, text: str, draft: TextDraft) -> int:
    try:
        await greetings.set_template(scope.session, draft.code, draft.language, text)
        occasion = await greetings.get_occasion(scope.session, draft.code)
    except TemplateError as error:
        await reply(update, display.template_error(scope.t, error))
        return TEXT
    except NotFound:
        return await _gone(update, scope)
    return await _done(update, scope, occasion)


async def _save_audience(update: Update, scope: Scope, text: str, draft: AudienceDraft) -> int:
    everyone = is_label(text, display.ALL_MEMBERS_LABEL) or text.strip() == "-"
    try:
        occasion = await greetings.set_audience(
            scope.session, draft.code, None if everyone else text
        )
    except InvalidInput as error:
        await reply(update, explain(scope, error, TAG_MAX))
        return TEXT
    except NotFound:
        return await _gone(update, scope)
    return await _done(update, scope, occasion)


async def _save_name(update: Update, context: Context, scope: Scope, text: str) -> int:
    try:
        name = await greetings.new_occasion_name(scope.session, text)
    except InvalidInput as error:
        await reply(update, explain(scope, error, greetings.CUSTOM_NAME_MAX))
        return TEXT
    except Conflict:
        await reply(
            update, scope._("There is already a date with that name. Please choose another.")
        )
        return TEXT
    keep_draft(context, DRAFT, DayDraft(name))
    await reply(
        update,
        scope._("On which day of the year is {name}? Write it like 10-18 or 10月18日.").format(
            name=escape(name)
        ),
    )
    return TEXT


async def _save_date(update: Update, scope: Scope, text: str, draft: DayDraft) -> int:
    try:
        month, day = greetings.parse_month_day(text)
    except InvalidInput as error:
        await reply(update, scope._(DATE_ERRORS[error.code]))
        return TEXT
    try:
        occasion = await greetings.add_custom(scope.session, draft.name, month, day)
    except Conflict:
        await reply(
            update,
            scope._("There is already a date with that name. Nothing was saved."),
            reply_markup=main_menu(scope),
        )
        return ConversationHandler.END
    log.info("custom greeting date added by an admin")
    return await _done(update, scope, occasion)


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    runtime = runtime_of(application)
    runtime.add_command(
        CommandSpec(
            "greetings",
            N_("Holiday and birthday greetings"),
            frozenset({"admin"}),
            110,
        )
    )
    application.add_handler(CommandHandler("greetings", home, filters=PRIVATE))
    for action, callback in (
        (cb.GREET_HOME, home),
        (cb.GREET_UPCOMING, upcoming),
        (cb.GREET_OCCASION, card),
        (cb.GREET_TOGGLE, toggle),
        (cb.GREET_PREVIEW, preview),
        (cb.GREET_RESET, reset),
        (cb.GREET_DELETE, delete),
        (cb.GREET_DELETE_CONFIRM, delete_confirmed),
    ):
        application.add_handler(CallbackQueryHandler(callback, pattern=action.pattern))
    application.add_handler(
        ConversationHandler(
            entry_points=[
                CallbackQueryHandler(ask_input, pattern=action.pattern)
                for action in (cb.GREET_ADD, cb.GREET_EDIT, cb.GREET_AUDIENCE)
            ],
            states={
                TEXT: [MessageHandler(TEXT_INPUT & ~button_filter(CANCEL_LABEL), receive_input)],
            },
            fallbacks=[*cancel_handlers(), MessageHandler(OTHER_INPUT, ask_for_text)],
            name="greetings_input",
            persistent=True,
            conversation_timeout=CONVERSATION_TIMEOUT,
            allow_reentry=True,
        )
    )
