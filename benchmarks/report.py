"""The union's report for a large union: seconds and peak memory, storage and rendering.

    .venv/bin/python benchmarks/report.py
    .venv/bin/python benchmarks/report.py --database postgres

Builds, with bulk inserts in a scratch database: 100,000 members, 12 months of
activity (20 activities a month with 200 sign-ups each, 2 trainings a month of
two sessions with 60 enrolments, 2 polls a month with 2,000 ballots, 3,000
pulse answers and 1,500 activity ratings a month) and 10,000 grievance cases
over the year. Then times last month's `storage.report.build` and its
rendering (message, both charts, the workbook), and the peak of Python
allocations (tracemalloc, a second run) and the process's peak RSS.
Target: under 10 s and 200 MB.

Measured here (2 cores): SQLite 0.52 s, PostgreSQL 0.48 s (1.2–1.3 s cold,
in a fresh process); peak Python allocations 11-12 MiB during a report; the
fresh process peaks at 165–166 MiB (104 MiB after imports: matplotlib,
openpyxl, NumPy and HiGHS load at the first report). Those figures predate
the render child: charts and the workbook are now drawn in a child process
(`display.rendering`), so the times include starting it and the RSS printed
here is without matplotlib and openpyxl, which load only in the child.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import secrets
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from scratch import bulk, scratch_database
from sqlalchemy import insert, select

from core.i18n import translator
from display import report as show
from storage import grievances
from storage.db import make_engine, make_session_factory, transaction
from storage.models import (
    Activity,
    ActivityRating,
    ActivitySignup,
    Grievance,
    Member,
    Poll,
    PollBallot,
    PulseAnswer,
    PulseMonth,
    Training,
    TrainingAttendance,
    TrainingEnrolment,
    TrainingSession,
)
from storage.report import Period, build, default_period

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, 2026-12-02
ROOT = str(Path(__file__).resolve().parent.parent)


def _month_start(back: int) -> datetime:
    index = 2026 * 12 + 11 - back  # month 0 = December 2026
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=ZONE)


async def _seed(sessions: Any, members: int, cases: int) -> None:
    async with transaction(sessions) as session:
        year_ago = _month_start(12)
        await bulk(
            session,
            insert(Member),
            [
                {
                    "telegram_id": 600_000_000 + n,
                    "name": f"会员{n}",
                    "language": "zh_CN",
                    "role": "member",
                    "active": True,
                    "created_at": year_ago + timedelta(minutes=5 * n),
                    "updated_at": year_ago,
                }
                for n in range(members)
            ],
        )
        ids = list(await session.scalars(select(Member.id).order_by(Member.id)))
        categories = [c.id for c in await grievances.list_categories(session, active_only=False)]
    for back in range(1, 13):
        start = _month_start(back)
        async with transaction(sessions) as session:
            activities = []
            for a in range(20):
                begins = start + timedelta(days=a, hours=14)
                activities.append(
                    Activity(
                        title=f"活动{back}-{a}",
                        place="活动室",
                        starts_at=begins,
                        ends_at=begins + timedelta(hours=2),
                        signup_deadline=begins - timedelta(days=1),
                        audience={},
                        status="published",
                        checkin_code="123456",
                    )
                )
            trainings = [
                Training(title=f"培训{back}-{n}", signup_deadline=start, status="published")
                for n in range(2)
            ]
            polls = [
                Poll(question=f"投票{back}-{n}", audience={}, recipients=members, created_at=start)
                for n in range(2)
            ]
            session.add_all([*activities, *trainings, *polls])
            await session.flush()
            offset = back * 4000
            signups, ratings = [], []
            for a, activity in enumerate(activities):
                for n in range(200):
                    who = ids[(offset + a * 200 + n) % len(ids)]
                    signups.append(
                        {
                            "activity_id": activity.id,
                            "member_id": who,
                            "status": "seated",
                            "seats": 1,
                            "ticket": n + 1,
                            "created_at": activity.starts_at - timedelta(days=2),
                            "checked_in_at": activity.starts_at if n % 4 else None,
                        }
                    )
                    if n < 75:
                        ratings.append(
                            {
                                "activity_id": activity.id,
                                "member_id": who,
                                "stars": 3 + n % 3,
                                "created_at": activity.ends_at,
                            }
                        )
            await bulk(session, insert(ActivitySignup), signups)
            await bulk(session, insert(ActivityRating), ratings)
            enrolments, attendance = [], []
            for t, training in enumerate(trainings):
                meetings = [
                    TrainingSession(
                        training_id=training.id,
                        starts_at=start + timedelta(days=5 + 7 * s + t, hours=9),
                        ends_at=start + timedelta(days=5 + 7 * s + t, hours=12),
                    )
                    for s in range(2)
                ]
                session.add_all(meetings)
                await session.flush()
                for n in range(60):
                    who = ids[(offset + 90_000 + t * 60 + n) % len(ids)]
                    enrolments.append(
                        {
                            "training_id": training.id,
                            "member_id": who,
                            "status": "seated",
                            "seats": 1,
                            "ticket": n + 1,
                            "created_at": start,
                        }
                    )
                    attendance += [
                        {"session_id": m.id, "member_id": who, "marked_at": m.ends_at}
                        for m in meetings
                    ]
            await bulk(session, insert(TrainingEnrolment), enrolments)
            await bulk(session, insert(TrainingAttendance), attendance)
            ballots = [
                {
                    "poll_id": poll.id,
                    "voter_key": secrets.token_hex(16),
                    "choices": 1,
                    "updated_at": start + timedelta(days=1),
                }
                for poll in polls
                for _ in range(2000)
            ]
            await bulk(session, insert(PollBallot), ballots)
            label = start.strftime("%Y-%m")
            month = PulseMonth(
                month=label,
                sent_at=start + timedelta(days=1),
                closes_at=_month_start(back - 1),
                recipients=members,
            )
            session.add(month)
            await session.flush()
            await bulk(
                session,
                insert(PulseAnswer),
                [
                    {
                        "month_id": month.id,
                        "voter_key": secrets.token_hex(16),
                        "stars": 1 + n % 5,
                        "answered_on": (start + timedelta(days=2)).date(),
                    }
                    for n in range(3000)
                ],
            )
    async with transaction(sessions) as session:
        rows = []
        for n in range(cases):
            opened = _month_start(12) + timedelta(minutes=52 * n)
            rows.append(
                {
                    "code": f"B{n:09d}",
                    "category_id": categories[n % len(categories)],
                    "urgency": "normal",
                    "status": ("new", "taken", "answered", "resolved", "closed")[n % 5],
                    "created_at": opened,
                    "take_due_at": opened + timedelta(hours=24),
                    "answer_due_at": opened + timedelta(hours=72),
                    "taken_at": opened + timedelta(hours=1 + n % 30) if n % 5 else None,
                    "answered_at": opened + timedelta(hours=20 + n % 90) if n % 5 > 1 else None,
                    "finished_at": opened + timedelta(hours=44 + n % 90) if n % 5 > 2 else None,
                    "take_breached_at": opened + timedelta(hours=24)
                    if n % 5 and n % 30 > 23
                    else None,
                    "rating": 1 + n % 5 if n % 5 > 2 else None,
                    "rated_at": opened + timedelta(hours=100) if n % 5 > 2 else None,
                }
            )
        await bulk(session, insert(Grievance), rows)


async def _report(sessions: Any, period: Period) -> tuple[int, int]:
    t = translator("zh_CN")
    async with sessions() as session:
        built = await build(session, period, now=NOW, zone=ZONE)
    message = show.text(t, built)
    drawn = await show.files(t, built)
    return len(message), sum(len(p.png) for p in drawn.pictures) + len(drawn.workbook)


async def run(database: str, members: int, cases: int) -> None:
    async with scratch_database(database, "bench_report") as (engine, url):
        sessions = make_session_factory(engine)
        began = time.perf_counter()
        await _seed(sessions, members, cases)
        seeded = time.perf_counter() - began
        period = default_period(NOW.astimezone(ZONE).date())
        await _report(sessions, period)  # warm: matplotlib's fonts, the database's caches
        began = time.perf_counter()
        chars, size = await _report(sessions, period)
        took = time.perf_counter() - began
        tracemalloc.start()
        await _report(sessions, period)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rss = peak_rss_mib()
        # A fresh process that only makes the report: its peak RSS is the report's own
        # (imports, matplotlib and the database driver included), not the seeding's.
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--measure",
            url,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": ROOT},
        )
        output, _ = await child.communicate()
        print(f"database         {database}")
        print(
            f"data             {members} members, {cases} cases, 12 months (seeded in {seeded:.0f} s)"
        )
        print(
            f"report {period.month}   {took:.2f} s (storage and rendering; {chars} chars, {size} bytes of files)"
        )
        print(f"peak Python mem  {peak / 2**20:.1f} MiB during one report (tracemalloc)")
        print(f"peak RSS         {rss:.0f} MiB for the whole process, seeding included")
        print(f"fresh process    {output.decode().strip()}")


def peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM), in MiB.

    Not getrusage's ru_maxrss: Linux carries that across fork and exec, so a
    child started by this benchmark would report its parent's peak.
    """
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux


async def measure(url: str) -> None:
    resting = peak_rss_mib()  # the imports alone
    engine = make_engine(url)
    try:
        sessions = make_session_factory(engine)
        began = time.perf_counter()
        await _report(sessions, default_period(NOW.astimezone(ZONE).date()))
        took = time.perf_counter() - began
    finally:
        await engine.dispose()
    rss = peak_rss_mib()
    print(
        f"{took:.2f} s for a cold report, peak RSS {rss:.0f} MiB ({resting:.0f} MiB after imports)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--measure", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        asyncio.run(measure(args.measure))
        return
    asyncio.run(run(args.database, args.members, args.cases))


if __name__ == "__main__":
    main()
