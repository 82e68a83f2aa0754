"""How the satisfaction pulse reads: the question, its stars, the admin's panel."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core.i18n import N_, Translator
from display import callbacks as cb
from storage.pulse import MonthResult, Refusal

REFUSALS: dict[Refusal, str] = {
    Refusal.GONE: N_("This button is no longer valid."),
    Refusal.CLOSED: N_("This month's pulse is closed. Thank you all the same!"),
    Refusal.ANSWERED: N_("Thank you, you have already answered this month."),
    Refusal.NO_ANSWER: N_("Please tap the stars first."),
}


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data)


def question(t: Translator) -> str:
    return "\n".join(
        [
            "📈 <b>" + t.gettext("Are you satisfied with the union's work this month?") + "</b>",
            "",
            t.gettext("1 star: not at all, 5 stars: very satisfied."),
            t.gettext(
                "Your answer is anonymous: nobody, not even the admins, can see who gave it."
            ),
        ]
    )


def question_keyboard(month_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                _button("⭐" * n if n < 3 else f"{n}⭐", cb.PULSE_STARS.pack(month_id, n))
                for n in range(1, 6)
            ]
        ]
    )


def thanks(t: Translator, stars: int) -> str:
    return t.gettext("Thank you! You rated this month {stars} (out of 5).").format(
        stars="⭐" * stars
    )


def refusal(t: Translator, reason: Refusal) -> str:
    return t.gettext(REFUSALS[reason])


def _line(t: Translator, result: MonthResult) -> str:
    if not result.closed:
        return t.gettext("{month}: {count} answers so far (results when the month is over)").format(
            month=result.month, count=result.count
        )
    if result.mean is None or result.distribution is None:
        return t.gettext("{month}: {count} answers (too few to show)").format(
            month=result.month, count=result.count
        )
    spread = " ".join(f"{n}⭐{count}" for n, count in enumerate(result.distribution, start=1))
    return t.gettext("{month}: {mean} of 5 from {count} answers ({spread})").format(
        month=result.month, mean=f"{result.mean:.2f}", count=result.count, spread=spread
    )


def panel_text(t: Translator, on: bool, hour: int, results: Sequence[MonthResult]) -> str:
    _ = t.gettext
    lines = [
        "📈 <b>" + _("Satisfaction pulse") + "</b>",
        "",
        (
            _("The pulse is on: once a month, on a weekday from {hour}:00, each member is asked.")
            if on
            else _("The pulse is off.")
        ).format(hour=hour),
        _("Answers are anonymous; a month shows once it is over, from 5 answers on."),
        "",
    ]
    if results:
        lines += [_line(t, r) for r in results]
    else:
        lines.append(_("No pulse has been sent yet."))
    return "\n".join(lines)


def panel_keyboard(t: Translator, on: bool) -> InlineKeyboardMarkup:
    label = t.gettext("⏸ Switch the pulse off") if on else t.gettext("▶️ Switch the pulse on")
    return InlineKeyboardMarkup(
        [
            [_button(label, cb.PULSE_SWITCH.pack(0 if on else 1))],
            [_button(t.gettext("« Admin panel"), cb.ADMIN_HOME.pack())],
        ]
    )
