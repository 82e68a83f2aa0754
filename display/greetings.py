"""How the greetings panel reads: the same text serves a message, an edit and a test."""

from __future__ import annotations

from datetime import date
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core.i18n import LANGUAGE_NAMES, N_, Translator
from core.settings import SUPPORTED_LANGUAGES
from display import callbacks as cb
from display.admin import back_home
from display.versions import receives
from storage.greetings import TEMPLATE_MAX, Occasion, TemplateError, Upcoming
from storage.occasions import REGIONAL, Occurrence

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


def placeholders(t: Translator) -> str:
    return t.gettext(", ").join(_code("{" + name + "}") for name in ("name", "year", "holiday"))


def day_label(t: Translator, day: date) -> str:
    """A date as "2027-02-06 Sat" in the reader's language."""
    return f"{day.isoformat()} {t.gettext(WEEKDAYS[day.weekday()])}"


def occasion_name(t: Translator, occasion: Occasion) -> str:
    """The occasion's name in the reader's language, escaped (custom names are typed)."""
    return escape(occasion.name(t))


def _when(t: Translator, occasion: Occasion, next_day: Occurrence | None) -> str:
    if occasion.is_birthday:
        return t.gettext(
            "On each member's birthday (29 February birthdays: on 28 February in common years)."
        )
    if next_day is None:
        return t.gettext("No date in the coming year.")
    if occasion.custom:
        return t.gettext("Every year on {month_day}; next on {date}.").format(
            month_day=f"{occasion.month:02d}-{occasion.day:02d}",
            date=day_label(t, next_day.day),
        )
    return t.gettext("Next on {date}.").format(date=day_label(t, next_day.day))


def audience_text(t: Translator, occasion: Occasion) -> str:
    if occasion.audience_tag is None:
        return t.gettext("all members")
    return t.gettext("members tagged {tag}").format(tag=_code(occasion.audience_tag))


def status_text(t: Translator, occasion: Occasion) -> str:
    return t.gettext("✅ on") if occasion.enabled else t.gettext("⏸ off")


# Time zones a member knows by a name of their own; others are shown as configured.
ZONE_NAMES = {"Asia/Shanghai": N_("Beijing time")}


def zone_name(t: Translator, timezone: str) -> str:
    """The zone as a member says it: 北京时间, not Asia/Shanghai on a Chinese screen."""
    known = ZONE_NAMES.get(timezone)
    return t.gettext(known) if known else timezone


def home_text(t: Translator, upcoming: list[Upcoming], hour: int, timezone: str) -> str:
    lines = [
        "<b>" + t.gettext("🎉 Greetings") + "</b>",
        "",
        t.gettext(
            "Greetings go out on the day from {hour}:00 ({timezone}), in each member's "
            "language, once per member and occasion each year."
        ).format(hour=f"{hour:02d}", timezone=escape(zone_name(t, timezone))),
        t.gettext(
            "Tap an occasion to edit its text, preview it or choose who gets it; "
            "tap ✅ or ⏸ beside it to switch it on or off."
        ),
    ]
    soon = [item for item in upcoming if item.occasion.enabled][:3]
    if soon:
        lines += ["", t.gettext("Coming up:")]
        lines += [_upcoming_line(t, item) for item in soon]
    return "\n".join(lines)


def home_keyboard(
    t: Translator, listed: list[tuple[Occasion, Occurrence | None]]
) -> InlineKeyboardMarkup:
    rows = []
    for occasion, next_day in listed:
        when = t.gettext("daily") if occasion.is_birthday else ""
        if next_day is not None:
            when = f"{next_day.day:%m-%d}"
        label = occasion.name(t) + (f" · {when}" if when else "")
        switch = t.gettext("✅ On") if occasion.enabled else t.gettext("⏸ Off")
        rows.append(
            [
                _button(label, cb.GREET_OCCASION.pack(occasion.code)),
                _button(switch, cb.GREET_TOGGLE.pack(occasion.code, 0)),
            ]
        )
    rows.append(
        [
            _button(t.gettext("🗓 Next 30 days"), cb.GREET_UPCOMING.pack()),
            _button(t.gettext("➕ Add a date"), cb.GREET_ADD.pack()),
        ]
    )
    rows.append([back_home(t)])
    return InlineKeyboardMarkup(rows)


def _who(t: Translator, occasion: Occasion, recipients: int) -> str:
    if occasion.is_birthday:
        text = t.gettext("Who: {audience} ({count} with a birthday on file)")
    else:
        text = t.gettext("Who: {audience} ({count} now)")
    return text.format(audience=audience_text(t, occasion), count=recipients)


def card_text(
    t: Translator,
    occasion: Occasion,
    next_day: Occurrence | None,
    texts: dict[str, str],
    own: set[str],
    recipients: int,
) -> str:
    lines = [
        "<b>" + occasion_name(t, occasion) + "</b>",
        "",
        _when(t, occasion, next_day),
        t.gettext("Status: {status}").format(status=status_text(t, occasion)),
        _who(t, occasion, recipients),
    ]
    if occasion.code in REGIONAL:
        lines.append(
            t.gettext(
                "Little New Year is kept on the 23rd of the 12th lunar month in the north and on the 24th "
                "in the south: switch on the one your members keep, or both, each for the "
                "members tagged for it (🎯 Who gets it), so nobody is greeted twice."
            )
        )
    for language in SUPPORTED_LANGUAGES:
        which = t.gettext("your own") if language in own else t.gettext("default")
        lines += [
            "",
            t.gettext("{language} text ({which}):").format(
                language=LANGUAGE_NAMES[language], which=which
            ),
            "<i>" + escape(texts[language]) + "</i>",
        ]
    return "\n".join(lines)


