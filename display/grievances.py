"""How grievances read: cards, threads, receipts, notices, lists, statistics, the XLSX export.

Every function takes a `Translator` (not a scope) because jobs render too: the
same card text serves the first post, an edit in place, an SLA re-post and a
test. Member text is always escaped; nothing here ever names the member who
wrote a case (signatures aside, which the member chose).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core import dates
from core.i18n import N_, Translator
from display import callbacks as cb
from display import sheets
from storage import grievance_rules as rules
from storage.grievance_rules import Escalation, Refusal, ReopenRefusal, SettingProblem, Urgency
from storage.grievances import AuditLine, Stats
from storage.models import Grievance, GrievanceCategory, GrievanceMessage
from storage.models import GrievanceStatus as Status

SUBMIT_LABEL = N_("📝 Submit a grievance")
MY_CASES_LABEL = N_("📂 My cases")
TEXT_ONLY_LABEL = N_("📝 Send text only")
DONE_LABEL = N_("✅ Done adding")
SEND_LABEL = N_("✅ Send anonymously")
EDIT_LABEL = N_("✏️ Edit the text")
FINISHED_LABEL = N_("✅ Done")

CATEGORY_NAMES: dict[str, str] = {
    "wages": N_("💰 Wages"),
    "safety": N_("⛑ Safety"),
    "workload": N_("⏱ Workload"),
    "canteen": N_("🍚 Canteen"),
    "harassment": N_("🚫 Harassment"),
    "other": N_("📌 Other"),
}
URGENCY_NAMES: dict[Urgency, str] = {
    Urgency.NORMAL: N_("🟢 Normal"),
    Urgency.URGENT: N_("🔴 Urgent"),
}
STATUS_NAMES: dict[Status, str] = {
    Status.NEW: N_("🔔 New, waiting to be taken"),
    Status.TAKEN: N_("👤 Taken by a cadre"),
    Status.ANSWERED: N_("💬 Answered"),
    Status.RESOLVED: N_("✅ Resolved"),
    Status.CLOSED: N_("🔒 Closed by the member"),
}
ESCALATION_NAMES: dict[Escalation, str] = {
    Escalation.MANUAL: N_("escalated by a cadre"),
    Escalation.SAFETY: N_("urgent safety case"),
    Escalation.TAKE: N_("not taken in time"),
    Escalation.ANSWER: N_("not answered in time"),
}
KIND_NAMES: dict[str, str] = {
    "photo": N_("📷 photo"),
    "document": N_("📄 document"),
    "voice": N_("🎙 voice note"),
}
AUDIT_NAMES: dict[str, str] = {
    "posted": N_("posted"),
    "took": N_("took the case"),
    "replied": N_("replied"),
    "resolved": N_("resolved"),
    "escalated": N_("escalated"),
    "muted": N_("muted"),
    "unmuted": N_("unmuted"),
    "member_closed": N_("the member closed it"),
    "member_signed": N_("the member signed it"),
    "rated": N_("the member rated it"),
    "reopened": N_("the member reopened it"),
    "sla": N_("deadline missed, escalated"),
}
MUTE_LABELS: dict[int, str] = {1: N_("🔇 1 day"), 7: N_("🔇 7 days"), 30: N_("🔇 30 days")}
LINE = "━━━━━━━━━━"


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data)


def when(moment: datetime | None, tz: ZoneInfo) -> str:
    return dates.minute(moment, tz) if moment else "—"


def category_name(t: Translator, category: GrievanceCategory | None) -> str:
    if category is None:
        return "—"
    if category.name:
        return category.name
    return t.gettext(CATEGORY_NAMES.get(category.slug or "", N_("📌 Other")))


def urgency_name(t: Translator, urgency: str) -> str:
    return t.gettext(URGENCY_NAMES[Urgency(urgency)])


def status_name(t: Translator, status: str) -> str:
    return t.gettext(STATUS_NAMES[Status(status)])


def kind_name(t: Translator, kind: str) -> str:
    return t.gettext(KIND_NAMES[kind])


# The card in the cadre group -----------------------------------------------------


def privacy_text(t: Translator, retention_days: int) -> str:
    """What anonymity means here, in plain words: seen by cadres, stored, destroyed."""
    return "\n".join(
        [
            "🔒 <b>" + t.gettext("How your grievance stays anonymous") + "</b>",
            "• "
            + t.gettext(
                "What cadres see: the case code, its category and urgency, what you write "
                "and your attachments (documents under neutral names, without their hidden "
                "details). Never your name, your account or your department."
            ),
            "• "
            + t.gettext(
                "Your name reaches cadres only if you choose to sign a case in 📂 My cases, "
                "and then on that case alone."
            ),
            "• "
            + t.gettext(
                "Statistics count cases by department only for finished months, and never "
                "show a count under 5."
            ),
            "• "
            + t.gettext(
                "What is stored: the link between you and your case is encrypted with a key "
                "only the bot holds, so a copy of the database alone cannot lead to you."
            ),
            "• "
            + t.gettext(
                "When the link is destroyed: {days} days after the case is closed, or at "
                "once when you delete your data with /forget. After that nobody, not even "
                "the union, can tell the case was yours."
            ).format(days=retention_days),
        ]
    )


def card_text(
    t: Translator,
    tz: ZoneInfo,
    case: Grievance,
    *,
    body: str,
    attachments: int,
    cadre: str | None,
    signature: str | None,
    now: datetime,
    note: str | None = None,
) -> str:
    """Code, category, urgency, time, text, and the status line that is edited in place."""
    status = Status(case.status)
    lines = []
    if note:
        lines += [note, ""]
    lines += [
        f"📝 <b>{case.code}</b> · {escape(category_name(t, case.category))} · "
        + urgency_name(t, case.urgency),
        t.gettext("🕒 Received {time}").format(time=when(case.created_at, tz)),
    ]
    if signature:
        lines.append(t.gettext("✍️ Signed by the member: {name}").format(name=escape(signature)))
    lines += [LINE, escape(body), LINE]
    if attachments:
        lines.append(t.gettext("📎 Attachments: {count} (below)").format(count=attachments))
    state = status_name(t, status)
    if cadre and status in rules.OPEN and status is not Status.NEW:
        state += " · " + escape(cadre)
    lines.append(t.gettext("Status: {status}").format(status=state))
    if status is Status.NEW:
        lines.append(t.gettext("Take by {time}").format(time=when(case.take_due_at, tz)))
    if status in rules.OPEN and case.answered_at is None:
        lines.append(t.gettext("Answer by {time}").format(time=when(case.answer_due_at, tz)))
    if case.escalated_at is not None and case.escalation:
        lines.append(
            t.gettext("⬆️ Escalated: {why}").format(
                why=t.gettext(ESCALATION_NAMES[Escalation(case.escalation)])
            )
        )
    if case.muted_until is not None and case.muted_until > now:
        lines.append(
            t.gettext("🔇 Muted until {time}: the sender cannot open new cases").format(
                time=when(case.muted_until, tz)
            )
        )
    if case.rating is not None:
        lines.append(t.gettext("⭐ Rated {stars}/5 by the member").format(stars=case.rating))
    if status in rules.OPEN:
        lines.append(t.gettext("↩️ Reply to this message to answer the member."))
    elif status is Status.RESOLVED:
        lines.append(t.gettext("✅ This case is resolved; it no longer takes replies."))
    else:
        lines.append(t.gettext("🔒 The member closed this case; it no longer takes replies."))
    return "\n".join(lines)


def card_keyboard(t: Translator, case: Grievance, now: datetime) -> InlineKeyboardMarkup | None:
    status = Status(case.status)
    muted = case.muted_until is not None and case.muted_until > now
    first: list[InlineKeyboardButton] = []
    if status is Status.NEW:
        first.append(_button(t.gettext("✋ Take"), cb.GRIEVANCE_TAKE.pack(case.id)))
    if status in rules.OPEN:
        first.append(_button(t.gettext("💬 Reply"), cb.GRIEVANCE_REPLY.pack(case.id)))
    second: list[InlineKeyboardButton] = []
    if status in rules.OPEN:
        second.append(_button(t.gettext("✅ Resolve"), cb.GRIEVANCE_RESOLVE.pack(case.id)))
        if case.escalated_at is None:
            second.append(_button(t.gettext("⬆️ Escalate"), cb.GRIEVANCE_ESCALATE.pack(case.id)))
    if muted:
        second.append(_button(t.gettext("🔊 Unmute"), cb.GRIEVANCE_UNMUTE.pack(case.id)))
    else:
        second.append(_button(t.gettext("🔇 Mute"), cb.GRIEVANCE_MUTE.pack(case.id, 0)))
    rows = [row for row in (first, second) if row]
    return InlineKeyboardMarkup(rows) if rows else None


def mute_keyboard(t: Translator, case: Grievance) -> InlineKeyboardMarkup:
    choices = [
        _button(t.gettext(MUTE_LABELS[days]), cb.GRIEVANCE_MUTE.pack(case.id, days))
        for days in rules.MUTE_DAYS
    ]
    return InlineKeyboardMarkup(
        [choices, [_button(t.gettext("« Back"), cb.GRIEVANCE_CARD.pack(case.id))]]
    )


def resolve_keyboard(t: Translator, case: Grievance) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                _button(t.gettext("✅ Yes, resolved"), cb.GRIEVANCE_RESOLVE_CONFIRM.pack(case.id)),
                _button(t.gettext("« Back"), cb.GRIEVANCE_CARD.pack(case.id)),
            ]
        ]
    )


def attachment_caption(
    t: Translator, code: str, index: int, total: int, caption: str | None
) -> str:
    head = t.gettext("📎 {code} · attachment {index}/{total}").format(
        code=code, index=index, total=total
    )
    return head + ("\n" + escape(caption) if caption else "")


def member_message_text(t: Translator, code: str, body: str, *, edited: bool = False) -> str:
    head = t.gettext("💬 {code} · the member writes:").format(code=code)
    tail = "\n\n" + t.gettext("✏️ edited by the member") if edited else ""
    return f"{head}\n{escape(body)}{tail}"


def member_file_caption(
    t: Translator, code: str, kind: str, caption: str | None, *, edited: bool = False
) -> str:
    head = t.gettext("💬 {code} · the member sent a {kind}").format(
        code=code, kind=kind_name(t, kind)
    )
    tail = "\n" + t.gettext("✏️ edited by the member") if edited else ""
    return head + ("\n" + escape(caption) if caption else "") + tail


def member_own_file_caption(t: Translator, code: str, kind: str, caption: str | None) -> str:
    """A member's file sent back to them from 📂 My cases."""
    head = t.gettext("📎 {code} · your {kind}").format(code=code, kind=kind_name(t, kind))
    return head + ("\n" + escape(caption) if caption else "")


