"""The union's report for a period: every number, aggregated in SQL, nothing about anyone.

One function, :func:`build`, returns a :class:`Report`; the words, charts and the
workbook are ``display.report``'s. Counts split by something (a category, a
status) go through ``storage.disclosure.protect``; a mean, median or percentile
is given only over `THRESHOLD` values or more. Anonymous answers (poll ballots
without a member, pulse answers) never count towards "active": only what is
stored with a member already (sign-ups, enrolments, named ballots) does.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import Enum
from typing import TYPE_CHECKING

from sqlalchemy import func, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from storage.disclosure import THRESHOLD, Protected, Totals, protect
from storage.models import (
    Activity,
    ActivitySignup,
    Grievance,
    GrievanceCategory,
    GrievanceStatus,
    HandbookMonthMiss,
    HandbookSearchMonth,
    Member,
    Poll,
    PollBallot,
    TrainingAttendance,
    TrainingEnrolment,
    TrainingSession,
)
from storage.pulse import SeriesPoint, satisfaction_series

if TYPE_CHECKING:
    import holidays

TREND_MONTHS = 12
TOP_MISSES = 10
LONGEST_PERIOD_DAYS = 366
STATUSES = tuple(GrievanceStatus)


class BadPeriod(Exception):
    """The words after /report name no period the report can cover."""

    class Reason(Enum):
        FORMAT = "format"
        ORDER = "order"
        LONG = "long"

    def __init__(self, reason: BadPeriod.Reason) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True)
class Period:
    """Local calendar days from ``first`` to ``last``, both included."""

    first: date
    last: date

    def bounds(self, zone: tzinfo) -> tuple[datetime, datetime]:
        start = datetime.combine(self.first, time(0), tzinfo=zone)
        end = datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=zone)
        return start, end

    @property
    def month(self) -> str | None:
        """ "2026-11" when the period is one whole calendar month, else None."""
        if self.first.day == 1 and self.last == _month_last(self.first):
            return self.first.strftime("%Y-%m")
        return None


def _month_last(first: date) -> date:
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return following - timedelta(days=1)


def month_period(year: int, month: int) -> Period:
    first = date(year, month, 1)
    return Period(first, _month_last(first))


def shifted(period: Period, months: int) -> Period:
    """The calendar month ``months`` away from the month ``period`` starts in."""
    index = period.first.year * 12 + period.first.month - 1 + months
    return month_period(index // 12, index % 12 + 1)


def default_period(today: date) -> Period:
    """Last month: this one is not over yet."""
    return shifted(month_period(today.year, today.month), -1)


_MONTH = re.compile(r"^([0-9]{4})-([0-9]{1,2})$")  # not \d: other scripts too
_DAY = re.compile(r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$")


def _day(text: str) -> date:
    found = _DAY.match(text)
    if found is None:
        raise BadPeriod(BadPeriod.Reason.FORMAT)
    try:
        return date(*(int(part) for part in found.groups()))
    except ValueError as error:
        raise BadPeriod(BadPeriod.Reason.FORMAT) from error


def parse_period(args: Sequence[str], today: date) -> Period:
    """``[]`` last month; ``["2026-11"]`` a month; ``["2026-10-01", "2026-11-30"]`` a range."""
    if not args:
        return default_period(today)
    if len(args) == 1:
        found = _MONTH.match(args[0])
        if found is None:
            raise BadPeriod(BadPeriod.Reason.FORMAT)
        year, month = (int(part) for part in found.groups())
        if not 1 <= month <= 12 or not 2000 <= year <= 2100:
            raise BadPeriod(BadPeriod.Reason.FORMAT)
        return month_period(year, month)
    if len(args) == 2:
        first, last = _day(args[0]), _day(args[1])
        if last < first:
            raise BadPeriod(BadPeriod.Reason.ORDER)
        if (last - first).days >= LONGEST_PERIOD_DAYS:
            raise BadPeriod(BadPeriod.Reason.LONG)
        return Period(first, last)
    raise BadPeriod(BadPeriod.Reason.FORMAT)


@dataclass(frozen=True)
class Participation:
    members: int  # registered and not removed at the end of the period
    new_members: int
    active: int  # did something stored with their name in the period
    activity_signups: int  # sign-ups for activities held in the period
    checked_in: int
    attendance_rate: float | None  # checked in / signed up, over THRESHOLD sign-ups
    training_enrolments: int
    training_hours: float  # member-hours of training sessions attended


@dataclass(frozen=True)
class Spread:
    """Hours: the median and the 90th percentile, None under THRESHOLD values."""

    count: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class Grievances:
    opened: int
    categories: tuple[str, ...]  # row labels (a slug's name is display's)
    slugs: tuple[str | None, ...]
    by_status: Protected  # rows: categories, columns: STATUSES
    take: Spread
    resolve: Spread
    take_breaches: int
    answer_breaches: int
    ratings: int
    rating_mean: float | None


@dataclass(frozen=True)
class Polls:
    held: int
    recipients: int
    ballots: int
    turnout: float | None


@dataclass(frozen=True)
class HandbookSearches:
    """Handbook searches in the whole calendar months inside the period (none is counted finer).

    ``top``: the queries that found nothing, only those searched THRESHOLD
    times or more in those months. Searches are counted without the member,
    so this counts searches, not people: one member asking five times passes
    too. A rarer query is not shown at all (cadres read every one in
    /handbook_misses, as before), which keeps a one-off "张三 被辞退" out of a
    report forwarded further and out of its workbook.
    """

    months: tuple[date, ...]  # first days of the months counted
    whole: bool  # the period is exactly these months
    searches: int
    found: int
    found_share: float | None  # over THRESHOLD searches
    top: tuple[tuple[str, int], ...]

    @property
    def nothing(self) -> int:
        return self.searches - self.found


@dataclass(frozen=True)
class Report:
    period: Period
    participation: Participation
    grievances: Grievances
    satisfaction: dict[str, list[SeriesPoint]]
    polls: Polls
    handbook: HandbookSearches


def spread(hours: Sequence[float]) -> Spread:
    """Median and 90th percentile (nearest rank), withheld under THRESHOLD values."""
    if len(hours) < THRESHOLD:
        return Spread(len(hours), None, None)
    ordered = sorted(hours)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    rank = max(1, -(-9 * len(ordered) // 10))  # ceil(0.9 n)
    return Spread(len(ordered), round(median, 1), round(ordered[rank - 1], 1))


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole >= THRESHOLD else None


async def _participation(session: AsyncSession, start: datetime, end: datetime) -> Participation:
    members = await session.scalar(
        select(func.count()).select_from(Member).where(Member.active, Member.created_at < end)
    )
    new = await session.scalar(
        select(func.count())
        .select_from(Member)
        .where(Member.active, Member.created_at >= start, Member.created_at < end)
    )
    doers = union(
        select(ActivitySignup.member_id).where(
            ActivitySignup.created_at >= start, ActivitySignup.created_at < end
        ),
        select(TrainingEnrolment.member_id).where(
            TrainingEnrolment.created_at >= start, TrainingEnrolment.created_at < end
        ),
        select(PollBallot.member_id).where(
            PollBallot.member_id.is_not(None),
            PollBallot.updated_at >= start,
            PollBallot.updated_at < end,
        ),
    ).subquery()
    active = await session.scalar(select(func.count()).select_from(doers))
    signed, came = (
        await session.execute(
            select(func.count(), func.count(ActivitySignup.checked_in_at))
            .join(Activity, Activity.id == ActivitySignup.activity_id)
            .where(
                Activity.starts_at >= start,
                Activity.starts_at < end,
                ActivitySignup.status == "seated",
            )
        )
    ).one()
    enrolments = await session.scalar(
        select(func.count())
        .select_from(TrainingEnrolment)
        .where(TrainingEnrolment.created_at >= start, TrainingEnrolment.created_at < end)
    )
    # One row per session held in the period (a few dozen), with its attendance counted in SQL.
    sessions = await session.execute(
        select(TrainingSession.starts_at, TrainingSession.ends_at, func.count())
        .join(TrainingAttendance, TrainingAttendance.session_id == TrainingSession.id)
        .where(TrainingSession.starts_at >= start, TrainingSession.starts_at < end)
        .group_by(TrainingSession.id, TrainingSession.starts_at, TrainingSession.ends_at)
    )
    hours = sum((ends - starts).total_seconds() / 3600 * n for starts, ends, n in sessions)
    return Participation(
        members=int(members or 0),
        new_members=int(new or 0),
        active=int(active or 0),
        activity_signups=int(signed),
        checked_in=int(came),
        attendance_rate=_ratio(int(came), int(signed)),
        training_enrolments=int(enrolments or 0),
        training_hours=round(hours, 1),
    )


async def _grievances(session: AsyncSession, start: datetime, end: datetime) -> Grievances:
    in_period = (Grievance.created_at >= start, Grievance.created_at < end)
    categories = (
        await session.execute(
            select(GrievanceCategory.id, GrievanceCategory.slug, GrievanceCategory.name).order_by(
                GrievanceCategory.position, GrievanceCategory.id
            )
        )
    ).all()
    counts = {
        (category, status): int(n)
        for category, status, n in await session.execute(
            select(Grievance.category_id, Grievance.status, func.count())
            .where(*in_period)
            .group_by(Grievance.category_id, Grievance.status)
        )
    }
    table = [[counts.get((row.id, s.value), 0) for s in STATUSES] for row in categories]
    # A cadre sees every case card, so the cases per category are known anyway.
    protected = protect(table, row_totals=Totals.KNOWN) if table else protect([[0] * 5])
    # Only the two durations of the period's cases are read, never whole rows. Resolving
    # is finishing (resolved or closed, as /grievance_stats counts it), not the first answer.
    times = (
        await session.execute(
            select(Grievance.created_at, Grievance.taken_at, Grievance.finished_at).where(
                *in_period
            )
        )
    ).all()
    take = [(taken - made).total_seconds() / 3600 for made, taken, _ in times if taken]
    resolve = [(done - made).total_seconds() / 3600 for made, _, done in times if done]
    breaches = (
        await session.execute(
            select(
                func.count(Grievance.take_breached_at), func.count(Grievance.answer_breached_at)
            ).where(*in_period)
        )
    ).one()
    rated, total = (
        await session.execute(
            select(func.count(Grievance.rating), func.sum(Grievance.rating)).where(
                Grievance.rated_at >= start, Grievance.rated_at < end
            )
        )
    ).one()
    return Grievances(
        opened=sum(counts.values()),
        categories=tuple(row.name or "" for row in categories),
        slugs=tuple(row.slug for row in categories),
        by_status=protected,
        take=spread(take),
        resolve=spread(resolve),
        take_breaches=int(breaches[0]),
        answer_breaches=int(breaches[1]),
        ratings=int(rated),
        rating_mean=round(int(total or 0) / int(rated), 2) if rated >= THRESHOLD else None,
    )


async def _polls(session: AsyncSession, start: datetime, end: datetime) -> Polls:
    held, recipients = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(Poll.recipients), 0)).where(
                Poll.created_at >= start, Poll.created_at < end
            )
        )
    ).one()
    ballots = await session.scalar(
        select(func.count())
        .select_from(PollBallot)
        .join(Poll, Poll.id == PollBallot.poll_id)
        .where(Poll.created_at >= start, Poll.created_at < end, PollBallot.choices > 0)
    )
    return Polls(
        held=int(held),
        recipients=int(recipients),
        ballots=int(ballots or 0),
        turnout=_ratio(int(ballots or 0), int(recipients)),
    )


def whole_months(period: Period) -> tuple[date, ...]:
    """The calendar months lying wholly inside the period, as their first days."""
    months = []
    month = period.first.replace(day=1)
    if month < period.first:
        month = shifted(month_period(month.year, month.month), 1).first
    while _month_last(month) <= period.last:
        months.append(month)
        month = shifted(month_period(month.year, month.month), 1).first
    return tuple(months)


async def _handbook(session: AsyncSession, period: Period) -> HandbookSearches:
    months = whole_months(period)
    whole = bool(months) and months[0] == period.first and _month_last(months[-1]) == period.last
    if not months:
        return HandbookSearches(months, whole, 0, 0, None, ())
    searches, found = (
        await session.execute(
            select(
                func.coalesce(func.sum(HandbookSearchMonth.searches), 0),
                func.coalesce(func.sum(HandbookSearchMonth.found), 0),
            ).where(HandbookSearchMonth.month.in_(months))
        )
    ).one()
    count = func.sum(HandbookMonthMiss.count)
    top = await session.execute(
        select(HandbookMonthMiss.query, count)
        .where(HandbookMonthMiss.month.in_(months))
        .group_by(HandbookMonthMiss.query)
        .having(count >= THRESHOLD)
        .order_by(count.desc(), HandbookMonthMiss.query)
        .limit(TOP_MISSES)
    )
    return HandbookSearches(
        months,
        whole,
        int(searches),
        int(found),
        _ratio(int(found), int(searches)),
        tuple((q, int(n)) for q, n in top),
    )


async def build(session: AsyncSession, period: Period, *, now: datetime, zone: tzinfo) -> Report:
    """The report over ``period`` (local days); the trends: the 12 months up to its last."""
    start, end = period.bounds(zone)
    return Report(
        period=period,
        participation=await _participation(session, start, end),
        grievances=await _grievances(session, start, end),
        satisfaction=await satisfaction_series(
            session, TREND_MONTHS, now=now, zone=zone, until=end - timedelta(microseconds=1)
        ),
        polls=await _polls(session, start, end),
        handbook=await _handbook(session, period),
    )


REPORT_HOUR = 9  # the scheduled report goes to the cadre group from 09:00 local


@functools.cache
def _working_calendar(year: int) -> holidays.HolidayBase:
    # China's public holidays and its adjusted working days (调休: a Saturday or
    # Sunday worked to bridge a holiday), as the `holidays` package knows them
    # (imported here, not with the bot: `storage.occasions` says why).
    import holidays

    return holidays.country_holidays("CN", years=year)


def first_working_day(year: int, month: int) -> date:
    """The month's first working day in China: not a weekend unless an adjusted
    working day (调休), not a public holiday (e.g. 2026-10-08, after National Day)."""
    calendar = _working_calendar(year)
    day = date(year, month, 1)
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    return day


def scheduled_period(now: datetime, zone: tzinfo) -> Period | None:
    """Last month's period when ``now`` is on this month's first working day from 09:00."""
    local = now.astimezone(zone)
    if local.date() != first_working_day(local.year, local.month) or local.hour < REPORT_HOUR:
        return None
    return default_period(local.date())
