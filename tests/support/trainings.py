"""Trainings for tests: a course made and published through the services, places and marks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from storage import trainings
from storage.db import transaction
from storage.models import Training, TrainingSession
from storage.trainings import SessionDraft, TrainingDraft
from tests.support.members import Source, member_by_id, sessions_of


def course(
    first: datetime, title: str = "叉车安全操作培训", *, sessions: int = 2, hours: float = 3
) -> TrainingDraft:
    """A course of ``sessions`` daily sessions from ``first``, ``hours`` long, no approval."""
    return TrainingDraft(
        title=title,
        description="持证上岗前的必修课",
        signup_deadline=first - timedelta(hours=3),
        sessions=[
            SessionDraft(
                first + timedelta(days=n), first + timedelta(days=n, hours=hours), "二号培训室"
            )
            for n in range(sessions)
        ],
    )


async def published_course(
    source: Source, draft: TrainingDraft, *, now: datetime
) -> tuple[Training, list[TrainingSession]]:
    """Created and published at ``now``; the course and its sessions, earliest first."""
    async with transaction(sessions_of(source)) as session:
        training = await trainings.create(session, draft, created_by=None, now=now)
        await trainings.publish(session, training.id, now)
        meetings = await trainings.sessions_of(session, training.id)
    return training, meetings


async def enrol(source: Source, training_id: int, member_ids: Sequence[int], now: datetime) -> None:
    """Each member enrols (seated while places last), in this order."""
    for member_id in member_ids:
        person = await member_by_id(source, member_id)
        async with transaction(sessions_of(source)) as session:
            await trainings.enrol(session, training_id, person, now)


async def mark_present(
    source: Source, session_id: int, member_ids: Sequence[int], now: datetime
) -> None:
    """A cadre marks each member present at the session."""
    async with transaction(sessions_of(source)) as session:
        for member_id in member_ids:
            await trainings.toggle_present(session, session_id, member_id, by=None, now=now)