def reply_prompt(t: Translator, code: str, cadre_id: int, cadre_name: str) -> str:
    """The prompt after 💬 Reply, mentioning the cadre who pressed.

    The mention is what makes a selective ForceReply reach that cadre alone:
    a prompt after a button press replies to no message of theirs.
    """
    mention = f'<a href="tg://user?id={int(cadre_id)}">{escape(cadre_name)}</a>'
    return t.gettext(
        "✍️ {code} · {cadre}: write your answer as a reply to this message. "
        "The member receives it from “the union”, without your name."
    ).format(cadre=mention, code=code)


def unreplied_text(t: Translator, code: str) -> str:
    """After 💬 Reply, the cadre wrote without replying: it went nowhere, and this says so."""
    return t.gettext(
        "⚠️ This was not passed on to the member of {code}: only replies to the case's "
        "messages are. Pass it on as the union's answer?"
    ).format(code=code)


def pass_on_keyboard(t: Translator, case: Grievance) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                _button(
                    t.gettext("✉️ Pass it on to {code}").format(code=case.code),
                    cb.GRIEVANCE_PASS_ON.pack(case.id),
                ),
                _button(t.gettext("No, it was not for the member"), cb.GRIEVANCE_PASS_ON.pack(0)),
            ]
        ]
    )


