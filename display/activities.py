"""How activities read: lists, cards, the cadre panel, rosters, exports and notices.

Functions take a `Translator` and the union's time zone rather than a `Scope`,
because reminders and notices are written for a member outside any update
(`notices.activities`, for handlers and `jobs.reminders` alike). Times are stored in UTC and shown in the union's zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core import collation, dates
from core.i18n import N_, Translator
from display import callbacks as cb
from display import offering, sheets
from display.broadcasts import PickerItem
from storage import enrolment_rules as rules
from storage.activities import Draft, RosterLine
from storage.members import Page
from storage.models import Activity, ActivitySignup, OfferingStatus, SignupStatus
from storage.ratings import RatingSummary

WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
ROSTER_PAGE = 10
BUTTON_MAX = offering.BUTTON_MAX
CAPTION_MAX = 1024

REFUSALS: dict[str, str] = {
    "not_found": N_("This activity no longer exists."),
    "not_published": N_("This activity is not open for sign-up yet."),
    "cancelled": N_("Sorry, this activity has been cancelled."),
    "deadline": N_("Sorry, sign-up for this activity closed at {deadline}."),
    "started": N_(
        "This has already started; it can no longer be changed. If something needs changing, please ask the organisers."
    ),
    "not_for_you": N_("This activity is for another group of members."),
    "no_guests": N_("This activity does not allow guests; you can still sign up yourself."),
    "not_signed_up": N_("You are not signed up for this."),
    "not_seated": N_(
        "Only members with a seat can do that. Please sign up for the activity first."
    ),
    "not_open": N_("Check-in opens 30 minutes before the start and closes at the end."),
    "attempts": N_("Too many wrong codes. Please ask a cadre at the venue to check you in."),
    "wrong_code": N_("That code is not right. Please check it and try again."),
    "not_over": N_("You can rate it once it has ended."),
    "below_taken": N_("{taken} seats are already taken; the capacity cannot be lower."),
    "stars": N_("Please choose 1 to 5 stars."),
    "not_attended": N_(
        "Only members who attended a session of this training can rate it. If you were"
        " there, ask the cadre in charge to mark your attendance."
    ),
    "training_cancelled": N_("Sorry, this training has been cancelled."),
    "decided": N_("This request has already been decided."),
}

SCHEDULE_ERRORS: dict[str, str] = {
    "start_past": N_("That time has already passed. Please send a time in the future."),
    "end_before_start": N_("The end must be after the start. Please send the end again."),
    "deadline_after_start": N_("Sign-up must close before the start. Please send another time."),
    "deadline_past": N_("That deadline has already passed. Please send a later one."),
}

TIME_INPUT_ERRORS: dict[str, str] = {
    "format": N_("I could not read that time. Please write it like {example}."),
    "no_such_date": N_("That date or time does not exist. Please check it."),
}


_button = offering.button


# Times -------------------------------------------------------------------------------


def moment(t: Translator, zone: tzinfo, at: datetime) -> str:
    """A moment in the union's zone, e.g. 2026-12-05 (Sat) 14:00."""
    local = dates.local(at, zone)
    return t.gettext("{date} ({weekday}) {time}").format(
        date=dates.day_text(at, zone),
        weekday=t.gettext(WEEKDAYS[local.weekday()]),
        time=dates.clock(at, zone),
    )


def span(t: Translator, zone: tzinfo, start: datetime, end: datetime) -> str:
    """Start and end: the end's date is left out when it is the same day."""
    if dates.local_date(end, zone) == dates.local_date(start, zone):
        return moment(t, zone, start) + "–" + dates.clock(end, zone)
    return moment(t, zone, start) + " – " + moment(t, zone, end)


def example_time(now: datetime, zone: tzinfo) -> str:
    """A sample a person can copy: a week from now at 14:00."""
    return (now.astimezone(zone) + timedelta(days=7)).strftime("%Y-%m-%d 14:00")


