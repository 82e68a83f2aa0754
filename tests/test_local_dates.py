"""Every screen with a date shows the union's day, never the UTC one.

The activity starts at 2026-12-08 06:30 in Asia/Shanghai, which is 22:30 UTC on
12-07: each screen below must say 12-08 (and never 12-07), in both languages.
The audience label comes from the database (SQLite and PostgreSQL), the rest
from the display functions the handlers, notices and jobs share.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import dates
from core.i18n import Translator, translator
from display import activities as act
from display import broadcasts as bc
from display import grievances as gv
from display import polls as pl
from display import trainings as tr
from storage import activities, audiences
from storage.audiences import Audience
from storage.members import Page
from storage.models import Activity, Grievance, Poll, Training, TrainingSession
from storage.polls import PollView
from tests.support.activities import draft, published
from tests.support.clock import T0

ZONE = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 12, 7, 22, 30, tzinfo=UTC)  # 2026-12-08 06:30 in Shanghai
TITLE = "摄影协会外拍：江边晨光"
LANGUAGES = ["zh_CN", "en"]


def _activity() -> Activity:
    return Activity(
        id=7,
        title=TITLE,
        description="带上相机",
        place="滨江步道",
        starts_at=AT,
        ends_at=AT + timedelta(hours=2),
        signup_deadline=AT - timedelta(hours=1),
        capacity=10,
        seats_taken=3,
        guests_allowed=False,
        status="published",
    )


def _training() -> tuple[Training, TrainingSession]:
    training = Training(
        id=3,
        title="摄影入门",
        description="",
        capacity=10,
        seats_taken=1,
        status="published",
    )
    meeting = TrainingSession(
        id=1, training_id=3, starts_at=AT, ends_at=AT + timedelta(hours=2), place="305 室"
    )
    return training, meeting


def _poll() -> PollView:
    poll = Poll(
        id=5,
        question="外拍改到周日吗？",
        status="open",
        closes_at=AT,
        remind_at=AT - timedelta(hours=1),
        anonymous=False,
        multiple=False,
        max_choices=1,
        results_visible="after_vote",
    )
    return PollView(poll, ("好", "不好"))


def _grievance() -> Grievance:
    return Grievance(
        id=1,
        code="G-7K3Q",
        status="new",
        urgency="normal",
        created_at=AT,
        take_due_at=AT,
        answer_due_at=AT,
    )


SCREENS: dict[str, Callable[[Translator], str]] = {
    "activity list button": lambda t: (
        act.list_keyboard(t, ZONE, Page([_activity()], 1, 0, 10), cadre=False)
        .inline_keyboard[0][0]
        .text
    ),
    "activity card": lambda t: act.card_text(
        t, ZONE, _activity(), signup=None, position=None, waiting=0, now=T0
    ),
    "activity announcement": lambda t: act.announcement(t, ZONE, _activity()),
    "activity reminder": lambda t: act.reminder_notice(t, ZONE, _activity(), 60),
    "activity moved": lambda t: act.moved_notice(t, ZONE, _activity()),
    "training session line": lambda t: tr.session_line(t, ZONE, _training()[1]),
    "training reminder": lambda t: tr.reminder_notice(t, ZONE, *_training(), 60),
    "poll closing time": lambda t: pl.closing_line(t, _poll().poll, ZONE),
    "poll text": lambda t: pl.poll_text(t, _poll(), ZONE, 0),
    "poll reminder time": lambda t: pl.local_time(AT, ZONE),
    "grievance card and deadlines": lambda t: gv.card_text(
        t, ZONE, _grievance(), body="空调坏了", attachments=0, cadre=None, signature=None, now=T0
    ),
    "grievance taken notice": lambda t: gv.notice(t, "taken", "G-7K3Q", ZONE, AT),
    "broadcast schedule": lambda t: bc.local_time(AT, ZONE),
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("screen", sorted(SCREENS))
def test_each_screen_shows_the_local_day(screen: str, language: str) -> None:
    text = SCREENS[screen](translator(language))
    print(f"--- {screen} [{language}]\n{text}")
    assert "12-08" in text, text
    assert "12-07" not in text, text


async def test_the_broadcast_audience_list_names_an_activity_by_its_local_day(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    activity = await published(sessions, draft(T0, TITLE, starts_in=AT - T0))
    audience = Audience(items={"act": frozenset({activity.id})})
    async with sessions() as session:
        listed = await activities.PARTICIPANTS.choices(session, ZONE)
        described = await audiences.describe(session, audience, ZONE)
    assert (activity.id, f"{TITLE} · 12-08") in listed
    for language in LANGUAGES:
        text = bc.describe_audience(translator(language), described)
        print(f"--- broadcast audience [{language}]\n{text}")
        assert f"{TITLE} · 12-08" in text and "12-07" not in text


def test_a_naive_moment_is_refused_not_guessed() -> None:
    with pytest.raises(ValueError, match="aware"):
        dates.minute(datetime(2026, 12, 7, 22, 30), ZONE)
    assert dates.month_day(AT, ZONE) == "12-08" and dates.clock(AT, ZONE) == "06:30"