def group_notice(t: Translator, code: str, what: str) -> str:
    return f"<b>{code}</b> · {what}"


# What the member sees --------------------------------------------------------------


def union_reply_text(t: Translator, code: str, body: str) -> str:
    return "\n".join(
        [
            t.gettext("🏛 The union replied on your case {code}:").format(code=code),
            "",
            escape(body),
            "",
            t.gettext("↩️ Reply to this message to answer."),
        ]
    )


def union_file_caption(t: Translator, code: str, caption: str | None) -> str:
    head = t.gettext("🏛 The union sent this on your case {code}.").format(code=code)
    return head + ("\n" + escape(caption) if caption else "")


NOTICES: dict[str, str] = {
    "taken": N_(
        "👤 Your case {code} has been taken up by a union cadre. "
        "You will get an answer by {time} at the latest."
    ),
    "escalated": N_(
        "⬆️ Your case {code} has been passed on to the higher-level union so it gets "
        "the attention it needs. You will hear from us here."
    ),
    "resolved": N_(
        "✅ The union has marked your case {code} as resolved. "
        "How satisfied are you with the outcome? Tap 1 to 5 stars."
    ),
    "waiting": N_(
        "⏳ Your case {code} is safe with us, but the cadres' group cannot receive it "
        "right now. The admins have been told; it will be passed on as soon as possible."
    ),
}


