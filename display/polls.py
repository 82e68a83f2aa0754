"""How polls read: the member's poll message, results, the draft card, the admin card,
the list, and the XLSX export.

Functions take a `Translator` and the union's time zone rather than a `Scope`,
because the closing job and the outbox speak to members outside any update.
The same text serves a message, an edit in place and a test.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core import dates
from core.i18n import N_, Translator
from display import callbacks as cb
from display import sheets
from display.broadcasts import PickerItem, describe_audience
from display.charts import BarChart
from storage.audiences import Described
from storage.models import Poll, PollStatus
from storage.poll_rules import (
    EXTEND_CHOICES,
    MIN_GROUP,
    Breakdown,
    Tally,
    chosen,
    results_shown,
)
from storage.polls import NamedVote, PollSummary, PollView

BAR_WIDTH = 10
BUTTON_TEXT_MAX = 60

REFUSALS: dict[str, str] = {
    "gone": N_("This poll no longer exists."),
    "closed": N_("This poll has closed; votes are no longer accepted."),
    "no_such_option": N_("That option is not part of this poll. Nothing was changed."),
    "not_in_audience": N_(
        "This poll is not addressed to you, so you cannot vote in it. If you think it should be, please ask a union admin."
    ),
    "too_many": N_("You can choose at most {limit} options. Tap a chosen one to remove it first."),
    "hidden": N_("The results will be shown when the poll closes."),
}
POLL_INPUT_ERRORS: dict[str, str] = {
    "duplicate": N_("That option is already in the list. Please send a different one."),
    "too_many_options": N_("A poll can have at most 10 options. Tap ✅ Done to continue."),
    "closing_format": N_(
        "I could not read that time. Please write it like {example}, or tap a button."
    ),
    "closing_too_soon": N_("That is too soon: give members at least 10 minutes to vote."),
    "closing_too_far": N_("That is more than a year ahead. Please check the date."),
    "no_such_date": N_("That date or time does not exist. Please check it."),
}
# Between the options of a multiple choice ("A; B" in English, "A、B" in Chinese).
CHOICE_SEPARATOR = N_("; ")


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text[:BUTTON_TEXT_MAX], callback_data=data)


def local_time(moment: datetime, zone: tzinfo) -> str:
    return dates.minute(moment, zone)


def example_time(now: datetime, zone: tzinfo) -> str:
    return (now.astimezone(zone)).strftime("%Y-%m-%d 18:00")


def bar(share: float) -> str:
    filled = round(max(0.0, min(1.0, share)) * BAR_WIDTH)
    return "▓" * filled + "░" * (BAR_WIDTH - filled)


def duration(t: Translator, hours: int) -> str:
    if hours % 24 == 0:
        days = hours // 24
        if days == 7:
            return t.gettext("1 week")
        return t.gettext("{count} d").format(count=days)
    return t.gettext("{count} h").format(count=hours)


# The member's poll message ------------------------------------------------------------


def kind_line(t: Translator, poll: Poll, options: int) -> str:
    if not poll.multiple:
        return t.gettext("Choose one option.")
    if poll.max_choices >= options:
        return t.gettext("Choose as many options as you like.")
    return t.gettext("Choose up to {limit} options.").format(limit=poll.max_choices)


def anonymity_line(t: Translator, poll: Poll) -> str:
    if poll.anonymous:
        return t.gettext("🙈 Anonymous: nobody can see how you voted.")
    return t.gettext("👤 Named: the union will see how you voted.")


def closing_line(t: Translator, poll: Poll, zone: tzinfo) -> str:
    if poll.status == PollStatus.CLOSED.value and poll.closed_at is not None:
        return t.gettext("🔒 Closed on {when}.").format(when=local_time(poll.closed_at, zone))
    if poll.closes_at is None:
        return t.gettext("⏰ No closing time.")
    return t.gettext("⏰ Open until {when}.").format(when=local_time(poll.closes_at, zone))


def results_visible(poll: Poll) -> bool:
    """Members see results after closing, and before it if the creator chose so."""
    return poll.status == PollStatus.CLOSED.value or poll.results_visible


def poll_text(
    t: Translator, view: PollView, zone: tzinfo, mask: int, tally: Tally | None = None
) -> str:
    """The poll as a member sees it, with their current choice (and results if shown)."""
    poll = view.poll
    lines = _head(t, view, zone, tally)
    picked = [view.options[i] for i in chosen(mask) if i < len(view.options)]
    if picked:
        lines.append(
            t.gettext("✅ Your choice: {choice}").format(
                choice=html.escape(t.gettext(CHOICE_SEPARATOR).join(picked))
            )
        )
        if view.is_open:
            lines.append(
                t.gettext("You can change it until the poll closes.")
                if not poll.multiple
                else t.gettext("Tap an option again to remove it; changes count until it closes.")
            )
    elif view.is_open:
        lines.append(t.gettext("You have not voted yet: tap an option below."))
    else:
        lines.append(t.gettext("You did not vote in this poll."))
    return "\n".join(lines)


def _head(t: Translator, view: PollView, zone: tzinfo, tally: Tally | None) -> list[str]:
    poll = view.poll
    lines = [
        "🗳 <b>" + html.escape(poll.question) + "</b>",
        "",
        kind_line(t, poll, len(view.options)),
        anonymity_line(t, poll),
        closing_line(t, poll, zone),
    ]
    if tally is not None:
        lines += ["", *result_lines(t, view, tally)]
    lines.append("")
    return lines


def closed_copy(
    t: Translator, view: PollView, zone: tzinfo, tally: Tally
) -> tuple[str, InlineKeyboardMarkup]:
    """A delivered copy of a closed poll: the results (when shown), no vote buttons.

    The same for every member, voter or not, so the edit says nothing of who
    voted; the 📊 button shows each their own view.
    """
    lines = _head(t, view, zone, tally)
    lines.append(t.gettext("This poll is closed; votes are no longer taken."))
    return "\n".join(lines), poll_keyboard(t, view, 0)


def poll_keyboard(
    t: Translator, view: PollView, mask: int, *, preview: bool = False
) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    if view.is_open:
        for position, option in enumerate(view.options):
            mark = "✅ " if mask >> position & 1 else ""
            data = cb.POLL_PREVIEW.pack() if preview else cb.POLL_VOTE.pack(view.id, position)
            rows.append([_button(mark + option, data)])
    if results_visible(view.poll) or not view.is_open:
        data = cb.POLL_PREVIEW.pack() if preview else cb.POLL_RESULTS.pack(view.id)
        rows.append([_button(t.gettext("📊 Results"), data)])
    return InlineKeyboardMarkup(rows)


def poll_payload(t: Translator, view: PollView, zone: tzinfo) -> dict[str, Any]:
    """The outbox payload of a fresh poll message (nobody has voted yet)."""
    from storage.outbox import payload

    tally = Tally((0,) * len(view.options), 0) if view.poll.results_visible else None
    return payload(
        "sendMessage",
        text=poll_text(t, view, zone, 0, tally),
        reply_markup=poll_keyboard(t, view, 0).to_dict(),
    )


# Results -------------------------------------------------------------------------------


def result_lines(t: Translator, view: PollView, tally: Tally) -> list[str]:
    if not results_shown(view.poll.anonymous, tally.voters):
        return [too_few_line(t)]
    lines: list[str] = []
    for position, option in enumerate(view.options):
        share = tally.counts[position] / tally.voters if tally.voters else 0.0
        lines.append("<b>" + html.escape(option) + "</b>")
        lines.append(
            t.gettext("{bar} {count} ({percent}%)").format(
                bar=bar(share), count=tally.counts[position], percent=tally.percent(position)
            )
        )
    return lines


def too_few_line(t: Translator) -> str:
    return t.gettext(
        "🙈 The counts of an anonymous poll are shown once at least {count} members "
        "have voted, so that no single vote can be read from them."
    ).format(count=MIN_GROUP)


def turnout_line(t: Translator, poll: Poll, tally: Tally) -> str:
    if poll.recipients:
        return t.gettext("{voters} of {recipients} members voted ({percent}%).").format(
            voters=tally.voters,
            recipients=poll.recipients,
            percent=round(100 * tally.voters / poll.recipients),
        )
    return t.gettext("Voters: {voters}.").format(voters=tally.voters)


def results_text(t: Translator, view: PollView, tally: Tally, zone: tzinfo) -> str:
    poll = view.poll
    state = (
        t.gettext("Final results")
        if poll.status == PollStatus.CLOSED.value
        else t.gettext("Results so far")
    )
    lines = [
        "📊 <b>" + state + "</b>",
        "🗳 " + html.escape(poll.question),
        "",
        *result_lines(t, view, tally),
        "",
        turnout_line(t, poll, tally),
    ]
    if poll.multiple:
        lines.append(t.gettext("Several options could be chosen; shares are of voters."))
    lines.append(closing_line(t, poll, zone))
    return "\n".join(lines)


def closed_notice(t: Translator, view: PollView, tally: Tally, zone: tzinfo) -> str:
    return (
        t.gettext("🔒 The poll has closed. Thank you for taking part!")
        + "\n\n"
        + (results_text(t, view, tally, zone))
    )


def chart(t: Translator, view: PollView, tally: Tally) -> BarChart:
    poll = view.poll
    footer = turnout_line(t, poll, tally)
    if poll.multiple:
        footer += " " + t.gettext("Several options could be chosen; shares are of voters.")
    return BarChart(poll.question, list(view.options), list(tally.counts), tally.voters, footer)


def chart_caption(t: Translator, view: PollView) -> str:
    return "📊 " + html.escape(view.poll.question)


def breakdown_text(t: Translator, view: PollView, rows: Breakdown) -> str:
    lines = [
        "🏢 <b>" + t.gettext("Results by department") + "</b>",
        "🗳 " + html.escape(view.poll.question),
        t.gettext(
            "Counts under 5 are hidden, and so is any count from which a hidden one "
            "could be worked out, so no vote can be traced."
        ),
    ]
    table = rows.table
    if table.withheld or all(value is None for row in table.cells for value in row):
        lines += ["", t.gettext("Too few votes to show any department without tracing a vote.")]
        return "\n".join(lines)
    hidden = t.gettext("hidden")
    for index, (name, cells) in enumerate(zip(rows.departments, table.cells, strict=True)):
        if all(value is None for value in cells):
            continue  # nothing to tell: listed in the export, left out of the message
        lines.append("")
        voters = rows.voters(index)
        if voters is None:
            lines.append("<b>" + html.escape(name) + "</b>")
        else:
            lines.append(
                t.gettext("<b>{name}</b> — voters: {voters}").format(
                    name=html.escape(name), voters=voters
                )
            )
        for option, value in zip(view.options, cells, strict=True):
            lines.append(
                t.gettext("{option}: {count}").format(
                    option=html.escape(option), count=hidden if value is None else value
                )
            )
    lines += ["", t.gettext("Departments not listed: every count there is hidden.")]
    return "\n".join(lines)


# The draft card --------------------------------------------------------------------------


@dataclass(frozen=True)
class DraftView:
    """What the draft card shows; built by the handler from the conversation's draft."""

    nonce: int
    question: str
    options: Sequence[str]
    multiple: bool
    max_choices: int
    anonymous: bool
    audience: Described
    recipients: int
    closes_at: datetime | None
    closing_hours: int | None  # a preset, or None when typed
    results_visible: bool
    share_results: bool
    remind: bool


