"""How broadcasts read: composing, the audience picker, the preview, progress and reports.

Functions take a `Translator` and the union's time zone rather than a
`Scope`, because the progress job and the report speak to an admin outside
any update. The same text serves a message, an edit and a test.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core import dates
from core.i18n import N_, Translator
from display import callbacks as cb
from display.time_input import hint
from storage.audience_picks import EVERYONE, TAG
from storage.audiences import Audience, AudienceSource, Described
from storage.broadcast_rules import (
    SHOWN_TAGS,
    ContentError,
    InvalidTime,
    MarkupError,
    snippet,
    visible_text,
)
from storage.broadcasts import Tally
from storage.members import Page
from storage.models import Broadcast, BroadcastStatus

PAGE = "page"  # not a selection: turns the picker's page
PICKER_PAGE = 40  # choices per page; with the other rows well under Telegram's 100 buttons
BUTTON_TEXT_MAX = 40

MARKUP_ERRORS: dict[str, str] = {
    "ampersand": N_(
        "A “{amp}” must be written as {amp_escaped}; only {references} are understood."
    ),
    "unsupported_tag": N_("The tag {tag} is not supported. You can use: {supported}."),
    "unclosed_tag": N_("A tag is not closed with “{gt}”."),
    "bad_attribute": N_("A tag has a malformed attribute; write it like {link}."),
    "link_without_href": N_("A link needs an address, like {link}."),
    "span_class": N_("{span} is only for spoilers: {spoiler}."),
    "unexpected_end": N_("The closing tag {tag} has no opening tag."),
    "mismatched_end": N_("The closing tag {tag} does not match the open tag {expected}."),
    "unclosed": N_("The tag {tag} is opened but never closed."),
}
# What the messages above show, escaped once here rather than in every translation.
_MARKUP_EXAMPLES = {
    "amp": html.escape("&"),
    "amp_escaped": html.escape("&amp;"),
    "references": html.escape("&lt; &gt; &amp; &quot;"),
    "gt": html.escape(">"),
    "link": html.escape('<a href="https://…">text</a>'),
    "span": html.escape("<span>"),
    "spoiler": html.escape('<span class="tg-spoiler">'),
    "supported": html.escape(", ".join(f"<{tag}>" for tag in SHOWN_TAGS)),
}
CONTENT_ERRORS: dict[str, str] = {
    "empty": N_("There is no text left to send. Please send the announcement again."),
    "too_long": N_(
        "That is too long for Telegram ({limit} characters at most, with a photo or document "
        "1024). Please shorten it and send it again."
    ),
}
TIME_ERRORS: dict[str, str] = {
    "format": N_("I could not read that time. Please write it like {example}."),
    "no_such_time": N_("That date or time does not exist. Please check it."),
    "past": N_("That time has already passed. Please give a time in the future."),
    "too_far": N_("That is more than a year ahead. Please check the year."),
}
STATUS_NAMES: dict[str, str] = {
    BroadcastStatus.SCHEDULED.value: N_("🕒 scheduled"),
    BroadcastStatus.SENDING.value: N_("📤 sending"),
    BroadcastStatus.PAUSED.value: N_("⏸ paused"),
    BroadcastStatus.CANCELLED.value: N_("✖️ cancelled"),
    BroadcastStatus.DONE.value: N_("✅ finished"),
}


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data)


def local_time(moment: datetime, zone: tzinfo) -> str:
    return dates.minute(moment, zone)


def example_time(now: datetime, zone: tzinfo) -> str:
    """Tomorrow at 09:00 in the union's zone: an example that would be accepted."""
    tomorrow = now.astimezone(zone) + timedelta(days=1)
    return tomorrow.strftime("%Y-%m-%d") + " 09:00"