def notice(t: Translator, event: str, code: str, tz: ZoneInfo, moment: datetime | None) -> str:
    return t.gettext(NOTICES[event]).format(code=code, time=when(moment, tz))


def rating_keyboard(t: Translator, case_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[_button(f"{stars}⭐", cb.GRIEVANCE_RATE.pack(case_id, stars)) for stars in range(1, 6)]]
    )


def summary_text(t: Translator, category: str, urgency: str, body: str, attachments: int) -> str:
    return "\n".join(
        [
            "<b>" + t.gettext("Please check your grievance:") + "</b>",
            "",
            t.gettext("Category: {category}").format(category=escape(category)),
            t.gettext("Urgency: {urgency}").format(urgency=urgency_name(t, urgency)),
            t.gettext("Attachments: {count}").format(count=attachments),
            LINE,
            escape(body),
            LINE,
            t.gettext(
                "It goes to the union's cadres without your name: they see only a case "
                "code. Tap ✅ Send anonymously, ✏️ Edit the text, or ✖️ Cancel."
            ),
        ]
    )


def receipt_text(t: Translator, tz: ZoneInfo, case: Grievance, *, escalated: bool) -> str:
    lines = [
        t.gettext("✅ Sent anonymously. Your case code is <b>{code}</b>.").format(code=case.code),
        "",
        t.gettext(
            "What happens next: a union cadre takes up your case by {take} and answers "
            "by {answer} at the latest. If that does not happen, it goes to the "
            "higher-level union automatically."
        ).format(take=when(case.take_due_at, tz), answer=when(case.answer_due_at, tz)),
    ]
    if escalated:
        lines.append(
            t.gettext("Because it is an urgent safety case, the higher-level union has it too.")
        )
    lines += [
        "",
        t.gettext(
            "We will tell you here at every step. In 📂 My cases you can follow it, "
            "add messages or close it."
        ),
    ]
    return "\n".join(lines)


def refusal_text(
    t: Translator, tz: ZoneInfo, refusal: Refusal, until: datetime | None, limit: int
) -> str:
    if refusal is Refusal.MUTED:
        return t.gettext(
            "Sorry, you cannot open new cases until {time}: the union paused them after "
            "messages it could not work with. In an emergency, please speak to your "
            "union representative directly."
        ).format(time=when(until, tz))
    return t.gettext(
        "You have already opened {limit} cases today, the most the union takes from one "
        "person in a day so that every case gets proper attention. You can add to your "
        "open cases in 📂 My cases, or open a new one tomorrow."
    ).format(limit=limit)


OFFER_MAX = 3  # cases offered at once for a member's plain text


def offer_text(t: Translator, cases: Sequence[Grievance]) -> str:
    """Asking whether plain text (not a reply) belongs to a case the union just answered."""
    if len(cases) == 1:
        return t.gettext(
            "Add this message to your case {code}? The union answered it recently; "
            "it is passed on anonymously, like a reply."
        ).format(code=cases[0].code)
    return t.gettext(
        "Add this message to one of your cases the union answered recently? "
        "It is passed on anonymously, like a reply."
    )


def offer_keyboard(t: Translator, cases: Sequence[Grievance]) -> InlineKeyboardMarkup:
    rows = [
        [
            _button(
                t.gettext("✉️ Yes, add it to {code}").format(code=c.code),
                cb.GRIEVANCE_OFFER.pack(c.id),
            )
        ]
        for c in cases
    ]
    rows.append([_button(t.gettext("No, thanks"), cb.GRIEVANCE_OFFER.pack(0))])
    return InlineKeyboardMarkup(rows)