def schedule_refusal(t: Translator, zone: tzinfo, problem: str, now: datetime) -> str:
    """Why a time was refused (`storage.enrolment_rules.ScheduleProblem`), with a sample."""
    text = t.gettext(SCHEDULE_ERRORS.get(problem, TIME_INPUT_ERRORS["format"]))
    return text.format(example=example_time(now, zone))


def time_input_error(t: Translator, zone: tzinfo, code: str, now: datetime) -> str:
    """A time that could not be read at all, with a sample to copy."""
    text = t.gettext(TIME_INPUT_ERRORS.get(code, TIME_INPUT_ERRORS["format"]))
    return text.format(example=example_time(now, zone))


def refusal(t: Translator, zone: tzinfo, reason: str, activity: Activity | None = None) -> str:
    text = t.gettext(REFUSALS.get(reason, REFUSALS["not_found"]))
    deadline = moment(t, zone, activity.signup_deadline) if activity is not None else ""
    return text.format(deadline=deadline, taken=activity.seats_taken if activity else 0)


# Seats ---------------------------------------------------------------------------------


def seats_line(t: Translator, activity: Activity, waiting: int = 0) -> str:
    left = rules.seats_left(activity.capacity, activity.seats_taken)
    if left is None:
        return t.gettext("Seats: unlimited ({taken} signed up)").format(taken=activity.seats_taken)
    if left == 0:
        return t.gettext("Seats: full ({capacity} taken, {waiting} on the waitlist)").format(
            capacity=activity.capacity, waiting=waiting
        )
    return t.gettext("Seats left: {left} of {capacity}").format(
        left=left, capacity=activity.capacity
    )


def _short_seats(t: Translator, activity: Activity) -> str:
    left = rules.seats_left(activity.capacity, activity.seats_taken)
    if left is None:
        return t.gettext("open")
    if left == 0:
        return t.gettext("full")
    return t.gettext("{left} left").format(left=left)


# Lists ---------------------------------------------------------------------------------


def list_text(t: Translator, page: Page[Activity]) -> str:
    if not page.total:
        return t.gettext("No activities are open right now. New ones are announced here.")
    return "\n".join(
        [
            "<b>" + t.gettext("Upcoming activities") + "</b>",
            t.gettext("Page {page} of {pages}. Tap one to see it and sign up.").format(
                page=page.page + 1, pages=page.pages
            ),
        ]
    )


def list_keyboard(
    t: Translator,
    zone: tzinfo,
    page: Page[Activity],
    *,
    cadre: bool,
    paging: cb.CallbackAction = cb.ACT_LIST,
    opening: cb.CallbackAction = cb.ACT_OPEN,
) -> InlineKeyboardMarkup:
    rows = []
    for activity in page.items:
        label = f"{dates.month_day(activity.starts_at, zone)} {activity.title} · {_short_seats(t, activity)}"
        if activity.status == OfferingStatus.DRAFT.value:
            label = "📝 " + label
        elif activity.status == OfferingStatus.CANCELLED.value:
            label = "🚫 " + label
        rows.append([_button(label, opening.pack(activity.id))])
    nav = []
    if page.page > 0:
        nav.append(_button(t.gettext("‹ Previous"), paging.pack(page.page - 1)))
    if page.page + 1 < page.pages:
        nav.append(_button(t.gettext("Next ›"), paging.pack(page.page + 1)))
    if nav:
        rows.append(nav)
    if cadre and paging is cb.ACT_LIST:
        rows.append(
            [
                _button(t.gettext("⚙️ Manage activities"), cb.ACT_ADMIN.pack(0)),
                _button(t.gettext("➕ New activity"), cb.ACT_NEW.pack()),
            ]
        )
    if paging is cb.ACT_ADMIN:
        rows.append([_button(t.gettext("➕ New activity"), cb.ACT_NEW.pack())])
    return InlineKeyboardMarkup(rows)


def admin_list_text(t: Translator, page: Page[Activity]) -> str:
    if not page.total:
        return t.gettext("No activities yet. Create the first one.")
    return "\n".join(
        [
            "<b>" + t.gettext("Manage activities") + "</b>",
            t.gettext("📝 draft, 🚫 cancelled. Page {page} of {pages}.").format(
                page=page.page + 1, pages=page.pages
            ),
        ]
    )