def _yes_no(t: Translator, value: bool) -> str:
    return t.gettext("yes") if value else t.gettext("no")


def draft_text(t: Translator, draft: DraftView, zone: tzinfo) -> str:
    _ = t.gettext
    lines = ["<b>" + _("New poll: check the settings") + "</b>", ""]
    lines.append("🗳 <b>" + html.escape(draft.question) + "</b>")
    lines += [f"{i}. {html.escape(option)}" for i, option in enumerate(draft.options, 1)]
    lines.append("")
    if draft.multiple:
        lines.append(_("Type: multiple choice, up to {limit}").format(limit=draft.max_choices))
    else:
        lines.append(_("Type: single choice"))
    lines.append(
        _("Votes: anonymous (this can never be changed to named)")
        if draft.anonymous
        else _("Votes: named (the union sees who voted what)")
    )
    lines.append(
        _("Audience: {audience} ({count} members)").format(
            audience=describe_audience(t, draft.audience), count=draft.recipients
        )
    )
    if draft.closes_at is None:
        lines.append(_("Closes: never (close it by hand)"))
    else:
        lines.append(_("Closes: {when}").format(when=local_time(draft.closes_at, zone)))
    lines.append(
        _("Results visible before closing: {answer}").format(
            answer=_yes_no(t, draft.results_visible)
        )
    )
    lines.append(
        _("Results on closing: to every voter")
        if draft.share_results
        else _("Results on closing: to you only")
    )
    if draft.closes_at is not None:
        lines.append(
            _("Reminder to those who have not voted: {answer}").format(
                answer=_yes_no(t, draft.remind)
            )
        )
    lines += ["", _("Tap a setting to change it, then 👁 Preview.")]
    return "\n".join(lines)