def my_cases_text(t: Translator, cases: Sequence[Grievance]) -> str:
    if not cases:
        return t.gettext(
            "You have no cases. Tap 📝 Submit a grievance to send one; it stays anonymous."
        )
    return (
        "<b>"
        + t.gettext("📂 Your cases")
        + "</b>\n\n"
        + t.gettext("Open cases first. Tap one to see its thread.")
    )


def my_cases_keyboard(t: Translator, cases: Sequence[Grievance]) -> InlineKeyboardMarkup | None:
    ordered = sorted(cases, key=lambda c: (Status(c.status) not in rules.OPEN, -c.id))
    rows = [
        [
            _button(
                f"{c.code} · {category_name(t, c.category)} · {status_name(t, c.status)}"[:60],
                cb.GRIEVANCE_VIEW.pack(c.id),
            )
        ]
        for c in ordered[:30]
    ]
    return InlineKeyboardMarkup(rows) if rows else None


def thread_lines(
    t: Translator,
    tz: ZoneInfo,
    case: Grievance,
    messages: Sequence[GrievanceMessage],
    bodies: dict[int, str | None],
    *,
    member_view: bool,
    limit: int = 2800,
) -> list[str]:
    """The newest messages that fit, oldest of them first."""
    out: list[str] = []
    used = 0
    for message in reversed(messages):
        who = (
            t.gettext("You")
            if member_view and message.author == "member"
            else t.gettext("The union")
            if message.author == "union"
            else t.gettext("Member")
        )
        body = bodies.get(message.id) or ""
        if len(body) > 400:
            body = body[:400] + "…"
        content = escape(body)
        if message.kind != "text":
            content = kind_name(t, message.kind) + (" · " + content if content else "")
        line = f"<b>{who}</b> · {when(message.created_at, tz)}\n{content}"
        if used + len(line) > limit:
            out.append(t.gettext("… earlier messages not shown"))
            break
        out.append(line)
        used += len(line)
    return list(reversed(out))


def member_case_text(
    t: Translator, tz: ZoneInfo, case: Grievance, lines: list[str], *, signed: bool
) -> str:
    head = [
        f"📝 <b>{case.code}</b> · {escape(category_name(t, case.category))} · "
        + urgency_name(t, case.urgency),
        t.gettext("Sent {time}").format(time=when(case.created_at, tz)),
        t.gettext("Status: {status}").format(status=status_name(t, case.status)),
    ]
    if signed:
        head.append(t.gettext("✍️ You signed this case with your name."))
    if case.rating is not None:
        head.append(t.gettext("⭐ Your rating: {stars}/5").format(stars=case.rating))
    return "\n".join([*head, LINE, "\n\n".join(lines)])


def member_case_keyboard(
    t: Translator, case: Grievance, *, signed: bool, files: int = 0, reopen: bool = False
) -> InlineKeyboardMarkup:
    """The member's buttons on their case; ``files``: their attachments, ``reopen``: whether
    the case may be reopened now (`storage.grievances.reopen_refusal`)."""
    status = Status(case.status)
    rows: list[list[InlineKeyboardButton]] = []
    if files:
        rows.append(
            [
                _button(
                    t.gettext("📎 My attachments ({count})").format(count=files),
                    cb.GRIEVANCE_FILES.pack(case.id),
                )
            ]
        )
    if reopen:
        rows.append([_button(t.gettext("🔄 Reopen the case"), cb.GRIEVANCE_REOPEN.pack(case.id))])
    if status in rules.OPEN:
        rows.append(
            [
                _button(t.gettext("➕ Add a message"), cb.GRIEVANCE_ADD.pack(case.id)),
                _button(t.gettext("🔒 Close case"), cb.GRIEVANCE_CLOSE.pack(case.id)),
            ]
        )
        if not signed:
            rows.append(
                [_button(t.gettext("✍️ Sign with my name"), cb.GRIEVANCE_SIGN.pack(case.id))]
            )
    elif case.rating is None:
        rows.append(rating_keyboard(t, case.id).inline_keyboard[0])  # type: ignore[arg-type]
    rows.append([_button(t.gettext("« My cases"), cb.GRIEVANCE_MY_CASES.pack())])
    return InlineKeyboardMarkup(rows)