# The card --------------------------------------------------------------------------------


def details(t: Translator, zone: tzinfo, activity: Activity) -> list[str]:
    lines = ["<b>" + escape(activity.title) + "</b>"]
    if activity.description:
        lines += ["", escape(activity.description)]
    lines += [
        "",
        "🕒 " + span(t, zone, activity.starts_at, activity.ends_at),
        "📍 " + escape(activity.place),
        "⏳ "
        + t.gettext("Sign up by {deadline}").format(
            deadline=moment(t, zone, activity.signup_deadline)
        ),
    ]
    if activity.guests_allowed:
        lines.append("👥 " + t.gettext("You may bring one guest (+1)."))
    return lines


def card_text(
    t: Translator,
    zone: tzinfo,
    activity: Activity,
    *,
    signup: ActivitySignup | None,
    position: int | None,
    waiting: int,
    now: datetime,
) -> str:
    lines = details(t, zone, activity)
    lines.append("🪑 " + seats_line(t, activity, waiting))
    lines.append("")
    if activity.status == OfferingStatus.CANCELLED.value:
        lines.append("🚫 " + t.gettext("This activity has been cancelled."))
        return "\n".join(lines)
    if signup is not None and signup.status == SignupStatus.SEATED.value:
        lines.append("✅ " + t.gettext("You have a seat."))
        if signup.seats > 1:
            lines.append(t.gettext("Your guest has a seat too."))
        if signup.checked_in_at is not None:
            lines.append("📍 " + t.gettext("You are checked in."))
    elif signup is not None:
        lines.append(
            "⏳ "
            + t.gettext("You are on the waitlist: number {position}.").format(position=position)
        )
        lines.append(t.gettext("When a seat frees up, the first in line gets it and is told."))
    elif now >= activity.signup_deadline:
        lines.append(t.gettext("Sign-up has closed."))
    elif rules.seats_left(activity.capacity, activity.seats_taken) == 0:
        lines.append(t.gettext("It is full, but you can join the waitlist."))
    return "\n".join(lines)


def card_keyboard(
    t: Translator,
    activity: Activity,
    *,
    signup: ActivitySignup | None,
    now: datetime,
    cadre: bool,
) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    open_for_signup = (
        activity.status == OfferingStatus.PUBLISHED.value and now < activity.signup_deadline
    )
    if signup is None and open_for_signup:
        full = rules.seats_left(activity.capacity, activity.seats_taken) == 0
        label = t.gettext("⏳ Join the waitlist") if full else t.gettext("✅ Sign up")
        row = [_button(label, cb.ACT_SIGN_UP.pack(activity.id, 0))]
        if activity.guests_allowed:
            row.append(
                _button(t.gettext("✅ Sign up with a guest"), cb.ACT_SIGN_UP.pack(activity.id, 1))
            )
        rows.append(row)
    if (
        signup is not None
        and activity.status == OfferingStatus.PUBLISHED.value
        and now < activity.starts_at
    ):
        rows.append([_button(t.gettext("❌ Cancel my sign-up"), cb.ACT_LEAVE.pack(activity.id))])
    if (
        signup is not None
        and signup.status == SignupStatus.SEATED.value
        and signup.checked_in_at is None
        and activity.status == OfferingStatus.PUBLISHED.value
        and rules.checkin_open(activity.starts_at, activity.ends_at, now)
    ):
        rows.append([_button(t.gettext("📍 Check in"), cb.ACT_CHECK_IN.pack(activity.id))])
    bottom = [_button(t.gettext("« All activities"), cb.ACT_LIST.pack(0))]
    if cadre:
        bottom.append(_button(t.gettext("⚙️ Manage"), cb.ACT_MANAGE.pack(activity.id)))
    rows.append(bottom)
    return InlineKeyboardMarkup(rows)


