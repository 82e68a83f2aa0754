"""Telegram-side steps that activities and trainings share.

Both features show a panel by editing the pressed message, answer button
presses, ask a cadre the same questions in their guided editors (title,
description, times, capacity, the publish choice) and report publishing the
same way. Keeping each of these in one place means the two editors cannot
drift apart: a fix to how a time is read or a capacity is checked reaches both.
The feature modules keep their own questions, states and notices.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from telegram import ReplyKeyboardMarkup, Update
from telegram.ext import ConversationHandler

from core.i18n import N_
from display import activities as show
from handlers.common import (
    SKIP_LABEL,
    choice_keyboard,
    explain,
    is_label,
    reply,
)
from handlers.menu import main_menu
from handlers.scope import Context, Scope
from storage import enrolment_rules as rules
from storage.profile_rules import InvalidInput

UNLIMITED_LABEL = N_("♾ Unlimited")
UNTIL_START_LABEL = N_("⏱ Until the start")
PUBLISH_ANNOUNCE_LABEL = N_("📣 Publish and announce")
PUBLISH_QUIET_LABEL = N_("✅ Publish quietly")
SAVE_DRAFT_LABEL = N_("📝 Save as draft")
CONFIRM_CHOICES = (PUBLISH_ANNOUNCE_LABEL, PUBLISH_QUIET_LABEL, SAVE_DRAFT_LABEL)


def now_of(scope: Scope) -> datetime:
    """The runtime's clock (tests move a fake one), never the wall clock."""
    return scope.runtime.now()


async def answer(update: Update, text: str | None = None, alert: bool = False) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=alert)


# The guided editors ----------------------------------------------------------------------


def draft_of(context: Context, key: str) -> dict[str, Any]:
    """The editor's answers so far, kept in ``user_data[key]`` between steps."""
    assert context.user_data is not None
    return context.user_data.setdefault(key, {})  # type: ignore[no-any-return]


def text_of(update: Update) -> str:
    message = update.effective_message
    return (message.text or "") if message is not None else ""


def schedule_error(scope: Scope, code: str) -> str:
    return scope._(show.SCHEDULE_ERRORS.get(code, show.TIME_INPUT_ERRORS["format"])).format(
        example=show.example_time(now_of(scope), scope.settings.tz)
    )


def read_time(scope: Scope, text: str, day: datetime | None = None) -> datetime:
    zone = scope.settings.tz
    today = now_of(scope).astimezone(zone).date()
    local_day = day.astimezone(zone).date() if day is not None else None
    return rules.to_utc(rules.parse_local_datetime(text, today, day=local_day), zone)


async def time_error(update: Update, scope: Scope, error: InvalidInput) -> None:
    await reply(
        update,
        scope._(show.TIME_INPUT_ERRORS.get(error.code, show.TIME_INPUT_ERRORS["format"])).format(
            example=show.example_time(now_of(scope), scope.settings.tz)
        ),
    )


async def read_title(update: Update, scope: Scope, draft: dict[str, Any]) -> bool:
    """Store a clean title in ``draft``; False (the cadre is told why) when it will not do."""
    try:
        draft["title"] = rules.clean_title(text_of(update))
    except InvalidInput as error:
        await reply(update, explain(scope, error, rules.TITLE_MAX))
        return False
    return True


async def read_description(update: Update, scope: Scope, draft: dict[str, Any]) -> bool:
    """Store a clean description (Skip: none) in ``draft``; False when it will not do."""
    text = text_of(update)
    if is_label(text, SKIP_LABEL):
        draft["description"] = ""
        return True
    try:
        draft["description"] = rules.clean_text(text)
    except InvalidInput as error:
        await reply(update, explain(scope, error, rules.DESCRIPTION_MAX))
        return False
    return True


async def read_start(update: Update, scope: Scope) -> datetime | None:
    """A start in the future, or None once the cadre has been told what is wrong."""
    try:
        start = read_time(scope, text_of(update))
    except InvalidInput as error:
        await time_error(update, scope, error)
        return None
    if start <= now_of(scope):
        await reply(update, schedule_error(scope, "start_past"))
        return None
    return start


async def read_end(update: Update, scope: Scope, start: datetime) -> datetime | None:
    """An end after ``start`` (a bare time means that day), or None once the cadre is told."""
    try:
        end = read_time(scope, text_of(update), day=start)
    except InvalidInput as error:
        await time_error(update, scope, error)
        return None
    if end <= start:
        await reply(update, schedule_error(scope, "end_before_start"))
        return None
    return end


async def read_deadline(update: Update, scope: Scope, start: datetime) -> datetime | None:
    """A sign-up deadline (the button: the start itself), or None when it cannot be read.

    Whether it fits the schedule is the caller's check: the features ask it differently.
    """
    text = text_of(update)
    if is_label(text, UNTIL_START_LABEL):
        return start
    try:
        return read_time(scope, text, day=start)
    except InvalidInput as error:
        await time_error(update, scope, error)
        return None


async def read_capacity(update: Update, scope: Scope, draft: dict[str, Any]) -> bool:
    """Store the seats (the button: unlimited, None) in ``draft``; False when unreadable."""
    text = text_of(update)
    if is_label(text, UNLIMITED_LABEL):
        draft["capacity"] = None
        return True
    try:
        draft["capacity"] = rules.parse_capacity(text)
    except InvalidInput:
        await reply(
            update,
            scope._(
                "Please send a whole number of seats from 1 to {max}, or tap ♾ Unlimited."
            ).format(max=rules.MAX_CAPACITY),
        )
        return False
    return True


def confirm_keyboard(scope: Scope) -> ReplyKeyboardMarkup:
    """The three ways to finish an editor: publish and announce, publish quietly, keep a draft."""
    return choice_keyboard(scope, [scope._(label) for label in CONFIRM_CHOICES], columns=1)


async def confirm_choice(update: Update, scope: Scope) -> str | None:
    """Which of :data:`CONFIRM_CHOICES` was tapped; None (and a nudge) for anything else."""
    text = text_of(update)
    choice = next((label for label in CONFIRM_CHOICES if is_label(text, label)), None)
    if choice is None:
        await reply(update, scope._("Please tap one of the buttons."))
    return choice


async def lost_answers(update: Update, context: Context, scope: Scope, key: str) -> int:
    """The draft lacks what the last step needs (e.g. after a restart): start over."""
    context.user_data.pop(key, None)  # type: ignore[union-attr]
    await reply(
        update,
        scope._("Sorry, I lost your answers. Please start again."),
        reply_markup=main_menu(scope),
    )
    return ConversationHandler.END


def created_text(scope: Scope, choice: str, sent: int) -> str:
    """What the cadre reads once the new offering is saved (and maybe published)."""
    if choice == SAVE_DRAFT_LABEL:
        return scope._("Saved as a draft. Publish it from the panel below when ready.")
    if choice == PUBLISH_ANNOUNCE_LABEL:
        return scope._("Published and announced to {count} members.").format(count=sent)
    return scope._("Published.")


async def publish_toast(
    update: Update, scope: Scope, *, published: bool, announce: bool, sent: int
) -> None:
    """Answer the Publish button: already done, announced to how many, or published quietly."""
    if not published:
        await answer(update, scope._("It is already published."), True)
    elif announce:
        await answer(
            update, scope._("Published. Announcing it to {count} members.").format(count=sent)
        )
    else:
        await answer(update, scope._("Published."))