FILES_PER_ROW = 5


def member_files_text(
    t: Translator, case: Grievance, files: Sequence[GrievanceMessage], bodies: dict[int, str | None]
) -> str:
    """The member's own attachments of a case, numbered as the buttons under it."""
    lines = [
        "<b>" + t.gettext("📎 Your attachments to {code}").format(code=case.code) + "</b>",
        t.gettext("Tap a number and the bot sends you the file again, as the cadres got it."),
        "",
    ]
    for number, message in enumerate(files, start=1):
        caption = bodies.get(message.id)
        line = f"{number}. {kind_name(t, message.kind)}"
        if caption:
            line += " · " + escape(caption[:80])
        lines.append(line)
    return "\n".join(lines)


def member_files_keyboard(
    t: Translator, case: Grievance, files: Sequence[GrievanceMessage]
) -> InlineKeyboardMarkup:
    buttons = [
        _button(str(number), cb.GRIEVANCE_FILE.pack(case.id, message.seq))
        for number, message in enumerate(files, start=1)
    ]
    rows = [buttons[i : i + FILES_PER_ROW] for i in range(0, len(buttons), FILES_PER_ROW)]
    rows.append([_button(t.gettext("« Back"), cb.GRIEVANCE_VIEW.pack(case.id))])
    return InlineKeyboardMarkup(rows)


def reopen_offer_keyboard(t: Translator, case_id: int) -> InlineKeyboardMarkup:
    """Under the thanks for a low rating: the problem is not solved, so reopen it."""
    return InlineKeyboardMarkup(
        [[_button(t.gettext("🔄 Reopen the case"), cb.GRIEVANCE_REOPEN.pack(case_id))]]
    )


REOPEN_REFUSALS: dict[ReopenRefusal, str] = {
    ReopenRefusal.NOT_RESOLVED: N_("Only a case the union resolved can be reopened."),
    ReopenRefusal.TOO_LATE: N_(
        "This case was resolved more than {days} days ago, so it can no longer be "
        "reopened. If the problem is back, please submit a new grievance."
    ),
    ReopenRefusal.LIMIT: N_(
        "This case has been reopened {limit} times already, the most a case can be. "
        "If the problem is still there, please submit a new grievance."
    ),
}


def reopen_refusal(t: Translator, refusal: ReopenRefusal, days: int) -> str:
    return t.gettext(REOPEN_REFUSALS[refusal]).format(days=days, limit=rules.REOPEN_LIMIT)


def reopen_prompt(t: Translator, case: Grievance) -> str:
    return t.gettext(
        "Reopen {code}? It goes back to the union's cadres, still without your name, "
        "and a cadre takes it up again.\n\nPlease tell us briefly what is still wrong "
        "(optional): send it now, or tap ⏭ Skip. ✖️ Cancel leaves the case resolved."
    ).format(code=case.code)


def reopened_text(t: Translator, tz: ZoneInfo, case: Grievance) -> str:
    return t.gettext(
        "🔄 {code} is open again. A union cadre takes it up by {take} at the latest; "
        "we will tell you here at every step."
    ).format(code=case.code, take=when(case.take_due_at, tz))


def confirm_keyboard(t: Translator, yes: str, confirm: str, back: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(yes, confirm), _button(t.gettext("« Back"), back)]])


# Cadre lists, admin views -----------------------------------------------------------