def placement_toast(t: Translator, seated: bool, position: int | None, already: bool) -> str:
    if already:
        return t.gettext("You are already signed up.")
    if seated:
        return t.gettext("Signed up! You have a seat.")
    return t.gettext("It is full: you are number {position} on the waitlist.").format(
        position=position
    )


# The editor ---------------------------------------------------------------------------------


def audience_picker(
    t: Translator, items: Sequence[PickerItem], audience: str, count: int
) -> tuple[str, InlineKeyboardMarkup]:
    """Who the activity is for: a button per group (✅ when chosen), then Continue."""
    text = "\n".join(
        [
            "<b>" + t.gettext("Who is it for?") + "</b>",
            t.gettext("Tap to choose; members in any chosen group see it and may sign up."),
            "",
            t.gettext("Chosen: {audience}").format(audience=audience),
            t.gettext("Members: {count}").format(count=count),
        ]
    )
    buttons = [
        _button(
            ("✅ " if item.chosen else "") + item.label,
            cb.ACT_AUDIENCE.pack(item.source, item.item),
        )
        for item in items
    ]
    rows = [buttons[:1]] + [buttons[i : i + 2] for i in range(1, len(buttons), 2)]
    rows.append([_button(t.gettext("Continue ›"), cb.ACT_AUDIENCE_DONE.pack())])
    return text, InlineKeyboardMarkup(rows)


def draft_summary(t: Translator, zone: tzinfo, value: Draft, audience: str) -> str:
    """The new activity as members will see it, for the cadre to check before saving."""
    preview = Activity(
        id=0,
        title=value.title,
        description=value.description,
        place=value.place,
        starts_at=value.starts_at,
        ends_at=value.ends_at,
        signup_deadline=value.signup_deadline,
        capacity=value.capacity,
        seats_taken=0,
        guests_allowed=value.guests_allowed,
    )
    lines = [
        "<b>" + t.gettext("Please check the activity:") + "</b>",
        "",
        *details(t, zone, preview),
        "🪑 " + seats_line(t, preview),
        t.gettext("Audience: {audience}").format(audience=audience),
    ]
    if value.photo_file_id:
        lines.append("🖼 " + t.gettext("With a photo."))
    return "\n".join(lines)


# The cadre panel ----------------------------------------------------------------------------


def manage_text(
    t: Translator,
    zone: tzinfo,
    activity: Activity,
    *,
    waiting: int,
    checked_in: int,
    audience: str,
    ratings: RatingSummary,
    link: str,
) -> str:
    status = offering.status_line(t, activity.status)
    lines = details(t, zone, activity)
    lines += [
        "🪑 " + seats_line(t, activity, waiting),
        "",
        status,
        t.gettext("Audience: {audience}").format(audience=audience),
        t.gettext("Checked in: {count}. Check-in code: <code>{code}</code>").format(
            count=checked_in, code=activity.checkin_code
        ),
        t.gettext("Link to share: {link}").format(link=escape(link)),
    ]
    lines += offering.rating_lines(t, ratings)
    return "\n".join(lines)


EDITABLE = (
    ("title", N_("Title")),
    ("desc", N_("Description")),
    ("photo", N_("Photo")),
    ("place", N_("Place")),
    ("time", N_("Time")),
    ("cap", N_("Capacity")),
    ("guests", N_("Guests")),
    ("aud", N_("Audience")),
)


def manage_keyboard(t: Translator, activity: Activity) -> InlineKeyboardMarkup:
    aid = activity.id
    rows: list[list[InlineKeyboardButton]] = []
    if activity.status == OfferingStatus.DRAFT.value:
        rows.append(offering.publish_row(t, cb.ACT_PUBLISH, aid))
    if activity.status != OfferingStatus.CANCELLED.value:
        edits = [
            _button("✏️ " + t.gettext(label), cb.ACT_EDIT.pack(aid, key)) for key, label in EDITABLE
        ]
        rows += [edits[i : i + 4] for i in range(0, len(edits), 4)]
    rows.append(
        [
            _button(t.gettext("👥 Roster and check-in"), cb.ACT_ROSTER.pack(aid, 0)),
            _button(t.gettext("🔗 Link"), cb.ACT_LINK.pack(aid)),
        ]
    )
    rows.append(
        [
            _button(t.gettext("📄 CSV"), cb.ACT_EXPORT.pack(aid, "csv")),
            _button(t.gettext("📊 XLSX"), cb.ACT_EXPORT.pack(aid, "xlsx")),
        ]
    )
    last = [_button(t.gettext("« Activities"), cb.ACT_ADMIN.pack(0))]
    if activity.status != OfferingStatus.CANCELLED.value:
        last.insert(0, _button(t.gettext("🚫 Cancel activity"), cb.ACT_CANCEL.pack(aid)))
    rows.append(last)
    return InlineKeyboardMarkup(rows)


