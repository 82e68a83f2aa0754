"""The monthly satisfaction pulse: the switch, the month, the answers, the results.

No Telegram here. Once a month (`jobs.pulse`) each registered member is asked
"are you satisfied with the union's work this month?" (1–5 stars, then an
optional comment).

Anonymous by construction, as anonymous poll ballots (`storage.polls`): an
answer row holds a keyed hash of month and member (``voter_key``: the same
member always finds it, so nobody answers twice, yet without `SECRET_KEY`
nobody can tell whose it is), no member id, the comment sealed, and the day it
was given as its only time. The questions go out as sealed outbox rows under a
pseudonym (`notices.pulse`), so the outbox cannot be joined to the answers
either.

A month is one `PulseMonth` row, unique by its local month: the job inserts it
with ON CONFLICT DO NOTHING and only the transaction that inserted it enqueues
the questions, so two runs or two instances send each question once. Members
who register after that wait for the next month; members who blocked the bot
are not asked.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import enrolment_rules
from storage.audiences import Recipient
from storage.crypto import Cipher, DecryptionError, KeyedHasher
from storage.db import insert_for
from storage.disclosure import THRESHOLD
from storage.models import (
    ActivityRating,
    FeatureSetting,
    Grievance,
    Member,
    PulseAnswer,
    PulseMonth,
    TrainingRating,
)

ENABLED = "pulse.enabled"
COMMENT_MAX = 500
STARS = range(1, 6)
# The question goes out from the configured hour until this local hour, on weekdays.
LATEST_HOUR = 20


class Refusal(enum.StrEnum):
    GONE = "gone"  # no such month (a forged or very old button)
    CLOSED = "closed"  # the month is over
    ANSWERED = "answered"  # this member already answered this month
    NO_ANSWER = "no_answer"  # a comment without an answer first


class PulseRefused(Exception):
    """The answer (or comment) is not taken; ``reason`` says why."""

    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True)
class PulseKeys:
    """The keyed hashes naming an answer and a question, the cipher sealing comments."""

    voter: KeyedHasher
    comment: Cipher

    @classmethod
    def from_secret(cls, secret: str) -> PulseKeys:
        return cls(KeyedHasher(secret, "pulse-voter"), Cipher(secret, "pulse-comment"))

    def voter_key(self, month_id: int, member_id: int) -> str:
        return self.voter(f"{month_id}:{member_id}")

    def question_key(self, month_id: int, member_id: int) -> str:
        """The outbox key of a member's question: names neither them nor their answer."""
        return f"pulse:{month_id}:" + self.voter(f"ask:{month_id}:{member_id}")[:32]

    def seal_comment(self, month_id: int, text: str) -> str:
        return self.comment.encrypt(text, f"pulse:{month_id}")

    def open_comment(self, month_id: int, sealed: str | None) -> str | None:
        if sealed is None:
            return None
        try:
            return self.comment.decrypt(sealed, f"pulse:{month_id}")
        except DecryptionError:
            return None


# The switch ----------------------------------------------------------------------


async def enabled(session: AsyncSession) -> bool:
    row = await session.get(FeatureSetting, ENABLED)
    return bool(row.value) if row is not None else False


async def set_enabled(session: AsyncSession, on: bool) -> None:
    row = await session.get(FeatureSetting, ENABLED)
    if row is None:
        session.add(FeatureSetting(key=ENABLED, value=on))
    else:
        row.value = on
    await session.flush()


# Months ------------------------------------------------------------------------------


def month_label(moment: datetime, zone: tzinfo) -> str:
    """The union's local month of ``moment``, as "2026-12"."""
    return moment.astimezone(zone).strftime("%Y-%m")


def month_start(label: str, zone: tzinfo) -> datetime:
    year, month = (int(part) for part in label.split("-"))
    return datetime.combine(date(year, month, 1), time(0), tzinfo=zone)


def next_month(label: str) -> str:
    year, month = (int(part) for part in label.split("-"))
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}"


def previous_month(label: str) -> str:
    year, month = (int(part) for part in label.split("-"))
    return f"{year - (month == 1):04d}-{(month - 2) % 12 + 1:02d}"


def due(moment: datetime, zone: tzinfo, hour: int) -> bool:
    """Is ``moment`` a decent time to ask: a weekday, from ``hour`` to `LATEST_HOUR` local."""
    local = moment.astimezone(zone)
    return local.weekday() < 5 and hour <= local.hour < max(LATEST_HOUR, hour + 1)