def draft_keyboard(t: Translator, draft: DraftView, zone: tzinfo) -> InlineKeyboardMarkup:
    _ = t.gettext
    n = draft.nonce

    def press(label: str, what: str) -> InlineKeyboardButton:
        return _button(label, cb.POLL_DRAFT.pack(n, what))

    kind = [press(_("🔘 Single choice") if not draft.multiple else _("☑️ Multiple choice"), "kind")]
    if draft.multiple:
        kind.append(press(_("Up to {limit} ➕").format(limit=draft.max_choices), "max"))
    if draft.closes_at is None:
        closing = _("⏰ No closing time")
    elif draft.closing_hours:
        closing = _("⏰ Closes in {duration}").format(duration=duration(t, draft.closing_hours))
    else:
        closing = _("⏰ Closes {when}").format(when=local_time(draft.closes_at, zone))
    rows = [
        kind,
        [press(_("🙈 Anonymous") if draft.anonymous else _("👤 Named"), "anon")],
        [press(_("👥 Audience…"), "aud")],
        [press(closing, "close"), press(_("✏️ Type a time"), "closet")],
        [
            press(
                _("Results before closing: shown")
                if draft.results_visible
                else _("Results before closing: hidden"),
                "vis",
            )
        ],
        [
            press(
                _("Results to voters: yes") if draft.share_results else _("Results to voters: no"),
                "share",
            )
        ],
    ]
    if draft.closes_at is not None:
        rows.append(
            [press(_("🔔 Reminder: yes") if draft.remind else _("🔕 Reminder: no"), "remind")]
        )
    rows.append([press(_("👁 Preview"), "prev")])
    return InlineKeyboardMarkup(rows)