def card_keyboard(t: Translator, occasion: Occasion, has_own: bool) -> InlineKeyboardMarkup:
    code = occasion.code
    switch = t.gettext("⏸ Switch off") if occasion.enabled else t.gettext("▶️ Switch on")
    rows = [
        [_button(switch, cb.GREET_TOGGLE.pack(code, 1))],
        [
            _button(
                t.gettext("✏️ {language}").format(language=LANGUAGE_NAMES[language]),
                cb.GREET_EDIT.pack(code, language),
            )
            for language in SUPPORTED_LANGUAGES
        ],
        [
            _button(t.gettext("👁 Preview"), cb.GREET_PREVIEW.pack(code)),
            _button(t.gettext("🎯 Who gets it"), cb.GREET_AUDIENCE.pack(code)),
        ],
    ]
    if has_own:
        rows.append([_button(t.gettext("↩️ Back to the default texts"), cb.GREET_RESET.pack(code))])
    if occasion.custom:
        rows.append([_button(t.gettext("🗑 Delete this date"), cb.GREET_DELETE.pack(code))])
    rows.append([_button(t.gettext("« Greetings"), cb.GREET_HOME.pack())])
    return InlineKeyboardMarkup(rows)


def _upcoming_line(t: Translator, item: Upcoming) -> str:
    name = occasion_name(t, item.occasion)
    if not item.occasion.enabled:
        return t.gettext("{date} · {occasion}: switched off").format(
            date=day_label(t, item.day), occasion=name
        )
    return t.gettext("{date} · {occasion}: {count} members").format(
        date=day_label(t, item.day), occasion=name, count=item.recipients
    )


def upcoming_text(t: Translator, today: date, items: list[Upcoming]) -> str:
    lines = [
        "<b>" + t.gettext("🗓 The next 30 days") + "</b>",
        t.gettext("From {date}; counts are members who would be greeted as things stand.").format(
            date=day_label(t, today)
        ),
        "",
    ]
    if not items:
        lines.append(t.gettext("Nothing goes out in the next 30 days."))
    lines += [_upcoming_line(t, item) for item in items]
    return "\n".join(lines)


def upcoming_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(t.gettext("« Greetings"), cb.GREET_HOME.pack())]])


def edit_prompt(t: Translator, occasion: Occasion, language: str, current: str) -> str:
    return "\n".join(
        [
            t.gettext("Send the new {language} text for {occasion}.").format(
                language=LANGUAGE_NAMES[language], occasion=occasion_name(t, occasion)
            ),
            t.gettext(
                "Placeholders: {name} the member's name, {year} the year, {holiday} the "
                "occasion's name."
            ).format(name=_code("{name}"), year=_code("{year}"), holiday=_code("{holiday}")),
            "",
            t.gettext("The text now:"),
            "<i>" + escape(current) + "</i>",
        ]
    )


def template_error(t: Translator, error: TemplateError) -> str:
    message = t.gettext(TEMPLATE_ERRORS[error.code])
    return message.format(
        limit=TEMPLATE_MAX,
        example=_code("{name}"),
        field=_code("{" + error.field + "}"),
        allowed=placeholders(t),
    )


def audience_prompt(t: Translator, occasion: Occasion) -> str:
    return "\n".join(
        [
            t.gettext("Who should get the {occasion} greeting? Now: {audience}.").format(
                occasion=occasion_name(t, occasion), audience=audience_text(t, occasion)
            ),
            t.gettext(
                "Send a tag to greet only members who have it (tags are set on each "
                "member's card in the admin panel), or tap {all} to greet everyone."
            ).format(all=t.gettext(ALL_MEMBERS_LABEL)),
        ]
    )


def preview_intro(t: Translator, occasion: Occasion, name: str, day: date) -> str:
    return t.gettext(
        "👁 Preview of {occasion} for a member named {name} on {date}. Each member "
        "receives one version, in the language they chose:"
    ).format(occasion=occasion_name(t, occasion), name=escape(name), date=day.isoformat())


def preview_version(t: Translator, language: str, greeting: str) -> str:
    """One language's greeting in the preview, under the label of who receives it."""
    return receives(t, language) + "\n" + greeting


def delete_confirm_text(t: Translator, occasion: Occasion) -> str:
    return t.gettext(
        "Delete the date {occasion}? Its greetings stop; those already sent stay sent."
    ).format(occasion=occasion_name(t, occasion))


def delete_confirm_keyboard(t: Translator, occasion: Occasion) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                _button(t.gettext("Yes, delete"), cb.GREET_DELETE_CONFIRM.pack(occasion.code)),
                _button(t.gettext("« Back"), cb.GREET_OCCASION.pack(occasion.code)),
            ]
        ]
    )