def plain_excerpt(text: str, limit: int) -> str:
    """The visible words of a broadcast, shortened, for lists (not HTML-escaped)."""
    try:
        words = visible_text(text)
    except MarkupError:  # e.g. custom emoji from Telegram's own formatting
        words = html.unescape(re.sub(r"<[^>]*>", "", text))
    words = " ".join(words.split())
    return words if len(words) <= limit else words[: limit - 1] + "…"


MEDIA_LABELS: dict[str, str] = {"photo": N_("📷 Photo"), "document": N_("📎 Document")}


def listed_as(t: Translator, broadcast: Broadcast, limit: int) -> str:
    """How a broadcast is named in a list: its words (the caption), else its kind of media.

    Not HTML-escaped. "(no text)" only for a broadcast with neither, which the
    composer refuses, so a photo is never listed as empty.
    """
    words = plain_excerpt(broadcast.text, limit)
    if words:
        return words
    label = MEDIA_LABELS.get(broadcast.media_kind or "")
    return t.gettext(label) if label else t.gettext("(no text)")


# Composing ---------------------------------------------------------------------


def compose_prompt(t: Translator) -> str:
    _ = t.gettext
    return "\n".join(
        [
            "<b>" + _("📢 New broadcast") + "</b>",
            "",
            _(
                "Send the announcement: a text, or a photo or document with a caption. "
                "Members receive it exactly as you send it."
            ),
            "",
            _(
                "Tip: to format it, write HTML such as {example} and choose “Formatted” "
                "in the preview."
            ).format(example=html.escape("<b>" + _("bold") + "</b>")),
        ]
    )


def english_offer(t: Translator, has_media: bool) -> str:
    _ = t.gettext
    return "\n".join(
        [
            _("Add an English version?") if not has_media else _("Add an English caption?"),
            _(
                "Members who chose English receive it instead; without one, every member "
                "receives the text you just sent."
            ),
        ]
    )


def english_keyboard(t: Translator, nonce: int) -> InlineKeyboardMarkup:
    _ = t.gettext
    return InlineKeyboardMarkup(
        [
            [
                _button(_("➕ English version"), cb.BROADCAST_ENGLISH.pack(nonce)),
                _button(_("⏭ Skip"), cb.BROADCAST_NO_ENGLISH.pack(nonce)),
            ],
            [_button(_("✖️ Cancel"), cb.BROADCAST_QUIT.pack(nonce))],
        ]
    )


def english_prompt(t: Translator, has_media: bool) -> str:
    _ = t.gettext
    if has_media:
        return _(
            "Send the English caption as a text message: the photo or document stays the "
            "same. The same rules apply: plain or formatted as you choose in the preview, "
            "1024 characters at most."
        )
    return _(
        "Send the English text. The same rules apply: plain or formatted as you choose "
        "in the preview, 4096 characters at most."
    )


def english_back_keyboard(t: Translator, nonce: int) -> InlineKeyboardMarkup:
    """Under the English prompt reached from the preview: back to it, nothing changed."""
    return InlineKeyboardMarkup(
        [[_button(t.gettext("« Back to the preview"), cb.BROADCAST_ENGLISH_BACK.pack(nonce))]]
    )


def markup_error(t: Translator, error: MarkupError, source: str) -> str:
    _ = t.gettext
    problem = _(MARKUP_ERRORS[error.code]).format(
        tag=html.escape(f"</{error.tag}>" if error.code.endswith("_end") else f"<{error.tag}>"),
        expected=html.escape(f"<{error.expected}>"),
        **_MARKUP_EXAMPLES,
    )
    return "\n".join(
        [
            _("The English version is not valid formatting, so both stay plain text:")
            if error.english
            else _("This text is not valid formatting, so it stays plain text:"),
            problem,
            _("Near: {snippet}").format(
                snippet="<code>" + html.escape(snippet(source, error.position)) + "</code>"
            ),
            "",
            _("Send the text again corrected, or keep it as plain text."),
        ]
    )


def content_error(t: Translator, error: ContentError) -> str:
    return t.gettext(CONTENT_ERRORS[error.code]).format(limit=error.limit)


