"""Pure rules of grievances: codes, deadlines, who may do what when, small-count hiding.

Nothing here touches the database or Telegram, so every rule is tested
directly (and with hypothesis where the cases are many).
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
MUTE_DAYS = (1, 7, 30)

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
    return status in FINISHED and not rated  # RATE


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


# Statistics --------------------------------------------------------------------


def median_hours(durations: Iterable[timedelta]) -> float | None:
    values = [d.total_seconds() / 3600 for d in durations]
    return statistics.median(values) if values else None


def month_of(when: datetime, tz: ZoneInfo) -> str:
    return when.astimezone(tz).strftime("%Y-%m")