def audience_keyboard(
    t: Translator, nonce: int, items: Sequence[PickerItem]
) -> InlineKeyboardMarkup:
    buttons = [
        _button(
            ("✅ " if item.chosen else "") + item.label,
            cb.POLL_AUDIENCE.pack(nonce, item.source, item.item),
        )
        for item in items
    ]
    rows = [buttons[:1]] + [buttons[i : i + 2] for i in range(1, len(buttons), 2)]
    rows.append([_button(t.gettext("« Back to the settings"), cb.POLL_DRAFT.pack(nonce, "card"))])
    return InlineKeyboardMarkup(rows)


def audience_text(t: Translator, described: Described, count: int) -> str:
    return "\n".join(
        [
            "<b>" + t.gettext("Who may vote?") + "</b>",
            t.gettext("Tap to choose, as many as you like: a member in any chosen group may vote."),
            "",
            t.gettext("Chosen: {audience}").format(audience=describe_audience(t, described)),
            t.gettext("Members: {count}").format(count=count),
        ]
    )


def preview_note(t: Translator, recipients: int, *, anonymous: bool) -> str:
    note = t.gettext(
        "⬆️ This is how members will see the poll (its buttons do nothing here). "
        "It goes to {count} members. Publish it?"
    ).format(count=recipients)
    if anonymous and recipients < MIN_GROUP:
        note += "\n\n" + t.gettext(
            "⚠️ Fewer than {count} members may vote: the counts of an anonymous poll are "
            "shown only once {count} have voted, so this poll may never show any."
        ).format(count=MIN_GROUP)
    return note