def time_error(t: Translator, error: InvalidTime, now: datetime, zone: tzinfo) -> str:
    return t.gettext(TIME_ERRORS[error.code]).format(example=example_time(now, zone))


# The audience ------------------------------------------------------------------


def describe_audience(t: Translator, described: Described) -> str:
    _ = t.gettext
    if described.everyone:
        return _("everyone")
    chosen = [(_(title), names) for title, names in described.sources]
    if described.tags:
        chosen.append((_("Tags"), described.tags))
    parts = [
        _("{title}: {names}").format(
            title=title, names=_(", ").join(html.escape(name) for name in names)
        )
        for title, names in chosen
    ]
    if described.missing:
        parts.append(_("{count} deleted since").format(count=described.missing))
    return " · ".join(parts) or _("nobody chosen yet")


@dataclass(frozen=True)
class PickerItem:
    """One button of the audience picker."""

    source: str  # source key, EVERYONE or TAG
    item: int  # the item's id (tags: index into the draft's tag list)
    label: str
    chosen: bool


def picker_items(
    t: Translator,
    audience: Audience,
    sources: list[tuple[AudienceSource, list[tuple[int, str]]]],
    tags: list[str],
) -> list[PickerItem]:
    items = [PickerItem(EVERYONE, 0, t.gettext("👥 Everyone"), audience.everyone)]
    for source, choices in sources:
        chosen = audience.chosen(source.key)
        items += [
            PickerItem(source.key, item_id, f"{source.icon} {name}", item_id in chosen)
            for item_id, name in choices
        ]
    items += [
        PickerItem(TAG, index, f"🏷 {tag}", tag in audience.tags) for index, tag in enumerate(tags)
    ]
    return items


def audience_text(t: Translator, described: Described, count: int) -> str:
    _ = t.gettext
    return "\n".join(
        [
            "<b>" + _("Who should receive it?") + "</b>",
            _("Tap to choose, as many as you like: a member in any chosen group receives it once."),
            "",
            _("Chosen: {audience}").format(audience=describe_audience(t, described)),
            _("Recipients: {count}").format(count=count),
        ]
    )