def cancel_confirm_keyboard(t: Translator, activity_id: int) -> InlineKeyboardMarkup:
    return offering.cancel_confirm_keyboard(t, cb.ACT_CANCEL_CONFIRM, cb.ACT_MANAGE, activity_id)


# Roster and check-in -------------------------------------------------------------------------


def roster_text(t: Translator, activity: Activity, lines: Sequence[RosterLine], page: int) -> str:
    seated = [line for line in lines if line.status == SignupStatus.SEATED.value]
    waiting = [line for line in lines if line.status == SignupStatus.WAITLISTED.value]
    present = sum(1 for line in seated if line.checked_in_at is not None)
    text = [
        "<b>" + escape(activity.title) + "</b>",
        t.gettext("Seated: {seated} (checked in: {present}). Waitlist: {waiting}.").format(
            seated=len(seated), present=present, waiting=len(waiting)
        ),
        t.gettext("Tap a name to check them in, or again to undo. Check-in code: {code}").format(
            code=activity.checkin_code
        ),
    ]
    if waiting:
        text += ["", t.gettext("Waitlist:")]
        text += [f"{line.position}. {escape(line.name)}" for line in waiting[:20]]
    return "\n".join(text)


def roster_keyboard(
    t: Translator, activity: Activity, lines: Sequence[RosterLine], page: int
) -> InlineKeyboardMarkup:
    # In pinyin order, so a cadre at the door finds a name (the text lists the waitlist).
    seated = collation.by_person(
        (line for line in lines if line.status == SignupStatus.SEATED.value), lambda s: s.name
    )
    pages = max(1, -(-len(seated) // ROSTER_PAGE))
    page = min(max(page, 0), pages - 1)
    rows = []
    for line in seated[page * ROSTER_PAGE : (page + 1) * ROSTER_PAGE]:
        mark = "✅" if line.checked_in_at else "⬜"
        name = t.gettext("{name} (+1)").format(name=line.name) if line.guests else line.name
        rows.append(
            [
                _button(
                    f"{mark} {name}",
                    cb.ACT_MARK.pack(activity.id, line.signup_id, page),
                )
            ]
        )
    nav = []
    if page > 0:
        nav.append(_button(t.gettext("‹ Previous"), cb.ACT_ROSTER.pack(activity.id, page - 1)))
    if page + 1 < pages:
        nav.append(_button(t.gettext("Next ›"), cb.ACT_ROSTER.pack(activity.id, page + 1)))
    if nav:
        rows.append(nav)
    rows.append([_button(t.gettext("« Back"), cb.ACT_MANAGE.pack(activity.id))])
    return InlineKeyboardMarkup(rows)


# Exports -----------------------------------------------------------------------------------------


def _headers(t: Translator) -> list[str]:
    return [
        t.gettext("Name"),
        t.gettext("Department"),
        t.gettext("Signed up at"),
        t.gettext("Status"),
        t.gettext("Waitlist position"),
        t.gettext("Guests"),
        t.gettext("Attended"),
        t.gettext("Checked in at"),
    ]


def _row(t: Translator, zone: tzinfo, line: RosterLine) -> list[str | int]:
    status = (
        t.gettext("seated") if line.status == SignupStatus.SEATED.value else t.gettext("waitlist")
    )
    return [
        line.name,
        line.department,
        dates.minute(line.signed_up_at, zone),
        status,
        line.position or "",
        line.guests,
        t.gettext("yes") if line.checked_in_at else t.gettext("no"),
        dates.minute(line.checked_in_at, zone) if line.checked_in_at else "",
    ]


def roster_csv(t: Translator, zone: tzinfo, lines: Sequence[RosterLine]) -> bytes:
    return sheets.csv_bytes(_headers(t), (_row(t, zone, line) for line in lines))


def roster_xlsx(
    t: Translator, zone: tzinfo, activity: Activity, lines: Sequence[RosterLine]
) -> sheets.Book:
    book = sheets.Book(title=activity.title)
    sheet = book.sheet(t.gettext("Roster"))
    sheet.header(_headers(t))
    for line in lines:
        sheet.row(_row(t, zone, line))
    sheet.widths(16, 16, 18, 10, 10, 8, 8, 18)
    sheet.freeze_header()
    return book


def export_name(activity: Activity, extension: str) -> str:
    return f"activity-{activity.id}-roster.{extension}"


# Notices (sent through the outbox) ------------------------------------------------------------------


def announcement(t: Translator, zone: tzinfo, activity: Activity) -> str:
    lines = ["🎉 " + t.gettext("New activity!"), "", *details(t, zone, activity)]
    lines.append("🪑 " + seats_line(t, activity))
    text = "\n".join(lines)
    return text


def announcement_caption(t: Translator, zone: tzinfo, activity: Activity) -> str:
    """The announcement shortened to fit a photo's caption."""
    text = announcement(t, zone, activity)
    if len(text) <= CAPTION_MAX:
        return text
    short = [
        "🎉 " + t.gettext("New activity!"),
        "",
        "<b>" + escape(activity.title) + "</b>",
        "🕒 " + span(t, zone, activity.starts_at, activity.ends_at),
        "📍 " + escape(activity.place),
    ]
    return "\n".join(short)[:CAPTION_MAX]


def open_keyboard(t: Translator, activity_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(t.gettext("Open ›"), cb.ACT_OPEN.pack(activity_id))]])


