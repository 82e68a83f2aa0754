"""Pure rules of activities and trainings: seats, the waitlist, reminders, input.

Nothing here touches the database or Telegram, so every rule is tested
directly (with hypothesis where the cases are many). `storage.seating` applies
the seat rules while it holds the parent row's lock; `jobs.reminders` asks
:func:`due_offset` which reminder is due.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from storage.profile_rules import InvalidInput, clean_label

MAX_CAPACITY = 100_000
TITLE_MAX = 100
PLACE_MAX = 200
DESCRIPTION_MAX = 2000
COMMENT_MAX = 1000
REASON_MAX = 500
LINK_MAX = 300
CHECKIN_ATTEMPTS = 5
CHECKIN_EARLY = timedelta(minutes=30)  # check-in opens this long before the start
RATING_HOURS = (8, 21)  # rating requests go out from 08:00 until 21:00 local, never at night


# Seats and the waitlist --------------------------------------------------------


def seats_left(capacity: int | None, taken: int) -> int | None:
    """Free seats, or None when the capacity is unlimited."""
    if capacity is None:
        return None
    return max(0, capacity - taken)


def promotions(capacity: int | None, taken: int, queue: Sequence[tuple[int, int]]) -> list[int]:
    """Who moves from the waitlist to a seat: ids from the head of ``queue`` while they fit.

    ``queue`` is (id, seats) in waitlist order. The order is strict: when the
    first in line needs more seats than are free (a member with a guest), those
    behind wait too, so nobody ever overtakes someone who asked earlier.
    """
    free = None if capacity is None else capacity - taken
    chosen: list[int] = []
    for item_id, seats in queue:
        if free is not None:
            if seats > free:
                break
            free -= seats
        chosen.append(item_id)
    return chosen


class Refusal(enum.StrEnum):
    """Why a sign-up cannot happen; each has its own answer for the member."""

    NOT_FOUND = "not_found"
    NOT_PUBLISHED = "not_published"
    CANCELLED = "cancelled"
    DEADLINE = "deadline"
    STARTED = "started"
    NOT_FOR_YOU = "not_for_you"
    NO_GUESTS = "no_guests"


def signup_refusal(
    status: str, deadline: datetime, now: datetime, *, guests: int = 0, guests_allowed: bool = True
) -> Refusal | None:
    """The reason a sign-up is refused now, or None when it may go ahead."""
    if status == "cancelled":
        return Refusal.CANCELLED
    if status != "published":
        return Refusal.NOT_PUBLISHED
    if now >= deadline:
        return Refusal.DEADLINE
    if guests and not guests_allowed:
        return Refusal.NO_GUESTS
    return None


def completed(required: int | None, sessions: int, attended: int) -> bool:
    """Whether attending ``attended`` of ``sessions`` sessions completes a course."""
    needed = sessions if required is None else min(required, sessions)
    return sessions > 0 and attended >= needed


# Reminders ----------------------------------------------------------------------


def due_offset(start: datetime, offsets: Sequence[int], now: datetime) -> int | None:
    """The reminder (minutes before ``start``) whose time has come, or None.

    Only the nearest one counts: a job that was down when the 24 h reminder was
    due and wakes 30 minutes before the start sends the 1 h reminder, not both.
    Nothing is due once the start has passed.
    """
    if now >= start:
        return None
    passed = [o for o in offsets if start - timedelta(minutes=o) <= now]
    return min(passed) if passed else None


def reminder_cutoff(start: datetime, offset: int) -> datetime:
    """Members seated after this moment get no reminder for ``offset``: they just signed up."""
    return start - timedelta(minutes=offset)


def checkin_open(start: datetime, end: datetime, now: datetime) -> bool:
    return start - CHECKIN_EARLY <= now < end


# Input ---------------------------------------------------------------------------

_DATE_TIME = re.compile(
    r"""^\s*
    (?:(?P<year>\d{4})\s*[-/.年]\s*)?
    (?P<month>\d{1,2})\s*[-/.月]\s*
    (?P<day>\d{1,2})\s*[日号]?
    \s*(?:T|\s)?\s*
    (?P<hour>\d{1,2})\s*(?:[:：点时]\s*(?P<minute>\d{1,2})?\s*分?)?
    \s*$""",
    re.VERBOSE,
)
_TIME_ONLY = re.compile(r"^\s*(?P<hour>\d{1,2})\s*[:：点时]\s*(?P<minute>\d{1,2})?\s*分?\s*$")


@dataclass(frozen=True)
class LocalTime:
    """A wall-clock time the person typed, before it is placed in the union's zone."""

    value: datetime  # naive, local


