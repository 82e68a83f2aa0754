"""How the roster import and joining with a one-time code read: texts, keyboards, the code list."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core import dates
from core.i18n import N_, Translator
from display import callbacks as cb
from display.membership import format_birthday
from display.sheets import Book
from storage import roster_rules as rules
from storage.roster import Applied, IssuedCode, Preview, Why
from storage.roster_rules import RowError

COLUMN_NAMES = {
    rules.NAME: N_("name"),
    rules.DEPARTMENT: N_("department"),
    rules.EMPLOYEE_NO: N_("employee number"),
    rules.BIRTHDAY: N_("birthday"),
    rules.TAGS: N_("tags"),
}

PROBLEMS = {
    "empty": N_("missing"),
    "too_long": N_("too long"),
    "control": N_("characters that cannot be stored"),
    "command": N_("must not begin with /"),
    "format": N_("not a date (write it like 1990-05-03)"),
    "no_such_date": N_("no such date"),
    "future": N_("in the future"),
    "implausible": N_("not a plausible date of birth"),
    "tag_chars": N_("a tag may contain letters, digits and dashes only"),
    "duplicate": N_("the same employee number as an earlier row"),
    "too_many_tags": N_("more than {limit} tags"),
}

REFUSALS = {
    "format": N_(
        "This is not a CSV or XLSX file I can read. Please send the roster as .csv or .xlsx."
    ),
    "size": N_("The file is larger than 10 MB. Please split the roster into smaller files."),
    "rows": N_("The file has more than {limit} rows. Please split the roster into smaller files."),
    "encoding": N_(
        "I could not read the file's text: it is neither UTF-8 nor GBK. Please save it "
        "again as “CSV UTF-8”."
    ),
    "formula": N_(
        "Cell {detail} holds a formula. I read values only and never run formulas: "
        "please paste the values (Paste special → Values) and send the file again."
    ),
    "header": N_(
        "The first row must name the columns: 姓名 (name), 部门 (department) and 工号 "
        "(employee number), optionally 生日 (birthday) and 标签 (tags), each once. "
        "Problem: {detail}"
    ),
    "empty": N_("The file has no rows to import."),
}

JOIN_REFUSALS = {
    Why.RATE: N_("Too many wrong codes. Please wait an hour and try again."),
    Why.WRONG: N_("That code is not right. Please check it and send /start with the code again."),
    Why.USED: N_("That code has already been used. Please ask the union for a new one."),
    Why.EXPIRED: N_("That code has expired. Please ask the union for a new one."),
    Why.MEMBER: N_("You are already registered."),
}

APPLY_LABEL = N_("✅ Apply")
APPLY_REMOVE_LABEL = N_("🗑 Apply and remove the missing")


def prompt(t: Translator, on_roster: int) -> str:
    return "\n".join(
        [
            "<b>" + t.gettext("📋 Roster import") + "</b>",
            t.gettext("People on the roster now: {count}").format(count=on_roster),
            "",
            t.gettext(
                "Send the roster as a CSV or XLSX file. The first row names the columns: "
                "姓名 (name), 部门 (department), 工号 (employee number), and optionally "
                "生日 (birthday) and 标签 (tags, separated by commas). Nothing changes "
                "until you confirm."
            ),
        ]
    )


def refusal(t: Translator, reason: str, detail: str = "") -> str:
    text = t.gettext(REFUSALS.get(reason, REFUSALS["format"]))
    detail_text = t.gettext(", ").join(
        t.gettext(COLUMN_NAMES[part.strip()]) if part.strip() in COLUMN_NAMES else part
        for part in detail.split(",")
    )
    return text.format(limit=rules.MAX_ROWS, detail=escape(detail_text))


def errors(t: Translator, found: list[RowError]) -> str:
    lines = [
        t.gettext(
            "Errors found: {count}. Nothing was imported. Please correct the file and "
            "send it again:"
        ).format(count=len(found)),
        "",
    ]
    for error in found[: rules.ERRORS_SHOWN]:
        lines.append(
            t.gettext("Row {row}, {column}: {problem}").format(
                row=error.row,
                column=t.gettext(COLUMN_NAMES[error.column]),
                problem=t.gettext(PROBLEMS.get(error.code, PROBLEMS["format"])).format(
                    limit=rules.MAX_TAGS
                ),
            )
        )
    more = len(found) - rules.ERRORS_SHOWN
    if more > 0:
        lines.append(t.gettext("…and {count} more errors.").format(count=more))
    return "\n".join(lines)


def preview(t: Translator, rows: int, changes: Preview) -> str:
    lines = [
        "<b>"
        + t.gettext("Roster file checked: {rows} rows, no errors.").format(rows=rows)
        + "</b>",
        "",
        t.gettext("New: {count}").format(count=changes.new),
        t.gettext("Updated: {count}").format(count=changes.updated),
    ]
    if changes.updated:
        lines.append(
            t.gettext(
                "Joined members to update: {count} (name, department and tags as in this "
                "file; a birthday a member entered or corrected themselves is kept)"
            ).format(count=changes.members_updated)
        )
    lines += [
        t.gettext("Unchanged: {count}").format(count=changes.unchanged),
        t.gettext("On the roster but not in this file: {count}").format(count=changes.absent),
    ]
    if changes.absent:
        lines.append(
            t.gettext("Of those, members who joined: {count}").format(count=changes.absent_joined)
        )
    for label, names, total in (
        (N_("Updated: {names}"), changes.updated_names, changes.updated),
        (N_("Not in this file: {names}"), changes.absent_names, changes.absent),
    ):
        if names:
            shown = t.gettext(", ").join(escape(n) for n in names)
            if total > len(names):
                shown += t.gettext("…")
            lines.append(t.gettext(label).format(names=shown))
    lines.append("")
    if changes.absent:
        lines.append(
            t.gettext(
                "Tap ✅ Apply to keep those not in the file, or 🗑 Apply and remove the "
                "missing to take them off the roster. Those who joined stay members with "
                "their details and tags; only their link to the roster is removed."
            )
        )
    else:
        lines.append(t.gettext("Tap ✅ Apply to save the changes."))
    return "\n".join(lines)


def applied(t: Translator, done: Applied, code_days: int) -> str:
    lines = [
        t.gettext("The roster is saved: {new} new, {updated} updated, {removed} removed.").format(
            new=done.preview.new, updated=done.preview.updated, removed=done.removed
        )
    ]
    if done.preview.members_updated:
        lines.append(
            t.gettext("Joined members updated: {count}.").format(count=done.preview.members_updated)
        )
    if done.codes:
        lines.append(
            t.gettext(
                "Attached: the list of new one-time codes ({count}). Hand each person "
                "their own code; each works once, for {days} days."
            ).format(count=len(done.codes), days=code_days)
        )
    return "\n".join(lines)


def codes_filename(t: Translator, today: date) -> str:
    return t.gettext("roster-codes") + f"-{today.isoformat()}.xlsx"


def codes_book(
    t: Translator,
    codes: list[IssuedCode],
    *,
    expires: datetime,
    zone: tzinfo,
    bot_username: str | None,
) -> Book:
    """The printable list: one row a person, their code and the link that opens it."""
    book = Book(t.gettext("One-time codes"))
    sheet = book.sheet(t.gettext("One-time codes"))
    sheet.header(
        [
            t.gettext("Name"),
            t.gettext("Department"),
            t.gettext("Employee number"),
            t.gettext("Code"),
            t.gettext("Valid until"),
            t.gettext("Link"),
        ]
    )
    until = dates.day_text(expires, zone)
    for issued in codes:
        link = f"https://t.me/{bot_username}?start=join_{issued.code}" if bot_username else ""
        sheet.row([issued.name, issued.department, issued.employee_no, issued.code, until, link])
    sheet.widths(16, 16, 16, 12, 12, 44)
    sheet.freeze_header()
    return book


def join_text(t: Translator, name: str, department: str, birthday: date | None) -> str:
    lines = [
        "<b>" + t.gettext("Your code is valid. The union's roster has you as:") + "</b>",
        "",
        t.gettext("Name: {name}").format(name=escape(name)),
        t.gettext("Department: {department}").format(department=escape(department)),
    ]
    if birthday is not None:
        lines.append(
            t.gettext("Birthday: {birthday}").format(birthday=format_birthday(t, birthday))
        )
    lines += ["", t.gettext("Is this you? Tap ✅ to register with these details.")]
    return "\n".join(lines)


def join_keyboard(t: Translator, code: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t.gettext("✅ Yes, register me"), callback_data=cb.ROSTER_JOIN.pack(code)
                ),
                InlineKeyboardButton(t.gettext("✖️ Not me"), callback_data=cb.ROSTER_JOIN_NO.pack()),
            ]
        ]
    )


def join_refusal(t: Translator, why: Why) -> str:
    return t.gettext(JOIN_REFUSALS[why])
