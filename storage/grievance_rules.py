"""Pure rules of grievances: codes, deadlines, who may do what when, what admins may set.

Nothing here touches the database or Telegram, so every rule is tested
directly (and with hypothesis where the cases are many). A value the rules do
not take raises a typed error (`SettingRefused`, `NotOffered`, `RatingRefused`)
that the handler words through `display.grievances`.
"""

from __future__ import annotations

import math
import re
import secrets
import statistics
import unicodedata
from collections.abc import Callable, Iterable
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from storage.models import GrievanceStatus as Status
from storage.profile_rules import InvalidInput

# No 0/O, 1/I: a code read aloud or copied by hand is not misread.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 4
CODE_PATTERN = re.compile(r"\bG-([2-9A-HJ-NP-Z]{4,8})\b")
_LOOSE_CODE = re.compile(r"^\s*[Gg]\s*[-‐–—_ ]?\s*([2-9A-Za-z]{4,8})\s*$")

TEXT_MAX = 3000
CAPTION_MAX = 900
COMMENT_MAX = 1000
MAX_ATTACHMENTS = 50
DEFAULT_DAILY_LIMIT = 3
DAILY_LIMIT_MIN, DAILY_LIMIT_MAX = 1, 50
DEADLINE_MAX_HOURS = 720  # 30 days, for taking and for answering
CATEGORY_NAME_MAX = 64
MUTE_DAYS = (1, 7, 30)
STARS = range(1, 6)
# A member may reopen a case the union resolved, within this many days (never past the
# link's retention: a case whose link is gone cannot reach its author) and this often.
REOPEN_DAYS = 14
REOPEN_LIMIT = 2
LOW_STARS = 2  # a rating of 1 or 2 stars offers to reopen

# The moves (`cadre_may`, `member_may` decide each): NEW → TAKEN (take) → ANSWERED
# (a reply, from NEW too); any open state → RESOLVED (a cadre) or CLOSED (the member);
# RESOLVED → NEW (the member reopens, `reopen_refusal`: 14 days, twice at most).
OPEN: frozenset[Status] = frozenset({Status.NEW, Status.TAKEN, Status.ANSWERED})
FINISHED: frozenset[Status] = frozenset({Status.RESOLVED, Status.CLOSED})


