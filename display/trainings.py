"""How trainings read: courses and their sessions, requests, attendance, history, export.

Like `display.activities`, functions take a `Translator` and the
union's zone, because notices and reminders are written outside any update.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from html import escape

from telegram import InlineKeyboardMarkup

from core import dates
from core.i18n import N_, Translator
from display import callbacks as cb
from display import offering, sheets
from display.activities import moment, span
from storage import enrolment_rules as rules
from storage.members import Page
from storage.models import (
    Member,
    OfferingStatus,
    SignupStatus,
    Training,
    TrainingEnrolment,
    TrainingSession,
)
from storage.ratings import RatingSummary
from storage.trainings import EnrolmentLine, HistoryLine, TrainingDraft

BUTTON_MAX = offering.BUTTON_MAX
ATTENDANCE_SHOWN = 60  # buttons on the attendance sheet, under Telegram's 100
STATUS_NAMES = {
    SignupStatus.PENDING.value: N_("waiting for approval"),
    SignupStatus.SEATED.value: N_("enrolled"),
    SignupStatus.WAITLISTED.value: N_("on the waitlist"),
    SignupStatus.REJECTED.value: N_("not approved"),
}


_button = offering.button


def hours_text(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def session_line(t: Translator, zone: tzinfo, meeting: TrainingSession) -> str:
    where = escape(meeting.place) if meeting.place else ""
    if meeting.online_link:
        label = t.gettext("online")
        link = f'<a href="{escape(meeting.online_link, quote=True)}">{label}</a>'
        where = f"{where} · {link}" if where else link
    return f"{span(t, zone, meeting.starts_at, meeting.ends_at)} · {where}"


def seats_line(t: Translator, training: Training) -> str:
    left = rules.seats_left(training.capacity, training.seats_taken)
    if left is None:
        return t.gettext("Places: unlimited ({taken} enrolled)").format(taken=training.seats_taken)
    return t.gettext("Places left: {left} of {capacity}").format(
        left=left, capacity=training.capacity
    )


def required_line(t: Translator, training: Training, sessions: int) -> str:
    needed = sessions if training.required_sessions is None else training.required_sessions
    return t.gettext("Complete it by attending {needed} of {sessions} sessions.").format(
        needed=min(needed, sessions), sessions=sessions
    )


def details(
    t: Translator, zone: tzinfo, training: Training, sessions: Sequence[TrainingSession]
) -> list[str]:
    lines = ["<b>" + escape(training.title) + "</b>"]
    if training.description:
        lines += ["", escape(training.description)]
    lines += ["", t.gettext("Sessions:")]
    lines += [f"{i}. {session_line(t, zone, s)}" for i, s in enumerate(sessions, start=1)]
    lines += [
        "",
        "⏳ "
        + t.gettext("Enrol by {deadline}").format(
            deadline=moment(t, zone, training.signup_deadline)
        ),
        "🪑 " + seats_line(t, training),
        "🎓 " + required_line(t, training, len(sessions)),
    ]
    if training.needs_approval:
        lines.append("🛂 " + t.gettext("A cadre approves each enrolment."))
    return lines


def draft_summary(t: Translator, zone: tzinfo, value: TrainingDraft) -> str:
    """The new course as members will see it, for the cadre to check before saving."""
    preview = Training(
        id=0,
        title=value.title,
        description=value.description,
        capacity=value.capacity,
        seats_taken=0,
        signup_deadline=value.signup_deadline,
        needs_approval=value.needs_approval,
        required_sessions=value.required_sessions,
        status=OfferingStatus.DRAFT.value,
    )
    meetings = [
        TrainingSession(
            starts_at=s.starts_at, ends_at=s.ends_at, place=s.place, online_link=s.online_link
        )
        for s in sorted(value.sessions, key=lambda s: s.starts_at)
    ]
    return "\n".join(
        [
            "<b>" + t.gettext("Please check the training:") + "</b>",
            "",
            *details(t, zone, preview, meetings),
        ]
    )


# Lists --------------------------------------------------------------------------------


def list_text(t: Translator, page: Page[Training], *, cadre_list: bool = False) -> str:
    if not page.total:
        if cadre_list:
            return t.gettext("No trainings yet. Create the first one.")
        return t.gettext("No trainings are open right now.")
    title = t.gettext("Manage trainings") if cadre_list else t.gettext("Trainings")
    return "\n".join(
        [
            "<b>" + title + "</b>",
            t.gettext("Page {page} of {pages}. Tap one to see it.").format(
                page=page.page + 1, pages=page.pages
            ),
        ]
    )


def list_keyboard(
    t: Translator, page: Page[Training], *, cadre: bool, cadre_list: bool = False
) -> InlineKeyboardMarkup:
    paging = cb.TRN_ADMIN if cadre_list else cb.TRN_LIST
    opening = cb.TRN_MANAGE if cadre_list else cb.TRN_OPEN
    rows = []
    for training in page.items:
        mark = {"draft": "📝 ", "cancelled": "🚫 "}.get(training.status, "")
        rows.append([_button(mark + training.title, opening.pack(training.id))])
    nav = []
    if page.page > 0:
        nav.append(_button(t.gettext("‹ Previous"), paging.pack(page.page - 1)))
    if page.page + 1 < page.pages:
        nav.append(_button(t.gettext("Next ›"), paging.pack(page.page + 1)))
    if nav:
        rows.append(nav)
    if cadre:
        extra = [_button(t.gettext("➕ New training"), cb.TRN_NEW.pack())]
        if not cadre_list:
            extra.insert(0, _button(t.gettext("⚙️ Manage trainings"), cb.TRN_ADMIN.pack(0)))
        rows.append(extra)
    return InlineKeyboardMarkup(rows)


# The card ------------------------------------------------------------------------------


def card_text(
    t: Translator,
    zone: tzinfo,
    training: Training,
    sessions: Sequence[TrainingSession],
    *,
    enrolment: TrainingEnrolment | None,
    position: int | None,
    now: datetime,
) -> str:
    lines = details(t, zone, training, sessions)
    lines.append("")
    if training.status == OfferingStatus.CANCELLED.value:
        lines.append("🚫 " + t.gettext("This training has been cancelled."))
    elif enrolment is None:
        if now >= training.signup_deadline:
            lines.append(t.gettext("Enrolment has closed."))
    elif enrolment.status == SignupStatus.SEATED.value:
        lines.append("✅ " + t.gettext("You are enrolled."))
    elif enrolment.status == SignupStatus.WAITLISTED.value:
        lines.append(
            "⏳ "
            + t.gettext("You are on the waitlist: number {position}.").format(position=position)
        )
    elif enrolment.status == SignupStatus.PENDING.value:
        lines.append("🛂 " + t.gettext("Your request is waiting for a cadre's approval."))
    else:
        lines.append(
            t.gettext("Your request was not approved: {reason}").format(
                reason=escape(enrolment.reject_reason or "")
            )
        )
    return "\n".join(lines)


def card_keyboard(
    t: Translator,
    training: Training,
    *,
    enrolment: TrainingEnrolment | None,
    started: bool,
    now: datetime,
    cadre: bool,
) -> InlineKeyboardMarkup:
    rows = []
    published = training.status == OfferingStatus.PUBLISHED.value
    active = enrolment is not None and enrolment.status != SignupStatus.REJECTED.value
    if published and not active and now < training.signup_deadline:
        label = t.gettext("📝 Ask to enrol") if training.needs_approval else t.gettext("📝 Enrol")
        rows.append([_button(label, cb.TRN_ENROL.pack(training.id))])
    if published and active and not started:
        rows.append([_button(t.gettext("❌ Withdraw"), cb.TRN_WITHDRAW.pack(training.id))])
    bottom = [_button(t.gettext("« All trainings"), cb.TRN_LIST.pack(0))]
    if cadre:
        bottom.append(_button(t.gettext("⚙️ Manage"), cb.TRN_MANAGE.pack(training.id)))
    rows.append(bottom)
    return InlineKeyboardMarkup(rows)


def enrolled_toast(
    t: Translator, enrolment: TrainingEnrolment, position: int | None, already: bool
) -> str:
    if already:
        return t.gettext("You have already asked to enrol.")
    if enrolment.status == SignupStatus.PENDING.value:
        return t.gettext("Request sent. A cadre will approve it; you will be told.")
    if enrolment.status == SignupStatus.SEATED.value:
        return t.gettext("Enrolled! You have a place.")
    return t.gettext("It is full: you are number {position} on the waitlist.").format(
        position=position
    )


# The cadre panel ----------------------------------------------------------------------------


def manage_text(
    t: Translator,
    zone: tzinfo,
    training: Training,
    sessions: Sequence[TrainingSession],
    *,
    pending: int,
    waiting: int,
    ratings: RatingSummary,
    link: str,
) -> str:
    status = offering.status_line(t, training.status)
    lines = details(t, zone, training, sessions)
    lines += [
        "",
        status,
        t.gettext("Requests waiting: {pending}. Waitlist: {waiting}.").format(
            pending=pending, waiting=waiting
        ),
        t.gettext("Link to share: {link}").format(link=escape(link)),
    ]
    lines += offering.rating_lines(t, ratings)
    return "\n".join(lines)


def manage_keyboard(t: Translator, training: Training, pending: int) -> InlineKeyboardMarkup:
    tid = training.id
    rows = []
    if training.status == OfferingStatus.DRAFT.value:
        rows.append(offering.publish_row(t, cb.TRN_PUBLISH, tid))
    rows.append(
        [
            _button(
                t.gettext("🛂 Requests ({count})").format(count=pending), cb.TRN_REQUESTS.pack(tid)
            ),
            _button(t.gettext("🗓 Attendance"), cb.TRN_SESSIONS.pack(tid)),
        ]
    )
    rows.append(
        [
            _button(t.gettext("📊 XLSX"), cb.TRN_EXPORT.pack(tid)),
            _button(t.gettext("🔗 Link"), cb.TRN_LINK.pack(tid)),
        ]
    )
    last = [_button(t.gettext("« Trainings"), cb.TRN_ADMIN.pack(0))]
    if training.status != OfferingStatus.CANCELLED.value:
        last.insert(0, _button(t.gettext("🚫 Cancel training"), cb.TRN_CANCEL.pack(tid)))
    rows.append(last)
    return InlineKeyboardMarkup(rows)


def cancel_confirm_keyboard(t: Translator, training_id: int) -> InlineKeyboardMarkup:
    return offering.cancel_confirm_keyboard(t, cb.TRN_CANCEL_CONFIRM, cb.TRN_MANAGE, training_id)


def requests_text(
    t: Translator, training: Training, requests: Sequence[tuple[TrainingEnrolment, Member]]
) -> str:
    lines = ["<b>" + escape(training.title) + "</b>"]
    if not requests:
        lines.append(t.gettext("No requests are waiting."))
    else:
        lines.append(t.gettext("Requests waiting for approval, oldest first:"))
        for _enrolment, member in requests:
            name = escape(member.name)
            if member.department:
                name = t.gettext("{name} ({department})").format(
                    name=name, department=escape(member.department.name)
                )
            lines.append("• " + name)
    return "\n".join(lines)


def requests_keyboard(
    t: Translator, training: Training, requests: Sequence[tuple[TrainingEnrolment, Member]]
) -> InlineKeyboardMarkup:
    rows = [
        [
            _button("✅ " + member.name, cb.TRN_APPROVE.pack(enrolment.id)),
            _button(t.gettext("❌ Reject"), cb.TRN_REJECT.pack(enrolment.id)),
        ]
        for enrolment, member in requests[:20]
    ]
    rows.append([_button(t.gettext("« Back"), cb.TRN_MANAGE.pack(training.id))])
    return InlineKeyboardMarkup(rows)


def sessions_keyboard(
    t: Translator, zone: tzinfo, training: Training, sessions: Sequence[TrainingSession]
) -> InlineKeyboardMarkup:
    rows = [
        [_button(f"{i}. " + moment(t, zone, s.starts_at), cb.TRN_SESSION.pack(s.id))]
        for i, s in enumerate(sessions, start=1)
    ]
    rows.append([_button(t.gettext("« Back"), cb.TRN_MANAGE.pack(training.id))])
    return InlineKeyboardMarkup(rows)


def attendance_text(
    t: Translator, zone: tzinfo, training: Training, meeting: TrainingSession, present: int
) -> str:
    return "\n".join(
        [
            "<b>" + escape(training.title) + "</b>",
            session_line(t, zone, meeting),
            t.gettext("Present: {count}. Tap a name to mark them present, again to undo.").format(
                count=present
            ),
        ]
    )


def attendance_keyboard(
    t: Translator,
    training: Training,
    meeting: TrainingSession,
    people: Sequence[Member],
    present: set[int],
) -> InlineKeyboardMarkup:
    rows = [
        [
            _button(
                ("✅ " if m.id in present else "⬜ ") + m.name, cb.TRN_MARK.pack(meeting.id, m.id)
            )
        ]
        # In the storage's order, pinyin over all the seated (`trainings.seated_members`).
        for m in people[:ATTENDANCE_SHOWN]
    ]
    rows.append([_button(t.gettext("« Sessions"), cb.TRN_SESSIONS.pack(training.id))])
    return InlineKeyboardMarkup(rows)


# /my_trainings ---------------------------------------------------------------------------------


def history_text(t: Translator, lines: Sequence[HistoryLine]) -> str:
    if not lines:
        return t.gettext("You have not enrolled in any training yet. See 🎓 Trainings.")
    total = sum(line.hours for line in lines)
    done = sum(1 for line in lines if line.completed)
    text = [
        "<b>" + t.gettext("My trainings") + "</b>",
        t.gettext("Training hours: {hours} h. Completed courses: {done}.").format(
            hours=hours_text(total), done=done
        ),
        "",
    ]
    for line in lines:
        if line.completed:
            state = "🎓 " + t.gettext("completed")
        elif line.status == SignupStatus.WAITLISTED.value:
            state = t.gettext("on the waitlist: number {position}").format(position=line.position)
        else:
            state = t.gettext(STATUS_NAMES[line.status])
        text.append(f"• <b>{escape(line.training.title)}</b> — {state}")
        if line.training.status == OfferingStatus.CANCELLED.value:
            text.append("  " + t.gettext("cancelled"))
        elif line.status == SignupStatus.SEATED.value:
            text.append(
                "  "
                + t.gettext("Attended {attended} of {sessions} sessions, {hours} h").format(
                    attended=line.attended, sessions=line.sessions, hours=hours_text(line.hours)
                )
            )
        elif line.status == SignupStatus.REJECTED.value and line.reject_reason:
            text.append("  " + escape(line.reject_reason))
    return "\n".join(text)


# Export -----------------------------------------------------------------------------------------


def enrolment_xlsx(
    t: Translator,
    zone: tzinfo,
    training: Training,
    sessions: Sequence[TrainingSession],
    lines: Sequence[EnrolmentLine],
) -> sheets.Book:
    """Two sheets: every enrolment, and completion of those who have a place."""
    book = sheets.Book(title=training.title)
    first = book.sheet(t.gettext("Enrolment"))
    first.header(
        [
            t.gettext("Name"),
            t.gettext("Department"),
            t.gettext("Requested at"),
            t.gettext("Status"),
            t.gettext("Waitlist position"),
            t.gettext("Reason"),
        ]
    )
    for line in lines:
        first.row(
            [
                line.name,
                line.department,
                dates.minute(line.requested_at, zone),
                t.gettext(STATUS_NAMES[line.status]),
                line.position or "",
                line.reject_reason or "",
            ]
        )
    second = book.sheet(t.gettext("Completion"))
    second.header(
        [
            t.gettext("Name"),
            t.gettext("Department"),
            t.gettext("Sessions attended"),
            t.gettext("Sessions"),
            t.gettext("Hours"),
            t.gettext("Completed"),
        ]
    )
    for line in lines:
        if line.status != SignupStatus.SEATED.value:
            continue
        second.row(
            [
                line.name,
                line.department,
                line.attended,
                len(sessions),
                round(line.hours, 2),
                t.gettext("yes") if line.completed else t.gettext("no"),
            ]
        )
    for sheet in (first, second):
        sheet.widths(*([18] * 6))
        sheet.freeze_header()
    return book


# Notices ------------------------------------------------------------------------------------------


def open_keyboard(t: Translator, training_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(t.gettext("Open ›"), cb.TRN_OPEN.pack(training_id))]])


def announcement(
    t: Translator, zone: tzinfo, training: Training, sessions: Sequence[TrainingSession]
) -> str:
    return "\n".join(
        ["🎓 " + t.gettext("New training!"), "", *details(t, zone, training, sessions)]
    )


def reminder_notice(
    t: Translator, zone: tzinfo, training: Training, meeting: TrainingSession, offset: int
) -> str:
    if offset >= 60 and offset % 60 == 0:
        ahead = t.gettext("in {hours} h").format(hours=offset // 60)
    else:
        ahead = t.gettext("in {minutes} min").format(minutes=offset)
    return "\n".join(
        [
            "⏰ "
            + t.gettext("Reminder: a session of {title} starts {ahead}.").format(
                title="<b>" + escape(training.title) + "</b>", ahead=ahead
            ),
            session_line(t, zone, meeting),
        ]
    )


def approved_notice(t: Translator, training: Training, seated: bool, position: int | None) -> str:
    title = "<b>" + escape(training.title) + "</b>"
    if seated:
        return "✅ " + t.gettext("Your enrolment in {title} is approved. You have a place.").format(
            title=title
        )
    return "✅ " + t.gettext(
        "Your enrolment in {title} is approved. It is full for now: you are number "
        "{position} on the waitlist."
    ).format(title=title, position=position)


def rejected_notice(t: Translator, training: Training, reason: str) -> str:
    return "❌ " + t.gettext("Your enrolment in {title} was not approved. Reason: {reason}").format(
        title="<b>" + escape(training.title) + "</b>", reason=escape(reason)
    )


def promoted_notice(t: Translator, training: Training) -> str:
    return "🎉 " + t.gettext("A place freed up: you are now enrolled in {title}.").format(
        title="<b>" + escape(training.title) + "</b>"
    )


def cancelled_notice(t: Translator, training: Training) -> str:
    return "🚫 " + t.gettext("Sorry, the training {title} has been cancelled.").format(
        title="<b>" + escape(training.title) + "</b>"
    )


def completed_notice(t: Translator, training: Training, hours: float) -> str:
    return "🎓 " + t.gettext(
        "Congratulations! You have completed {title} ({hours} training hours)."
    ).format(title="<b>" + escape(training.title) + "</b>", hours=hours_text(hours))
