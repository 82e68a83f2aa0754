"""How the greetings panel reads: the same text serves a message, an edit and a test."""

from __future__ import annotations

from datetime import date
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callbacks as cb
from bot.i18n import LANGUAGE_NAMES, N_
from bot.scope import Scope
from bot.settings import SUPPORTED_LANGUAGES
from handlers.display.admin import back_home
from storage.greetings import TEMPLATE_MAX, Occasion, TemplateError, Upcoming
from storage.occasions import Occurrence

WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))

TEMPLATE_ERRORS: dict[str, str] = {
    "empty": N_("That was empty. Please send the text of the greeting."),
    "too_long": N_("That is too long (at most {limit} characters). Please shorten it."),
    "control": N_("That contains characters I cannot store. Please send the text again."),
    "braces": N_(
        "A curly brace is not closed, so nothing was saved. Write placeholders like "
        "{example}; to show a brace itself, double it."
    ),
    "unknown": N_(
        "{field} is not a placeholder I know, so nothing was saved. You can use {allowed}."
    ),
    "format": N_(
        "Placeholders take no formatting, so nothing was saved: write {field} exactly, "
        "with nothing after a colon or an exclamation mark."
    ),
}

ALL_MEMBERS_LABEL = N_("👥 All members")


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data)


def _code(text: str) -> str:
    return "<code>" + escape(text) + "</code>"


def placeholders() -> str:
    return ", ".join(_code("{" + name + "}") for name in ("name", "year", "holiday"))


def day_label(scope: Scope, day: date) -> str:
    """A date as "2027-02-06 Sat" in the reader's language."""
    return f"{day.isoformat()} {scope._(WEEKDAYS[day.weekday()])}"


def occasion_name(scope: Scope, occasion: Occasion) -> str:
    """The occasion's name in the reader's language, escaped (custom names are typed)."""
    return escape(occasion.name(scope.t))


def _when(scope: Scope, occasion: Occasion, next_day: Occurrence | None) -> str:
    if occasion.is_birthday:
        return scope._(
            "On each member's birthday (29 February birthdays: on 28 February in common years)."
        )
    if next_day is None:
        return scope._("No date in the coming year.")
    if occasion.custom:
        return scope._("Every year on {month_day}; next on {date}.").format(
            month_day=f"{occasion.month:02d}-{occasion.day:02d}",
            date=day_label(scope, next_day.day),
        )
    return scope._("Next on {date}.").format(date=day_label(scope, next_day.day))


def audience_text(scope: Scope, occasion: Occasion) -> str:
    if occasion.audience_tag is None:
        return scope._("all members")
    return scope._("members tagged {tag}").format(tag=_code(occasion.audience_tag))


def status_text(scope: Scope, occasion: Occasion) -> str:
    return scope._("✅ on") if occasion.enabled else scope._("⏸ off")


def home_text(scope: Scope, upcoming: list[Upcoming]) -> str:
    settings = scope.settings
    lines = [
        "<b>" + scope._("🎉 Greetings") + "</b>",
        "",
        scope._(
            "Greetings go out on the day from {hour}:00 ({timezone}), in each member's "
            "language, once per member and occasion each year."
        ).format(hour=f"{settings.greeting_hour:02d}", timezone=escape(settings.timezone)),
        scope._(
            "Tap an occasion to edit its text, preview it or choose who gets it; "
            "tap ✅ or ⏸ beside it to switch it on or off."
        ),
    ]
    soon = [item for item in upcoming if item.occasion.enabled][:3]
    if soon:
        lines += ["", scope._("Coming up:")]
        lines += [_upcoming_line(scope, item) for item in soon]
    return "\n".join(lines)


def home_keyboard(
    scope: Scope, listed: list[tuple[Occasion, Occurrence | None]]
) -> InlineKeyboardMarkup:
    rows = []
    for occasion, next_day in listed:
        when = scope._("daily") if occasion.is_birthday else ""
        if next_day is not None:
            when = f"{next_day.day:%m-%d}"
        label = occasion.name(scope.t) + (f" · {when}" if when else "")
        switch = scope._("✅ On") if occasion.enabled else scope._("⏸ Off")
        rows.append(
            [
                _button(label, cb.GREET_OCCASION.pack(occasion.code)),
                _button(switch, cb.GREET_TOGGLE.pack(occasion.code, 0)),
            ]
        )
    rows.append(
        [
            _button(scope._("🗓 Next 30 days"), cb.GREET_UPCOMING.pack()),
            _button(scope._("➕ Add a date"), cb.GREET_ADD.pack()),
        ]
    )
    rows.append([back_home(scope)])
    return InlineKeyboardMarkup(rows)


def _who(scope: Scope, occasion: Occasion, recipients: int) -> str:
    if occasion.is_birthday:
        text = scope._("Who: {audience} ({count} with a birthday on file)")
    else:
        text = scope._("Who: {audience} ({count} now)")
    return text.format(audience=audience_text(scope, occasion), count=recipients)