class Urgency(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"


class CadreAction(StrEnum):
    TAKE = "take"
    REPLY = "reply"
    RESOLVE = "resolve"
    ESCALATE = "escalate"
    MUTE = "mute"
    UNMUTE = "unmute"


class MemberAction(StrEnum):
    ADD = "add"
    CLOSE = "close"
    SIGN = "sign"
    RATE = "rate"
    REOPEN = "reopen"


class Escalation(StrEnum):
    """Why a case went to the escalation group."""

    MANUAL = "manual"
    SAFETY = "safety"
    TAKE = "take"
    ANSWER = "answer"


class Refusal(StrEnum):
    """Why a member may not open a new case right now."""

    MUTED = "muted"
    LIMIT = "limit"


class ReopenRefusal(StrEnum):
    """Why a member may not reopen a case."""

    NOT_RESOLVED = "not_resolved"  # still open, or closed by the member
    TOO_LATE = "too_late"  # resolved more than the window ago
    LIMIT = "limit"  # reopened as often as a case may be


class ReopenRefused(ValueError):
    """A reopening the case does not take; ``reason`` says why (the handler words it)."""

    def __init__(self, reason: ReopenRefusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


class SettingProblem(StrEnum):
    """Which rule an admin's value for a grievance setting broke."""

    DEADLINES = "deadlines"  # two hours from 1 to 720, the second not smaller
    GROUP_ID = "group_id"  # a group's id is a negative number
    DAILY_LIMIT = "daily_limit"  # from 1 to 50 new cases a day


class SettingRefused(ValueError):
    """An admin's value the grievance settings do not take; ``problem`` says which rule."""

    def __init__(self, problem: SettingProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


class NotOffered(ValueError):
    """A choice no button of the bot offers: a forged or outdated press."""


class RatingRefused(ValueError):
    """A rating the case does not take: not finished yet, already rated, or no such stars."""

    def __init__(self, *, already_rated: bool) -> None:
        super().__init__("already rated" if already_rated else "not rateable")
        self.already_rated = already_rated


# Codes -------------------------------------------------------------------------


def new_code(length: int = CODE_LENGTH, randbelow: Callable[[int], int] = secrets.randbelow) -> str:
    """A random code like G-7K3Q: unguessable order, nothing to read from it."""
    return "G-" + "".join(CODE_ALPHABET[randbelow(len(CODE_ALPHABET))] for _ in range(length))


def find_code(text: str | None) -> str | None:
    """The first case code in a text (a card, a relayed message, a reply prompt)."""
    match = CODE_PATTERN.search(text or "")
    return "G-" + match.group(1) if match else None


def parse_code(text: str) -> str | None:
    """A code typed by hand (g-7k3q, G 7K3Q, g7k3q) in its canonical form, or None."""
    match = _LOOSE_CODE.match(unicodedata.normalize("NFKC", text))
    if not match:
        return None
    body = match.group(1).upper()
    return "G-" + body if all(ch in CODE_ALPHABET for ch in body) else None


# Text -------------------------------------------------------------------------

_REFUSED = frozenset({"Cc", "Cf", "Co", "Cs"})
_KEPT = frozenset({"\n", "\t", "\u200d"})


def clean_text(text: str, limit: int) -> str:
    """A member's or cadre's free text: line breaks kept, control characters refused."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    if any(unicodedata.category(ch) in _REFUSED and ch not in _KEPT for ch in text):
        raise InvalidInput("control")
    if not text:
        raise InvalidInput("empty")
    if len(text) > limit:
        raise InvalidInput("too_long")
    return text


# Deadlines -----------------------------------------------------------------------


def deadlines(
    created: datetime, take_hours: int, answer_hours: int, urgency: Urgency
) -> tuple[datetime, datetime]:
    """When the case must be taken and first answered; urgent cases get half the time."""
    take, answer = max(1, take_hours), max(1, answer_hours)
    if urgency is Urgency.URGENT:
        take, answer = max(1, math.ceil(take / 2)), max(1, math.ceil(answer / 2))
    answer = max(answer, take)
    return created + timedelta(hours=take), created + timedelta(hours=answer)


def overdue(
    *,
    status: Status,
    now: datetime,
    take_due: datetime,
    answer_due: datetime,
    answered: bool,
    take_breached: bool,
    answer_breached: bool,
) -> list[Escalation]:
    """The deadlines this case has newly missed: each escalates once, never twice."""
    missed: list[Escalation] = []
    if status is Status.NEW and now >= take_due and not take_breached:
        missed.append(Escalation.TAKE)
    if status in OPEN and not answered and now >= answer_due and not answer_breached:
        missed.append(Escalation.ANSWER)
    return missed


# Who may do what ------------------------------------------------------------------


def cadre_may(action: CadreAction, status: Status, *, muted: bool, escalated: bool) -> bool:
    if action is CadreAction.TAKE:
        return status is Status.NEW
    if action in (CadreAction.REPLY, CadreAction.RESOLVE):
        return status in OPEN
    if action is CadreAction.ESCALATE:
        return status in OPEN and not escalated
    if action is CadreAction.MUTE:
        return not muted
    return muted  # UNMUTE


def member_may(action: MemberAction, status: Status, *, rated: bool, signed: bool) -> bool:
    if action in (MemberAction.ADD, MemberAction.CLOSE):
        return status in OPEN
    if action is MemberAction.SIGN:
        return status in OPEN and not signed
    if action is MemberAction.REOPEN:
        return status is Status.RESOLVED  # back to NEW: see `reopen_refusal`
    return status in FINISHED and not rated  # RATE


def reopen_days(retention_days: int) -> int:
    """How long after resolution a case may be reopened: the window, within the link's life."""
    return max(0, min(REOPEN_DAYS, retention_days - 1))


def reopen_refusal(
    *,
    status: Status,
    finished_at: datetime | None,
    reopened: int,
    now: datetime,
    retention_days: int,
) -> ReopenRefusal | None:
    """Whether the author may reopen the case now (None: they may).

    Only a case the union resolved (one the member closed is theirs to reopen as a
    new case), within `REOPEN_DAYS` of it and a day before the link's retention
    ends, at most `REOPEN_LIMIT` times.
    """
    if not member_may(MemberAction.REOPEN, status, rated=False, signed=False):
        return ReopenRefusal.NOT_RESOLVED
    if reopened >= REOPEN_LIMIT:
        return ReopenRefusal.LIMIT
    if finished_at is None or now >= finished_at + timedelta(days=reopen_days(retention_days)):
        return ReopenRefusal.TOO_LATE
    return None


def breached(at: datetime | None, due: datetime) -> bool:
    """Whether this deadline was missed already; a reopened case's later one was not."""
    return at is not None and at >= due


def escalates_on_arrival(*, always_urgent: bool, urgency: Urgency, upstairs: bool) -> bool:
    """An urgent case of an always-urgent kind (safety) goes upstairs at once, if there is one."""
    return always_urgent and urgency is Urgency.URGENT and upstairs


def mute_until(now: datetime, days: int) -> datetime:
    """When a mute of ``days`` ends; only the lengths the card offers are taken."""
    if days not in MUTE_DAYS:
        raise NotOffered(days)
    return now + timedelta(days=days)


def check_stars(stars: int, *, status: Status, rated: bool) -> None:
    """A member's rating: once, of a finished case, 1 to 5 stars."""
    if stars not in STARS or not member_may(MemberAction.RATE, status, rated=rated, signed=False):
        raise RatingRefused(already_rated=rated)


def opening_refusal(
    *, today: int, limit: int, muted_until: datetime | None, now: datetime
) -> Refusal | None:
    """Whether a member may open another case now; mute first, it says more."""
    if muted_until is not None and muted_until > now:
        return Refusal.MUTED
    if today >= limit:
        return Refusal.LIMIT
    return None


ADDITION_WINDOW = timedelta(hours=1)


def next_addition_at(earlier: Iterable[datetime], now: datetime, per_hour: int) -> datetime | None:
    """When a member may add to a case again, or None if they may now.

    A sliding hour: with ``per_hour`` additions in the last hour, the next one is
    allowed an hour after the oldest of those.
    """
    recent = sorted(t for t in earlier if now - ADDITION_WINDOW < t <= now)
    if len(recent) < per_hour:
        return None
    return recent[len(recent) - per_hour] + ADDITION_WINDOW


def day_start(now: datetime, tz: ZoneInfo) -> datetime:
    """The start of the union's calendar day that contains ``now`` (aware, UTC-comparable)."""
    local = now.astimezone(tz)
    return datetime.combine(local.date(), time(0), tzinfo=tz)


def link_expired(
    *, finished_at: datetime | None, muted_until: datetime | None, now: datetime, days: int
) -> bool:
    """A finished case's link goes after the retention period, but not while a mute holds."""
    if finished_at is None or finished_at > now - timedelta(days=days):
        return False
    return muted_until is None or muted_until <= now


# Settings admins type --------------------------------------------------------------


def typed_numbers(text: str) -> list[int]:
    """Whole numbers typed by an admin; an empty list when it is not only numbers."""
    parts = text.replace(",", " ").replace("，", " ").split()
    # isdecimal, not isdigit: "²" is a digit int() refuses; "１２" (full width) is fine.
    if not all(p.removeprefix("-").isdecimal() and len(p) < 20 for p in parts):
        return []
    return [int(p) for p in parts]


def check_deadlines(take_hours: int, answer_hours: int) -> None:
    if not 1 <= take_hours <= answer_hours <= DEADLINE_MAX_HOURS:
        raise SettingRefused(SettingProblem.DEADLINES)


def read_deadlines(text: str) -> tuple[int, int]:
    """Hours to take and to answer a case, as an admin types them ("24 72")."""
    numbers = typed_numbers(text)
    if len(numbers) != 2:
        raise SettingRefused(SettingProblem.DEADLINES)
    take, answer = numbers
    check_deadlines(take, answer)
    return take, answer


def check_group(chat_id: int | None) -> None:
    """A category's own group (None: the cadre group); Telegram's group ids are negative."""
    if chat_id is not None and chat_id >= 0:
        raise SettingRefused(SettingProblem.GROUP_ID)


def read_group(text: str) -> int | None:
    """A group id as an admin types it, or None for a dash (back to the cadre group)."""
    if text.strip() in ("-", "—"):
        return None
    numbers = typed_numbers(text)
    if len(numbers) != 1:
        raise SettingRefused(SettingProblem.GROUP_ID)
    check_group(numbers[0])
    return numbers[0]


def check_daily_limit(limit: int) -> None:
    if not DAILY_LIMIT_MIN <= limit <= DAILY_LIMIT_MAX:
        raise SettingRefused(SettingProblem.DAILY_LIMIT)


def read_daily_limit(text: str) -> int:
    """How many new cases one member may open a day, as an admin types it."""
    numbers = typed_numbers(text)
    if len(numbers) != 1:
        raise SettingRefused(SettingProblem.DAILY_LIMIT)
    check_daily_limit(numbers[0])
    return numbers[0]


# Statistics --------------------------------------------------------------------


def median_hours(durations: Iterable[timedelta]) -> float | None:
    values = [d.total_seconds() / 3600 for d in durations]
    return statistics.median(values) if values else None


def month_of(when: datetime, tz: ZoneInfo) -> str:
    return when.astimezone(tz).strftime("%Y-%m")