def picker_pages(items: list[PickerItem]) -> int:
    """How many pages the choices after "Everyone" fill."""
    return max(1, -(-(len(items) - 1) // PICKER_PAGE))


def audience_keyboard(
    t: Translator, nonce: int, items: list[PickerItem], page: int = 0
) -> InlineKeyboardMarkup:
    """Everyone first, then a page of choices two by two (Telegram caps a keyboard's size)."""
    _ = t.gettext
    pages = picker_pages(items)
    page = min(max(page, 0), pages - 1)
    shown = items[:1] + items[1 + page * PICKER_PAGE : 1 + (page + 1) * PICKER_PAGE]
    buttons = [
        _button(
            ("✅ " if item.chosen else "") + item.label[:BUTTON_TEXT_MAX],
            cb.BROADCAST_AUDIENCE.pack(nonce, item.source, item.item),
        )
        for item in shown
    ]
    rows = [buttons[:1]] + [buttons[i : i + 2] for i in range(1, len(buttons), 2)]
    if pages > 1:
        nav = []
        if page > 0:
            nav.append(_button(_("‹ Previous"), cb.BROADCAST_AUDIENCE.pack(nonce, PAGE, page - 1)))
        nav.append(
            _button(
                _("{page} of {pages}").format(page=page + 1, pages=pages),
                cb.BROADCAST_AUDIENCE.pack(nonce, PAGE, page),
            )
        )
        if page + 1 < pages:
            nav.append(_button(_("Next ›"), cb.BROADCAST_AUDIENCE.pack(nonce, PAGE, page + 1)))
        rows.append(nav)
    rows.append(
        [
            _button(_("Preview ›"), cb.BROADCAST_NEXT.pack(nonce)),
            _button(_("✖️ Cancel"), cb.BROADCAST_QUIT.pack(nonce)),
        ]
    )
    return InlineKeyboardMarkup(rows)


# The preview -------------------------------------------------------------------


def preview_text(
    t: Translator,
    described: Described,
    count: int,
    blocked: int,
    formatted: bool,
    *,
    bilingual: bool = False,
) -> str:
    _ = t.gettext
    lines = [
        "<b>" + _("👆 Preview") + "</b> — " + _("this is exactly what members will receive."),
        _("Each member receives one of the two versions above, in the language they chose.")
        if bilingual
        else _("No English version: every member receives this text, whatever their language."),
        "",
        _("Audience: {audience}").format(audience=describe_audience(t, described)),
        _("Recipients: {count}").format(count=count),
    ]
    if blocked:
        lines.append(
            _("{count} of them have blocked the bot; they will be reported as blocked.").format(
                count=blocked
            )
        )
    lines.append(_("Text: formatted (HTML)") if formatted else _("Text: plain, exactly as typed"))
    lines += ["", _("Send it now, or schedule it for later?")]
    return "\n".join(lines)


def preview_keyboard(
    t: Translator, nonce: int, formatted: bool, can_format: bool, *, has_english: bool = False
) -> InlineKeyboardMarkup:
    _ = t.gettext
    rows = [
        [
            _button(_("✅ Send now"), cb.BROADCAST_SEND.pack(nonce)),
            _button(_("🕒 Schedule"), cb.BROADCAST_SCHEDULE.pack(nonce)),
        ]
    ]
    if can_format:
        label = _("🔤 Read as plain text") if formatted else _("🔤 Read as formatted (HTML)")
        rows.append([_button(label, cb.BROADCAST_FORMAT.pack(nonce))])
    # The English version can be added, replaced or removed here too, not only right
    # after the Chinese text (an admin who skipped it need not start over).
    if has_english:
        rows.append(
            [
                _button(_("✏️ Replace the English version"), cb.BROADCAST_ENGLISH_EDIT.pack(nonce)),
                _button(_("🗑 Remove the English version"), cb.BROADCAST_ENGLISH_DROP.pack(nonce)),
            ]
        )
    else:
        rows.append(
            [_button(_("➕ Add an English version"), cb.BROADCAST_ENGLISH_EDIT.pack(nonce))]
        )
    rows.append(
        [
            _button(_("« Audience"), cb.BROADCAST_BACK.pack(nonce)),
            _button(_("✖️ Cancel"), cb.BROADCAST_QUIT.pack(nonce)),
        ]
    )
    return InlineKeyboardMarkup(rows)


def schedule_prompt(t: Translator, now: datetime, zone: tzinfo, zone_name: str) -> str:
    return (
        t.gettext(
            "When should it go out? Send the date and time in {zone}, like {example}."
        ).format(zone=html.escape(zone_name), example=example_time(now, zone))
        + "\n"
        + hint(t)
    )


def confirmed_text(t: Translator, broadcast: Broadcast, zone: tzinfo) -> str:
    _ = t.gettext
    if broadcast.scheduled_for is not None and broadcast.started_at is None:
        return _(
            "🕒 Broadcast #{id} is scheduled for {when}. The recipients are counted then; "
            "/broadcasts shows it and can cancel it."
        ).format(id=broadcast.id, when=local_time(broadcast.scheduled_for, zone))
    return _("✅ Broadcast #{id} is on its way to {count} members.").format(
        id=broadcast.id, count=broadcast.recipients
    )


# Progress and report -------------------------------------------------------------


def format_eta(t: Translator, eta: timedelta) -> str:
    _ = t.gettext
    seconds = eta.total_seconds()
    if seconds < 60:
        return _("less than a minute")
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return _("about {minutes} min").format(minutes=minutes)
    return _("about {hours} h {minutes} min").format(hours=minutes // 60, minutes=minutes % 60)


def _state(t: Translator, broadcast: Broadcast, zone: tzinfo) -> str:
    _ = t.gettext
    status = broadcast.status
    if status == BroadcastStatus.CANCELLED.value and broadcast.finished_at is None:
        return _("✖️ stopping: messages already in flight finish")
    if status == BroadcastStatus.SCHEDULED.value and broadcast.scheduled_for is not None:
        return _("🕒 scheduled for {when}").format(when=local_time(broadcast.scheduled_for, zone))
    return _(STATUS_NAMES[status])


def status_text(
    t: Translator,
    broadcast: Broadcast,
    tally: Tally,
    audience: str,
    zone: tzinfo,
    *,
    excerpt: bool = False,
) -> str:
    """The progress message, and the detail view of /broadcasts (with an excerpt)."""
    _ = t.gettext
    lines = [
        "<b>"
        + _("📢 Broadcast #{id}").format(id=broadcast.id)
        + "</b> — "
        + _state(t, broadcast, zone),
        _("Audience: {audience}").format(audience=audience),
    ]
    if broadcast.started_at is not None:
        lines += [
            "",
            _("Recipients: {count}").format(count=tally.recipients),
            _("✅ Sent: {count}").format(count=tally.sent),
        ]
        if broadcast.finished_at is None:
            lines.append(_("⏳ Remaining: {count}").format(count=tally.remaining))
        lines += [
            _("🚫 Blocked the bot: {count}").format(count=tally.blocked),
            _("⚠️ Failed: {count}").format(count=tally.failed),
        ]
        if tally.cancelled:
            lines.append(_("✖️ Not sent (cancelled): {count}").format(count=tally.cancelled))
        running = broadcast.finished_at is None and broadcast.status == BroadcastStatus.SENDING
        if running and tally.eta is not None and tally.remaining:
            lines.append(_("⏱ Time left: {eta}").format(eta=format_eta(t, tally.eta)))
        lines.append("")
        lines.append(_("Started: {when}").format(when=local_time(broadcast.started_at, zone)))
        if broadcast.finished_at is not None:
            lines.append(_("Finished: {when}").format(when=local_time(broadcast.finished_at, zone)))
    if excerpt:
        media = {"photo": _("🖼 with a photo"), "document": _("📎 with a document")}
        words = plain_excerpt(broadcast.text, 300)
        lines.append("")
        if words:
            lines.append("<i>" + html.escape(words) + "</i>")
        if broadcast.text_en is not None:
            lines.append(_("🔤 with an English version for members who chose English"))
        if broadcast.media_kind in media:
            lines.append(media[broadcast.media_kind])
    return "\n".join(lines)


def status_keyboard(
    t: Translator, broadcast: Broadcast, *, back_page: int | None = None, confirm_stop: bool = False
) -> InlineKeyboardMarkup | None:
    """Pause / Resume / Stop while it can still change; a back button in the list's view."""
    _ = t.gettext
    rows: list[list[InlineKeyboardButton]] = []
    open_ = broadcast.finished_at is None and broadcast.status != BroadcastStatus.CANCELLED.value
    if open_ and confirm_stop:
        yes = (
            _("Yes, cancel it")
            if broadcast.status == BroadcastStatus.SCHEDULED.value
            else _("Yes, stop sending")
        )
        rows.append(
            [
                _button(yes, cb.BROADCAST_STOP_CONFIRM.pack(broadcast.id)),
                _button(_("« No"), cb.BROADCAST_STOP_BACK.pack(broadcast.id)),
            ]
        )
    elif open_:
        row = []
        if broadcast.status == BroadcastStatus.SENDING.value:
            row.append(_button(_("⏸ Pause"), cb.BROADCAST_PAUSE.pack(broadcast.id)))
        if broadcast.status == BroadcastStatus.PAUSED.value:
            row.append(_button(_("▶️ Resume"), cb.BROADCAST_RESUME.pack(broadcast.id)))
        stop = (
            _("✖️ Cancel it") if broadcast.status == BroadcastStatus.SCHEDULED.value else _("✖️ Stop")
        )
        row.append(_button(stop, cb.BROADCAST_STOP.pack(broadcast.id)))
        rows.append(row)
    if back_page is not None:
        rows.append([_button(_("« Broadcasts"), cb.BROADCAST_LIST.pack(back_page))])
    return InlineKeyboardMarkup(rows) if rows else None


def report_text(t: Translator, broadcast: Broadcast, audience: str, zone: tzinfo) -> str:
    """The one report at the end, sent as its own message so the admin is notified."""
    _ = t.gettext
    title = (
        _("📢 Broadcast #{id} was stopped. Report:")
        if broadcast.status == BroadcastStatus.CANCELLED.value
        else _("📢 Broadcast #{id} is finished. Report:")
    )
    lines = [
        "<b>" + title.format(id=broadcast.id) + "</b>",
        _("Audience: {audience}").format(audience=audience),
        _("Recipients: {count}").format(count=broadcast.recipients),
        _("✅ Delivered: {count}").format(count=broadcast.sent),
        _("🚫 Blocked the bot: {count}").format(count=broadcast.blocked),
        _("⚠️ Failed: {count}").format(count=broadcast.failed),
    ]
    if broadcast.cancelled:
        lines.append(_("✖️ Not sent (cancelled): {count}").format(count=broadcast.cancelled))
    if broadcast.started_at is not None and broadcast.finished_at is not None:
        lines.append(
            _("From {start} to {end}.").format(
                start=local_time(broadcast.started_at, zone),
                end=local_time(broadcast.finished_at, zone),
            )
        )
    return "\n".join(lines)


# /broadcasts ---------------------------------------------------------------------


def _summary_line(t: Translator, broadcast: Broadcast, zone: tzinfo) -> str:
    _ = t.gettext
    when = broadcast.started_at or broadcast.scheduled_for or broadcast.created_at
    if broadcast.status == BroadcastStatus.SCHEDULED.value and broadcast.scheduled_for:
        when = broadcast.scheduled_for
    state = _(STATUS_NAMES[broadcast.status])
    line = f"#{broadcast.id} · {local_time(when, zone)} · {state}"
    if broadcast.finished_at is not None and broadcast.started_at is not None:
        line += " · " + _("{sent} of {count} delivered").format(
            sent=broadcast.sent, count=broadcast.recipients
        )
    return line


def list_text(t: Translator, page: Page[Broadcast], zone: tzinfo) -> str:
    _ = t.gettext
    if not page.total:
        return _("No broadcasts yet. Send /broadcast to write the first one.")
    lines = [
        "<b>"
        + _("Broadcasts ({total}), page {page} of {pages}").format(
            total=page.total, page=page.page + 1, pages=page.pages
        )
        + "</b>",
        "",
    ]
    for broadcast in page.items:
        lines.append(html.escape(_summary_line(t, broadcast, zone)))
        lines.append("    <i>" + html.escape(listed_as(t, broadcast, 60)) + "</i>")
    lines += ["", _("Tap one to see its report.")]
    return "\n".join(lines)


def list_keyboard(t: Translator, page: Page[Broadcast]) -> InlineKeyboardMarkup:
    _ = t.gettext
    rows = [
        [
            _button(
                f"#{b.id} · " + listed_as(t, b, 24),
                cb.BROADCAST_VIEW.pack(b.id, page.page),
            )
        ]
        for b in page.items
    ]
    nav = []
    if page.page > 0:
        nav.append(_button(_("‹ Previous"), cb.BROADCAST_LIST.pack(page.page - 1)))
    if page.page + 1 < page.pages:
        nav.append(_button(_("Next ›"), cb.BROADCAST_LIST.pack(page.page + 1)))
    if nav:
        rows.append(nav)
    rows.append([_button(_("📢 New broadcast"), cb.BROADCAST_NEW.pack())])
    return InlineKeyboardMarkup(rows)