def promoted_notice(t: Translator, zone: tzinfo, activity: Activity) -> str:
    return "\n".join(
        [
            "🎉 "
            + t.gettext("A seat freed up: you now have a seat at {title}.").format(
                title="<b>" + escape(activity.title) + "</b>"
            ),
            "🕒 " + span(t, zone, activity.starts_at, activity.ends_at),
            "📍 " + escape(activity.place),
            t.gettext("If you cannot come, please cancel so the next person gets it."),
        ]
    )


def reminder_notice(t: Translator, zone: tzinfo, activity: Activity, offset: int) -> str:
    if offset >= 60 and offset % 60 == 0:
        ahead = t.gettext("in {hours} h").format(hours=offset // 60)
    else:
        ahead = t.gettext("in {minutes} min").format(minutes=offset)
    return "\n".join(
        [
            "⏰ "
            + t.gettext("Reminder: {title} starts {ahead}.").format(
                title="<b>" + escape(activity.title) + "</b>", ahead=ahead
            ),
            "🕒 " + span(t, zone, activity.starts_at, activity.ends_at),
            "📍 " + escape(activity.place),
        ]
    )


def moved_notice(t: Translator, zone: tzinfo, activity: Activity) -> str:
    return "\n".join(
        [
            "🕒 "
            + t.gettext("The time of {title} has changed.").format(
                title="<b>" + escape(activity.title) + "</b>"
            ),
            t.gettext("New time: {when}").format(
                when=span(t, zone, activity.starts_at, activity.ends_at)
            ),
            "📍 " + escape(activity.place),
            t.gettext("Your place is kept. If you cannot come now, please cancel."),
        ]
    )


def cancelled_notice(t: Translator, zone: tzinfo, activity: Activity) -> str:
    return "🚫 " + t.gettext("Sorry, {title} on {when} has been cancelled.").format(
        title="<b>" + escape(activity.title) + "</b>",
        when=moment(t, zone, activity.starts_at),
    )
