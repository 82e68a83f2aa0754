"""Telegram-side steps that activities and trainings share.

Both features show a panel by editing the pressed message, answer button
presses, ask a cadre the same questions in their guided editors (title,
description, times, capacity, the publish choice) and report publishing the
same way. Keeping each of these in one place means the two editors cannot
drift apart: a fix to how a time is read or a capacity is checked reaches both.
The feature packages keep their own questions and states; the drafts and
services in storage decide whether an answer holds, and these steps word it.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import ReplyKeyboardMarkup, Update
from telegram.ext import ConversationHandler

from core.i18n import N_
from display import activities as show
from handlers import time_input
from handlers.common import (
    SKIP_LABEL,
    choice_keyboard,
    explain,
    is_label,
    reply,
    text_of,
)
from handlers.menu import main_menu
from handlers.scope import Context, Scope
from jobs.delivery import wake_after_commit
from storage import enrolment_rules as rules
from storage.enrolment_rules import ScheduleRefused
from storage.profile_rules import InvalidInput

UNLIMITED_LABEL = N_("♾ Unlimited")
UNTIL_START_LABEL = N_("⏱ Until the start")
PUBLISH_ANNOUNCE_LABEL = N_("📣 Publish and announce")
PUBLISH_QUIET_LABEL = N_("✅ Publish quietly")
SAVE_DRAFT_LABEL = N_("📝 Save as draft")
CONFIRM_CHOICES = (PUBLISH_ANNOUNCE_LABEL, PUBLISH_QUIET_LABEL, SAVE_DRAFT_LABEL)

D = TypeVar("D")
Offered = TypeVar("Offered")
Got = TypeVar("Got", covariant=True)
Told = TypeVar("Told", contravariant=True)


class Answers(Protocol):
    """What both editors' drafts hold that the shared steps below fill in."""

    title: str
    description: str
    capacity: int | None


def now_of(scope: Scope) -> datetime:
    """The runtime's clock (tests move a fake one), never the wall clock."""
    return scope.runtime.now()


async def answer(update: Update, text: str | None = None, alert: bool = False) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=alert)


def delivering(scope: Scope, context: Context, created: int) -> int:
    """Notices were written (``created`` rows): wake the delivery worker once this step commits."""
    if created:
        wake_after_commit(scope.session, context)
    return created


# Drafts in user_data ---------------------------------------------------------------------


def keep(context: Context, key: str, draft: object) -> None:
    """Keep a `core.drafts` dataclass between steps (stored with the conversation)."""
    assert context.user_data is not None
    context.user_data[key] = draft


def drop(context: Context, *keys: str) -> None:
    if context.user_data is not None:
        for key in keys:
            context.user_data.pop(key, None)


# The guided editors ----------------------------------------------------------------------


def schedule_error(scope: Scope, problem: str) -> str:
    return show.schedule_refusal(scope.t, scope.settings.tz, problem, now_of(scope))


async def refuse_schedule(update: Update, scope: Scope, refused: ScheduleRefused) -> None:
    """Tell the cadre which rule the time they sent breaks (the service decided)."""
    await reply(update, schedule_error(scope, refused.problem))


def read_time(scope: Scope, text: str, day: datetime | None = None) -> datetime:
    zone = scope.settings.tz
    today = now_of(scope).astimezone(zone).date()
    local_day = day.astimezone(zone).date() if day is not None else None
    return rules.to_utc(rules.parse_local_datetime(text, today, day=local_day), zone)


async def time_error(update: Update, scope: Scope, error: InvalidInput) -> None:
    await reply(
        update, show.time_input_error(scope.t, scope.settings.tz, error.code, now_of(scope))
    )


async def read_title(update: Update, scope: Scope, draft: Answers) -> bool:
    """Store a clean title in ``draft``; False (the cadre is told why) when it will not do."""
    try:
        draft.title = rules.clean_title(text_of(update))
    except InvalidInput as error:
        await reply(update, explain(scope, error, rules.TITLE_MAX))
        return False
    return True


async def read_description(update: Update, scope: Scope, draft: Answers) -> bool:
    """Store a clean description (Skip: none) in ``draft``; False when it will not do."""
    text = text_of(update)
    if is_label(text, SKIP_LABEL):
        draft.description = ""
        return True
    try:
        draft.description = rules.clean_text(text)
    except InvalidInput as error:
        await reply(update, explain(scope, error, rules.DESCRIPTION_MAX))
        return False
    return True


async def read_moment(
    update: Update,
    context: Context,
    scope: Scope,
    day: datetime | None = None,
    *,
    step: str,
    base: datetime | None = None,
) -> datetime | None:
    """The time the cadre typed or confirmed (a bare time means ``day``), or None once
    answered: told it is unreadable, or a natural phrase proposed (`handlers.time_input`,
    its "next such time" counted from ``base``, default now: an end's from its start).

    Whether it fits the schedule is the draft's to decide (`ScheduleRefused`).
    """
    try:
        return await time_input.read(
            update,
            context,
            scope,
            lambda text: read_time(scope, text, day=day),
            step=step,
            unreadable=lambda error: isinstance(error, InvalidInput) and error.code == "format",
            base=base,
        )
    except InvalidInput as error:
        await time_error(update, scope, error)
        return None


async def read_deadline(
    update: Update, context: Context, scope: Scope, start: datetime, *, step: str
) -> datetime | None:
    """A sign-up deadline (the button: the start itself), or None when it cannot be read."""
    if update.callback_query is None and is_label(text_of(update), UNTIL_START_LABEL):
        return start
    return await read_moment(update, context, scope, day=start, step=step)


async def read_capacity(update: Update, scope: Scope, draft: Answers) -> bool:
    """Store the seats (the button: unlimited, None) in ``draft``; False when unreadable."""
    text = text_of(update)
    if is_label(text, UNLIMITED_LABEL):
        draft.capacity = None
        return True
    try:
        draft.capacity = rules.parse_capacity(text)
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
    drop(context, key)
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


class Offerings(Protocol[Got]):
    """`storage.activities` or `storage.trainings`: publishing one and reading it again."""

    async def publish(self, session: AsyncSession, offering_id: int, now: datetime, /) -> bool: ...

    async def get(self, session: AsyncSession, offering_id: int, /) -> Got: ...


class Announcer(Protocol[Told]):
    """`notices.activities` or `notices.trainings`: the new one told to its audience."""

    async def announce(
        self, session: AsyncSession, offering: Told, /, *, zone: tzinfo, now: datetime
    ) -> int: ...


async def publish_offering(
    context: Context,
    scope: Scope,
    offering_id: int,
    announce: bool,
    *,
    book: Offerings[Offered],
    notices: Announcer[Offered],
) -> tuple[bool, int]:
    """Publish (once) and, if asked, announce to the audience: (published now, rows written)."""
    now = now_of(scope)
    published = await book.publish(scope.session, offering_id, now)
    sent = 0
    if published and announce:
        offering = await book.get(scope.session, offering_id)
        sent = await notices.announce(scope.session, offering, zone=scope.settings.tz, now=now)
        delivering(scope, context, sent)
    return published, sent


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
