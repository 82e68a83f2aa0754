"""A natural time put to the member to confirm, and why a phrase gave none."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core.i18n import N_, Translator
from display import callbacks as cb
from storage.natural_time import Proposal, Reason

WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
EXAMPLES = N_("e.g. tomorrow 8am, Dec 30 2pm, 2026-12-30 14:00")
REFUSALS: dict[Reason, str] = {
    Reason.NOT_UNDERSTOOD: N_(
        "I could not read that time. Please write it differently, {examples}."
    ),
    Reason.AMBIGUOUS: N_("That could mean more than one time. Please name the day and the hour."),
    Reason.NO_TIME: N_("Please add the hour too, e.g. tomorrow 3pm."),
    Reason.IN_PAST: N_("That time has already passed. Please give a time in the future."),
}


def minutes_of(moment: datetime) -> int:
    """What a proposal's buttons carry: whole minutes since 1970 (UTC)."""
    return int(moment.timestamp()) // 60


def moment_of(minutes: int) -> datetime:
    return datetime.fromtimestamp(minutes * 60, UTC)


def canonical(moment: datetime, zone: tzinfo) -> str:
    """The strict form every time step reads: "2026-12-04 08:00" in the union's zone."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def proposal(t: Translator, zone: tzinfo, proposed: Proposal) -> tuple[str, InlineKeyboardMarkup]:
    """ "您是指 2026年12月4日（周五）08:00 吗？" with ✅ Confirm / ✏️ Re-enter."""
    local = proposed.when.astimezone(zone)
    text = t.gettext("Did you mean {weekday} {date} {time}?").format(
        date=t.gettext("{month}/{day}/{year}").format(
            year=local.year, month=local.month, day=local.day
        ),
        weekday=t.gettext(WEEKDAYS[local.weekday()]),
        time=local.strftime("%H:%M"),
    )
    if proposed.defaulted:
        text += "\n" + t.gettext("No hour was given, so I took {time}.").format(
            time=local.strftime("%H:%M")
        )
    at = minutes_of(proposed.when)
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t.gettext("✅ Confirm"), callback_data=cb.TIME_CONFIRM.pack(at)
                ),
                InlineKeyboardButton(t.gettext("✏️ Re-enter"), callback_data=cb.TIME_RETRY.pack(at)),
            ]
        ]
    )
    return text, markup


def refusal(t: Translator, reason: Reason) -> str:
    return t.gettext(REFUSALS[reason]).format(examples=t.gettext(EXAMPLES))


def hint(t: Translator) -> str:
    """The line under every prompt that asks a time."""
    return t.gettext("Everyday words work too, {examples}.").format(examples=t.gettext(EXAMPLES))