def preview_keyboard(t: Translator, nonce: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [_button(t.gettext("✅ Publish"), cb.POLL_DRAFT.pack(nonce, "pub"))],
            [_button(t.gettext("✏️ Back to the settings"), cb.POLL_DRAFT.pack(nonce, "card"))],
        ]
    )


def options_prompt(t: Translator, options: Sequence[str]) -> str:
    lines = [
        t.gettext(
            "Send the answer options, one per message (or several lines in one message). "
            "2 to 10 options; tap ✅ Done when finished."
        )
    ]
    if options:
        lines.append("")
        lines += [f"{i}. {html.escape(o)}" for i, o in enumerate(options, 1)]
    return "\n".join(lines)


# The admin card and the list ------------------------------------------------------------


def manage_text(
    t: Translator, view: PollView, tally: Tally, audience: Described, zone: tzinfo
) -> str:
    poll = view.poll
    _ = t.gettext
    lines = [
        "🗳 <b>" + html.escape(poll.question) + "</b>",
        "",
        kind_line(t, poll, len(view.options)),
        _("Votes: anonymous") if poll.anonymous else _("Votes: named"),
        _("Audience: {audience}").format(audience=describe_audience(t, audience)),
        closing_line(t, poll, zone),
        _("Sent to {count} members.").format(count=poll.recipients),
        turnout_line(t, poll, tally),
    ]
    if poll.remind and poll.reminded_at is not None:
        lines.append(_("Reminder sent on {when}.").format(when=local_time(poll.reminded_at, zone)))
    elif poll.remind and poll.remind_at is not None and view.is_open:  # none after closing
        lines.append(_("Reminder due on {when}.").format(when=local_time(poll.remind_at, zone)))
    return "\n".join(lines)


def manage_keyboard(t: Translator, view: PollView) -> InlineKeyboardMarkup:
    _ = t.gettext
    pid = view.id
    rows = [
        [
            _button(_("📊 Results"), cb.POLL_RESULTS.pack(pid)),
            _button(_("🏢 By department"), cb.POLL_BREAKDOWN.pack(pid)),
        ],
        [_button(_("📥 Export XLSX"), cb.POLL_EXPORT.pack(pid))],
    ]
    if view.is_open:
        rows.append(
            [
                _button("⏰ +" + duration(t, hours), cb.POLL_EXTEND.pack(pid, hours))
                for hours in EXTEND_CHOICES
            ]
        )
        rows.append([_button(_("🔒 Close now"), cb.POLL_CLOSE.pack(pid))])
    rows.append(
        [
            _button(_("🗑 Delete"), cb.POLL_DELETE.pack(pid)),
            _button(_("« Polls"), cb.POLL_LIST.pack()),
        ]
    )
    return InlineKeyboardMarkup(rows)


def confirm_keyboard(t: Translator, confirm: str, back: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[_button(t.gettext("Yes"), confirm), _button(t.gettext("« Back"), back)]]
    )


def list_text(t: Translator, found: Sequence[PollSummary], zone: tzinfo, can_create: bool) -> str:
    _ = t.gettext
    lines = ["🗳 <b>" + _("Polls") + "</b>", ""]
    if not found:
        lines.append(_("There are no open or recent polls for you."))
    for summary in found:
        if summary.is_open:
            state = (
                _("open until {when}").format(when=local_time(summary.closes_at, zone))
                if (summary.closes_at)
                else _("open")
            )
        else:
            state = _("closed")
        voted = _("✅ voted") if summary.voted else _("not voted")
        lines.append(
            _("• {question} — {state}, {voted}").format(
                question=html.escape(summary.question), state=state, voted=voted
            )
        )
    if can_create:
        lines += ["", _("Tap ➕ New poll to ask the members something.")]
    return "\n".join(lines)