async def open_month(session: AsyncSession, now: datetime, zone: tzinfo) -> PulseMonth | None:
    """Insert this month's row; the row if this call made it, None if it existed."""
    label = month_label(now, zone)
    closes = month_start(next_month(label), zone)
    insert = insert_for(session)
    result = await session.execute(
        insert(PulseMonth)
        .values(month=label, sent_at=now, closes_at=closes, recipients=0)
        .on_conflict_do_nothing(index_elements=["month"])
        .returning(PulseMonth.id)
    )
    month_id = result.scalar()
    if month_id is None:
        return None
    return await session.get(PulseMonth, month_id)


async def current(session: AsyncSession, now: datetime, zone: tzinfo) -> PulseMonth | None:
    return await session.scalar(
        select(PulseMonth).where(PulseMonth.month == month_label(now, zone))
    )


async def recipients(
    session: AsyncSession, *, after: int = 0, limit: int = 5000
) -> list[Recipient]:
    """Registered, active members who have not blocked the bot, by id, a page at a time."""
    rows = await session.execute(
        select(Member.id, Member.telegram_id, Member.language)
        .where(Member.active.is_(True), Member.blocked_at.is_(None), Member.id > after)
        .order_by(Member.id)
        .limit(limit)
    )
    return [Recipient(int(i), int(t), str(lang)) for i, t, lang in rows]


# Answers ------------------------------------------------------------------------------


async def _open(session: AsyncSession, month_id: int, now: datetime) -> PulseMonth:
    month = await session.get(PulseMonth, month_id)
    if month is None:
        raise PulseRefused(Refusal.GONE)
    if now >= month.closes_at:
        raise PulseRefused(Refusal.CLOSED)
    return month


async def answer(
    session: AsyncSession,
    month_id: int,
    member_id: int,
    stars: int,
    *,
    now: datetime,
    keys: PulseKeys,
) -> None:
    """Record one member's stars for the month, once; raises PulseRefused."""
    if stars not in STARS:
        raise PulseRefused(Refusal.GONE)
    await _open(session, month_id, now)
    insert = insert_for(session)
    result = await session.execute(
        insert(PulseAnswer)
        .values(
            month_id=month_id,
            voter_key=keys.voter_key(month_id, member_id),
            stars=stars,
            comment_sealed=None,
            # The day only: an exact time could be matched with the member's other rows.
            answered_on=now.date(),
        )
        .on_conflict_do_nothing(index_elements=["month_id", "voter_key"])
        .returning(PulseAnswer.id)
    )
    if result.first() is None:
        raise PulseRefused(Refusal.ANSWERED)


async def comment(
    session: AsyncSession,
    month_id: int,
    member_id: int,
    text: str,
    *,
    now: datetime,
    keys: PulseKeys,
) -> None:
    """Add the comment to the member's answer (once); raises InvalidInput or PulseRefused."""
    cleaned = enrolment_rules.clean_text(text, COMMENT_MAX)
    await _open(session, month_id, now)
    result = await session.execute(
        update(PulseAnswer)
        .where(
            PulseAnswer.month_id == month_id,
            PulseAnswer.voter_key == keys.voter_key(month_id, member_id),
            PulseAnswer.comment_sealed.is_(None),
        )
        .values(comment_sealed=keys.seal_comment(month_id, cleaned))
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]  # a CursorResult
        raise PulseRefused(Refusal.NO_ANSWER)


# Results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthResult:
    """One month's answers as they may be shown.

    ``count`` is always shown (how many answered is no one's answer); ``mean``
    and ``distribution`` (answers per star, 1 to 5) are None while hidden: under
    `THRESHOLD` answers, and while the month is still under way (``closed``
    False), since two looks at an open month would differ by exactly the answers
    given in between. Like an anonymous poll's overall result, a closed month
    with enough answers shows every star's count.
    """

    month: str
    asked: int
    count: int
    mean: float | None
    distribution: tuple[int, ...] | None
    closed: bool = True

    @property
    def shown(self) -> bool:
        return self.mean is not None


def _result(month: str, asked: int, counts: Sequence[int], closed: bool) -> MonthResult:
    total = sum(counts)
    if total < THRESHOLD or not closed:
        return MonthResult(month, asked, total, None, None, closed)
    mean = sum(stars * n for stars, n in zip(STARS, counts, strict=True)) / total
    return MonthResult(month, asked, total, round(mean, 2), tuple(counts))


async def monthly(session: AsyncSession, months: int, *, now: datetime) -> list[MonthResult]:
    """The last ``months`` pulse months at ``now``, newest first, as they may be shown."""
    rows = list(
        await session.scalars(select(PulseMonth).order_by(PulseMonth.month.desc()).limit(months))
    )
    if not rows:
        return []
    counts: dict[tuple[int, int], int] = {}
    for month_id, stars, n in await session.execute(
        select(PulseAnswer.month_id, PulseAnswer.stars, func.count())
        .where(PulseAnswer.month_id.in_([r.id for r in rows]))
        .group_by(PulseAnswer.month_id, PulseAnswer.stars)
    ):
        counts[(int(month_id), int(stars))] = int(n)
    return [
        _result(
            r.month, r.recipients, [counts.get((r.id, s), 0) for s in STARS], now >= r.closes_at
        )
        for r in rows
    ]