def age(now: datetime, since: datetime, t: Translator) -> str:
    minutes = max(0, int((now - since).total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return t.gettext("{d} d {h} h").format(d=days, h=hours)
    if hours:
        return t.gettext("{h} h {m} min").format(h=hours, m=mins)
    return t.gettext("{m} min").format(m=mins)


def open_cases_text(t: Translator, cases: Sequence[Grievance], now: datetime, total: int) -> str:
    if not cases:
        return t.gettext("No open cases. 🎉")
    lines = ["<b>" + t.gettext("Open cases, oldest first ({count})").format(count=total) + "</b>"]
    for case in cases:
        overdue = (case.status == Status.NEW.value and now >= case.take_due_at) or (
            case.answered_at is None and now >= case.answer_due_at
        )
        lines.append(
            f"{'⏰ ' if overdue else ''}<b>{case.code}</b> · "
            f"{escape(category_name(t, case.category))} · {urgency_name(t, case.urgency)} · "
            f"{age(now, case.created_at, t)} · {status_name(t, case.status)}"
        )
    lines.append("")
    lines.append(
        t.gettext("Send /case and a code to see one, e.g. /case {code}").format(code=cases[0].code)
    )
    return "\n".join(lines)


def audit_text(t: Translator, tz: ZoneInfo, lines: Sequence[AuditLine]) -> str:
    if not lines:
        return t.gettext("The audit log is empty.")
    out = ["<b>" + t.gettext("Grievance audit log (newest first)") + "</b>"]
    for line in lines:
        actor = escape(line.actor) if line.actor else t.gettext("the member")
        action = t.gettext(AUDIT_NAMES.get(line.action, line.action))
        did = (
            t.gettext("{actor}: {action} ({detail})").format(
                actor=actor, action=action, detail=escape(line.detail)
            )
            if line.detail
            else t.gettext("{actor}: {action}").format(actor=actor, action=action)
        )
        out.append(f"{when(line.at, tz)} · <b>{line.code}</b> · {did}")
    return "\n".join(out)


def _hours(value: float | None, t: Translator) -> str:
    return "—" if value is None else t.gettext("{h} h").format(h=f"{value:.1f}")


def stats_text(t: Translator, stats: Stats) -> str:
    lines = ["<b>" + t.gettext("Grievance statistics") + "</b>", ""]
    lines.append(t.gettext("Cases: {count}").format(count=stats.total))
    for category_id, category in stats.categories.items():
        counts = {s: stats.by_category_status.get((category_id, s.value), 0) for s in Status}
        if not any(counts.values()):
            continue
        parts = " · ".join(
            f"{status_name(t, s.value).split(' ', 1)[0]} {n}" for s, n in counts.items() if n
        )
        lines.append(
            t.gettext("{category}: {counts}").format(
                category=escape(category_name(t, category)), counts=parts
            )
        )
    lines += [
        "",
        t.gettext("Median time to take: {value}").format(value=_hours(stats.median_take_hours, t)),
        t.gettext("Median time to resolve: {value}").format(
            value=_hours(stats.median_resolve_hours, t)
        ),
        t.gettext("Deadlines missed: {take} to take, {answer} to answer").format(
            take=stats.take_breaches, answer=stats.answer_breaches
        ),
    ]
    if stats.satisfaction is None:
        lines.append(t.gettext("Satisfaction: no ratings yet"))
    else:
        lines.append(
            t.gettext("Satisfaction: {avg}/5 from {n} ratings").format(
                avg=f"{stats.satisfaction:.1f}", n=sum(stats.ratings.values())
            )
        )
    lines += [
        "",
        t.gettext(
            "The XLSX file below has the details. By department it counts finished months "
            "only, and hides every count under 5 and every count from which a hidden one "
            "could be worked out, so that nobody can be singled out."
        ),
    ]
    return "\n".join(lines)


def stats_workbook(t: Translator, stats: Stats) -> sheets.Book:
    """Summary and department slices; no identities, small department counts hidden."""
    book = sheets.Book()
    summary = book.sheet(t.gettext("Summary"))
    summary.header([t.gettext("Category"), *(status_name(t, s.value) for s in Status)])
    for category_id, category in stats.categories.items():
        summary.row(
            [
                category_name(t, category),
                *(stats.by_category_status.get((category_id, s.value), 0) for s in Status),
            ]
        )
    summary.row([])
    rows = [
        (t.gettext("Cases"), stats.total),
        (t.gettext("Median hours to take"), stats.median_take_hours),
        (t.gettext("Median hours to resolve"), stats.median_resolve_hours),
        (t.gettext("Missed deadlines to take"), stats.take_breaches),
        (t.gettext("Missed deadlines to answer"), stats.answer_breaches),
        (t.gettext("Ratings"), sum(stats.ratings.values())),
        (t.gettext("Average rating"), stats.satisfaction),
    ]
    for label, value in rows:
        summary.row([label, round(value, 2) if isinstance(value, float) else value])
    columns = list(stats.categories.values())
    departments = book.sheet(t.gettext("By department"))
    departments.header(
        [t.gettext("Month"), t.gettext("Department"), *(category_name(t, c) for c in columns)]
    )
    hidden = t.gettext("hidden")
    for table in stats.by_department:
        if table.table.withheld:
            departments.row([table.month, t.gettext("(too few cases to show by department)")])
            continue
        for name, cells in zip(table.departments, table.table.cells, strict=True):
            departments.row([table.month, name, *(hidden if n is None else n for n in cells)])
        totals = table.table.column_totals or ()
        departments.row(
            [
                table.month,
                t.gettext("All departments"),
                *(hidden if n is None else n for n in totals),
            ]
        )
    departments.widths(10, 20)
    departments.freeze_header()
    departments.row([])
    departments.row(
        [
            t.gettext(
                "Only finished months. A count under 5 is hidden, and so is any count "
                "from which a hidden one could be worked out, so nobody can be singled out."
            )
        ]
    )
    return book


SETTING_REFUSALS: dict[SettingProblem, str] = {
    SettingProblem.DEADLINES: N_(
        "Please send two numbers from 1 to 720, the second not smaller, e.g. 24 72."
    ),
    SettingProblem.GROUP_ID: N_("A group id is a negative number like -1001234567890."),
    SettingProblem.DAILY_LIMIT: N_("Please send a number from 1 to 50."),
}


def setting_refusal(t: Translator, problem: SettingProblem) -> str:
    """What an admin reads when a value for the settings breaks `problem`'s rule."""
    return t.gettext(SETTING_REFUSALS[problem])


def rating_refusal(t: Translator, *, already_rated: bool) -> str:
    if already_rated:
        return t.gettext("You have already rated this case. Thank you!")
    return t.gettext("You can rate a case once it is resolved or closed.")


def settings_text(
    t: Translator, categories: Sequence[GrievanceCategory], limit: int, default_chat: int | None
) -> str:
    lines = ["<b>" + t.gettext("Grievance settings") + "</b>", ""]
    lines.append(t.gettext("New cases per member per day: {n}").format(n=limit))
    lines.append("")
    for category in categories:
        flags = []
        if not category.active:
            flags.append(t.gettext("hidden"))
        if category.always_urgent:
            flags.append(t.gettext("always urgent"))
        chat = category.chat_id or default_chat
        lines.append(
            t.gettext("{name}: take in {take} h, answer in {answer} h, group {chat}{flags}").format(
                name=escape(category_name(t, category)),
                take=category.take_hours,
                answer=category.answer_hours,
                chat=chat if chat is not None else t.gettext("not set"),
                flags=(" · " + t.gettext(", ").join(flags)) if flags else "",
            )
        )
    return "\n".join(lines)


def settings_keyboard(
    t: Translator, categories: Sequence[GrievanceCategory]
) -> InlineKeyboardMarkup:
    rows = [[_button(category_name(t, c), cb.GRIEVANCE_CATEGORY.pack(c.id))] for c in categories]
    rows.append(
        [
            _button(t.gettext("➕ Add category"), cb.GRIEVANCE_CATEGORY_ADD.pack()),
            _button(t.gettext("🔢 Daily limit"), cb.GRIEVANCE_DAILY_LIMIT.pack()),
        ]
    )
    return InlineKeyboardMarkup(rows)


def category_keyboard(t: Translator, category: GrievanceCategory) -> InlineKeyboardMarkup:
    cid = category.id
    return InlineKeyboardMarkup(
        [
            [
                _button(t.gettext("✏️ Rename"), cb.GRIEVANCE_CATEGORY_RENAME.pack(cid)),
                _button(t.gettext("⏱ Deadlines"), cb.GRIEVANCE_CATEGORY_SLA.pack(cid)),
            ],
            [
                _button(t.gettext("👥 Group"), cb.GRIEVANCE_CATEGORY_ROUTE.pack(cid)),
                _button(
                    t.gettext("🔴 Always urgent: on")
                    if category.always_urgent
                    else t.gettext("🔴 Always urgent: off"),
                    cb.GRIEVANCE_CATEGORY_URGENT.pack(cid),
                ),
            ],
            [
                _button(
                    t.gettext("🙈 Hide") if category.active else t.gettext("👁 Show"),
                    cb.GRIEVANCE_CATEGORY_ACTIVE.pack(cid),
                ),
                _button(t.gettext("« Back"), cb.GRIEVANCE_SETTINGS.pack()),
            ],
        ]
    )