def list_keyboard(
    t: Translator, found: Sequence[PollSummary], can_create: bool, is_admin: bool
) -> InlineKeyboardMarkup | None:
    rows = []
    for summary in found:
        icon = "🗳 " if summary.is_open else "📊 "
        row = [_button(icon + summary.question, cb.POLL_OPEN.pack(summary.id))]
        if summary.manageable:
            row.append(InlineKeyboardButton("⚙️", callback_data=cb.POLL_MANAGE.pack(summary.id)))
        rows.append(row)
    if can_create:
        rows.append([_button(t.gettext("➕ New poll"), cb.POLL_NEW.pack())])
    if is_admin:
        rows.append([_button(t.gettext("⚙️ Poll settings"), cb.POLL_SETTINGS.pack())])
    return InlineKeyboardMarkup(rows) if rows else None


def settings_text(t: Translator, cadres_may_create: bool) -> str:
    _ = t.gettext
    return "\n".join(
        [
            "🗳 <b>" + _("Polls: settings") + "</b>",
            "",
            _("Admins can always create polls. Cadres may create polls too.")
            if cadres_may_create
            else _("Admins can always create polls. Cadres may not create polls."),
        ]
    )


def settings_keyboard(t: Translator, cadres_may_create: bool) -> InlineKeyboardMarkup:
    _ = t.gettext
    label = (
        _("✅ Cadres may create polls (tap to forbid)")
        if cadres_may_create
        else _("❌ Cadres may not create polls (tap to allow)")
    )
    return InlineKeyboardMarkup(
        [
            [_button(label, cb.POLL_CADRES.pack(0 if cadres_may_create else 1))],
            [_button(_("🗳 Polls"), cb.POLL_LIST.pack())],
            [_button(_("« Admin panel"), cb.ADMIN_HOME.pack())],
        ]
    )


# The export ------------------------------------------------------------------------------


def export_xlsx(
    t: Translator,
    view: PollView,
    tally: Tally,
    zone: tzinfo,
    votes: Sequence[NamedVote] | None,
    departments: Breakdown | None,
) -> sheets.Book:
    """A workbook: totals, results by department, and — for a named poll only — who
    voted what. An anonymous poll's workbook has totals only; it has nothing more."""
    _ = t.gettext
    poll = view.poll
    book = sheets.Book()
    totals = book.sheet(_("Totals"))
    totals.row([_("Question"), poll.question])
    totals.row([_("Type"), kind_line(t, poll, len(view.options))])
    totals.row([_("Votes"), _("anonymous") if poll.anonymous else _("named")])
    totals.row([_("Members asked"), poll.recipients])
    totals.row([_("Voters"), tally.voters])
    totals.row([])
    totals.header([_("Option"), _("Votes"), _("Share of voters (%)")])
    if results_shown(poll.anonymous, tally.voters):
        for position, option in enumerate(view.options):
            totals.row([option, tally.counts[position], tally.percent(position)])
    else:
        totals.row([too_few_line(t)])
    totals.widths(40)

    sheet = book.sheet(_("By department"))
    if departments is None:
        sheet.row([_("Results by department are shown once the poll has closed.")])
    else:
        _department_sheet(t, sheet, view, departments)
    sheet.widths(30)

    if votes is not None:
        named = book.sheet(_("Who voted what"))
        named.header([_("Name"), _("Department"), *view.options, _("Last change")])
        for vote in votes:
            marks = ["✓" if i in vote.positions else "" for i in range(len(view.options))]
            named.row(
                [
                    vote.name if vote.name is not None else _("(deleted their data)"),
                    vote.department or "",
                    *marks,
                    local_time(vote.at, zone),
                ]
            )
        named.widths(20, 20)
    return book


def _department_sheet(
    t: Translator, sheet: sheets.Sheet, view: PollView, departments: Breakdown
) -> None:
    _ = t.gettext
    sheet.header([_("Department"), _("Voters"), *view.options])
    hidden = _("hidden")
    table = departments.table
    for index, (name, cells) in enumerate(zip(departments.departments, table.cells, strict=True)):
        voters = departments.voters(index)
        shown_voters: str | int = "" if table.row_totals is None else voters or hidden
        sheet.row([name, shown_voters, *(hidden if value is None else value for value in cells)])
    sheet.row([])
    sheet.row(
        [
            _(
                "Counts under 5 are hidden, and so is any count from which a hidden one "
                "could be worked out, so no vote can be traced."
            )
        ]
    )


def export_name(view: PollView) -> str:
    return f"poll-{view.id}.xlsx"