async def comments(
    session: AsyncSession, month: str, keys: PulseKeys, *, now: datetime
) -> list[str]:
    """A closed month's comments, opened, sorted; none under `THRESHOLD` answers."""
    row = await session.scalar(select(PulseMonth).where(PulseMonth.month == month))
    if row is None or now < row.closes_at:
        return []
    sealed = list(
        await session.execute(
            select(PulseAnswer.comment_sealed).where(PulseAnswer.month_id == row.id)
        )
    )
    if len(sealed) < THRESHOLD:
        return []
    opened = [keys.open_comment(row.id, s) for (s,) in sealed]
    return sorted(text for text in opened if text)


# The satisfaction series --------------------------------------------------------------


@dataclass(frozen=True)
class SeriesPoint:
    """One month of one satisfaction source: ``mean`` None under `THRESHOLD` ratings
    (and, for the pulse, while the month is under way: see `MonthResult`)."""

    month: str
    count: int
    mean: float | None


SOURCES = ("pulse", "grievances", "activities", "trainings")


def _point(month: str, count: int, total: int) -> SeriesPoint:
    """A month's point from how many stars were given and their sum."""
    if count < THRESHOLD:
        return SeriesPoint(month, count, None)
    return SeriesPoint(month, count, round(total / count, 2))


def _labels(now: datetime, zone: tzinfo, months: int) -> list[str]:
    labels = [month_label(now, zone)]
    while len(labels) < months:
        labels.append(previous_month(labels[-1]))
    return labels[::-1]


async def satisfaction_series(
    session: AsyncSession,
    months: int,
    *,
    now: datetime,
    zone: tzinfo,
    until: datetime | None = None,
) -> dict[str, list[SeriesPoint]]:
    """Every satisfaction measure the bot keeps, per local month, oldest first.

    The last ``months`` months up to ``until``'s (``now``'s by default; a report
    on a past month ends its trend there): the pulse, the ratings members
    give a grievance when it is answered, and the ratings of activities and of
    trainings (each in the month it was given). Means are hidden under `THRESHOLD`
    ratings, as any published count is, and the pulse's while its month is
    under way.
    """
    labels = _labels(now if until is None or until > now else until, zone, months)
    # Per source and month: [how many stars, their sum], counted by the database (at
    # 100,000 members a year holds 36,000 pulse answers and 18,000 activity ratings:
    # 16 MiB of Python at the peak when they were fetched as rows, under 1 MiB now).
    buckets: dict[str, dict[str, list[int]]] = {s: {m: [0, 0] for m in labels} for s in SOURCES}
    pulse_rows = await session.execute(
        select(PulseMonth.month, PulseMonth.closes_at, func.count(), func.sum(PulseAnswer.stars))
        .join(PulseAnswer, PulseAnswer.month_id == PulseMonth.id)
        .where(PulseMonth.month.in_(labels))
        .group_by(PulseMonth.month, PulseMonth.closes_at)
    )
    open_months: set[str] = set()
    for month, closes_at, count, total in pulse_rows:
        buckets["pulse"][month] = [count, int(total or 0)]  # the month is unique
        if now < closes_at:
            open_months.add(month)
    # A rating counts in its local month: between the UTC instants the months start.
    starts = [month_start(m, zone) for m in labels]
    starts.append(month_start(next_month(labels[-1]), zone))
    rated = (
        ("grievances", Grievance.rated_at, Grievance.rating),
        ("activities", ActivityRating.created_at, ActivityRating.stars),
        ("trainings", TrainingRating.created_at, TrainingRating.stars),
    )
    for source, at, stars in rated:
        in_month = case(*((at < starts[i + 1], label) for i, label in enumerate(labels)))
        given = (
            select(in_month.label("month"), stars.label("stars"))
            .where(stars.is_not(None), at >= starts[0], at < starts[-1])
            .subquery()
        )
        counted = await session.execute(
            select(given.c.month, func.count(), func.sum(given.c.stars)).group_by(given.c.month)
        )
        for label, count, total in counted:
            buckets[source][label] = [count, int(total or 0)]
    series = {s: [_point(m, *buckets[s][m]) for m in labels] for s in SOURCES}
    series["pulse"] = [
        SeriesPoint(p.month, p.count, None) if p.month in open_months else p
        for p in series["pulse"]
    ]
    return series