def card_text(
    scope: Scope,
    occasion: Occasion,
    next_day: Occurrence | None,
    texts: dict[str, str],
    own: set[str],
    recipients: int,
) -> str:
    lines = [
        "<b>" + occasion_name(scope, occasion) + "</b>",
        "",
        _when(scope, occasion, next_day),
        scope._("Status: {status}").format(status=status_text(scope, occasion)),
        _who(scope, occasion, recipients),
    ]
    for language in SUPPORTED_LANGUAGES:
        which = scope._("your own") if language in own else scope._("default")
        lines += [
            "",
            scope._("{language} text ({which}):").format(
                language=LANGUAGE_NAMES[language], which=which
            ),
            "<i>" + escape(texts[language]) + "</i>",
        ]
    return "\n".join(lines)


def card_keyboard(scope: Scope, occasion: Occasion, has_own: bool) -> InlineKeyboardMarkup:
    code = occasion.code
    switch = scope._("⏸ Switch off") if occasion.enabled else scope._("▶️ Switch on")
    rows = [
        [_button(switch, cb.GREET_TOGGLE.pack(code, 1))],
        [
            _button(
                scope._("✏️ {language}").format(language=LANGUAGE_NAMES[language]),
                cb.GREET_EDIT.pack(code, language),
            )
            for language in SUPPORTED_LANGUAGES
        ],
        [
            _button(scope._("👁 Preview"), cb.GREET_PREVIEW.pack(code)),
            _button(scope._("🎯 Who gets it"), cb.GREET_AUDIENCE.pack(code)),
        ],
    ]
    if has_own:
        rows.append([_button(scope._("↩️ Back to the default texts"), cb.GREET_RESET.pack(code))])
    if occasion.custom:
        rows.append([_button(scope._("🗑 Delete this date"), cb.GREET_DELETE.pack(code))])
    rows.append([_button(scope._("« Greetings"), cb.GREET_HOME.pack())])
    return InlineKeyboardMarkup(rows)


def _upcoming_line(scope: Scope, item: Upcoming) -> str:
    name = occasion_name(scope, item.occasion)
    if not item.occasion.enabled:
        return scope._("{date} · {occasion}: switched off").format(
            date=day_label(scope, item.day), occasion=name
        )
    return scope._("{date} · {occasion}: {count} members").format(
        date=day_label(scope, item.day), occasion=name, count=item.recipients
    )


def upcoming_text(scope: Scope, today: date, items: list[Upcoming]) -> str:
    lines = [
        "<b>" + scope._("🗓 The next 30 days") + "</b>",
        scope._("From {date}; counts are members who would be greeted as things stand.").format(
            date=day_label(scope, today)
        ),
        "",
    ]
    if not items:
        lines.append(scope._("Nothing goes out in the next 30 days."))
    lines += [_upcoming_line(scope, item) for item in items]
    return "\n".join(lines)


def upcoming_keyboard(scope: Scope) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(scope._("« Greetings"), cb.GREET_HOME.pack())]])


def edit_prompt(scope: Scope, occasion: Occasion, language: str, current: str) -> str:
    return "\n".join(
        [
            scope._("Send the new {language} text for {occasion}.").format(
                language=LANGUAGE_NAMES[language], occasion=occasion_name(scope, occasion)
            ),
            scope._(
                "Placeholders: {name} the member's name, {year} the year, {holiday} the "
                "occasion's name."
            ).format(name=_code("{name}"), year=_code("{year}"), holiday=_code("{holiday}")),
            "",
            scope._("The text now:"),
            "<i>" + escape(current) + "</i>",
        ]
    )


def template_error(scope: Scope, error: TemplateError) -> str:
    message = scope._(TEMPLATE_ERRORS[error.code])
    return message.format(
        limit=TEMPLATE_MAX,
        example=_code("{name}"),
        field=_code("{" + error.field + "}"),
        allowed=placeholders(),
    )


def audience_prompt(scope: Scope, occasion: Occasion) -> str:
    return "\n".join(
        [
            scope._("Who should get the {occasion} greeting? Now: {audience}.").format(
                occasion=occasion_name(scope, occasion), audience=audience_text(scope, occasion)
            ),
            scope._(
                "Send a tag to greet only members who have it (tags are set on each "
                "member's card in the admin panel), or tap {all} to greet everyone."
            ).format(all=scope._(ALL_MEMBERS_LABEL)),
        ]
    )


def preview_intro(scope: Scope, occasion: Occasion, name: str, day: date) -> str:
    return scope._(
        "👁 Preview of {occasion}: this is how a member named {name} reads it on "
        "{date}, first in Chinese, then in English."
    ).format(occasion=occasion_name(scope, occasion), name=escape(name), date=day.isoformat())


def delete_confirm_text(scope: Scope, occasion: Occasion) -> str:
    return scope._(
        "Delete the date {occasion}? Its greetings stop; those already sent stay sent."
    ).format(occasion=occasion_name(scope, occasion))


def delete_confirm_keyboard(scope: Scope, occasion: Occasion) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                _button(scope._("Yes, delete"), cb.GREET_DELETE_CONFIRM.pack(occasion.code)),
                _button(scope._("« Back"), cb.GREET_OCCASION.pack(occasion.code)),
            ]
        ]
    )