def parse_local_datetime(text: str, today: date, *, day: date | None = None) -> LocalTime:
    """Read "2026-12-05 14:00", "12月5日 14:00", "2026/12/5 9:30", or "16:00" when ``day`` is given.

    A date without a year is the next such date from ``today`` on. Raises
    InvalidInput("format") or InvalidInput("no_such_date").
    """
    cleaned = text.strip()
    match = _DATE_TIME.match(cleaned)
    if match:
        year = int(match["year"]) if match["year"] else today.year
        month, day_of_month = int(match["month"]), int(match["day"])
        hour, minute = int(match["hour"]), int(match["minute"] or 0)
        try:
            on = date(year, month, day_of_month)
            at = time(hour, minute)
        except ValueError:
            raise InvalidInput("no_such_date") from None
        if not match["year"] and on < today:
            try:
                on = date(year + 1, month, day_of_month)
            except ValueError:
                raise InvalidInput("no_such_date") from None
        return LocalTime(datetime.combine(on, at))
    short = _TIME_ONLY.match(cleaned)
    if short and day is not None:
        try:
            at = time(int(short["hour"]), int(short["minute"] or 0))
        except ValueError:
            raise InvalidInput("no_such_date") from None
        return LocalTime(datetime.combine(day, at))
    raise InvalidInput("format")


def to_utc(local: LocalTime, zone: tzinfo) -> datetime:
    """The moment a wall-clock time in ``zone`` names, as an aware datetime."""
    return local.value.replace(tzinfo=zone)


def parse_capacity(text: str) -> int:
    """A positive whole number of seats (full-width digits welcome)."""
    digits = text.strip().translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if not digits.isdecimal() or len(digits) > 9:  # isdigit would pass "²", which int() refuses
        raise InvalidInput("format")
    value = int(digits)
    if not 0 < value <= MAX_CAPACITY:
        raise InvalidInput("capacity")
    return value


class ScheduleProblem(enum.StrEnum):
    """Which rule a schedule breaks; each has its own answer for the cadre."""

    START_PAST = "start_past"
    END_BEFORE_START = "end_before_start"
    DEADLINE_AFTER_START = "deadline_after_start"
    DEADLINE_PAST = "deadline_past"


class ScheduleRefused(ValueError):
    """A start, end or sign-up deadline that does not hold together; ``problem`` says why."""

    def __init__(self, problem: ScheduleProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def check_start(start: datetime, now: datetime) -> ScheduleProblem | None:
    """A start must lie ahead: nobody can sign up for what has begun."""
    return ScheduleProblem.START_PAST if start <= now else None


def check_end(start: datetime, end: datetime) -> ScheduleProblem | None:
    return ScheduleProblem.END_BEFORE_START if end <= start else None


def check_deadline(
    first_start: datetime, deadline: datetime, now: datetime
) -> ScheduleProblem | None:
    """Sign-up closes no later than the (first) start, and not before now."""
    if deadline > first_start:
        return ScheduleProblem.DEADLINE_AFTER_START
    if deadline <= now:
        return ScheduleProblem.DEADLINE_PAST
    return None


def check_schedule(
    start: datetime, end: datetime, deadline: datetime, now: datetime
) -> ScheduleProblem | None:
    """What is wrong with a schedule, or None when it holds together."""
    return check_start(start, now) or check_end(start, end) or check_deadline(start, deadline, now)


def require(problem: ScheduleProblem | None) -> None:
    """Raise :class:`ScheduleRefused` for a problem found by one of the checks above."""
    if problem is not None:
        raise ScheduleRefused(problem)


def clean_link(text: str) -> str | None:
    """An http(s) link for an online session, or None when the text is a place instead."""
    value = text.strip()
    if re.fullmatch(r"https?://\S{3,}", value) and len(value) <= LINK_MAX:
        return value
    return None


def clean_title(text: str, max_length: int = TITLE_MAX) -> str:
    """A one-line title or place: trimmed, never a command."""
    value = clean_label(text, max_length)
    if value.startswith("/"):
        raise InvalidInput("command")
    return value


def clean_text(text: str, max_length: int = DESCRIPTION_MAX) -> str:
    """Several lines of text (a description, a comment, a reason): line breaks kept."""
    value = unicodedata.normalize("NFC", text)
    lines = [re.sub(r"[ \t\u3000]+", " ", line).strip() for line in value.splitlines()]
    value = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    if any(
        unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs") and ch not in "\n\u200d"
        for ch in value
    ):
        raise InvalidInput("control")
    if not value:
        raise InvalidInput("empty")
    if len(value) > max_length:
        raise InvalidInput("too_long")
    if value.startswith("/"):
        raise InvalidInput("command")
    return value


def rating_hour(moment: datetime, zone: tzinfo) -> bool:
    """May a rating request go out at ``moment``: from 08:00 until 21:00 in ``zone``."""
    return RATING_HOURS[0] <= moment.astimezone(zone).hour < RATING_HOURS[1]
