"""Ratings of an offering after it took place: activities and trainings alike.

A member gives an ended activity, or a training they attended a session of,
1 to 5 stars and then, if they like, a comment. Each feature decides who may
rate (`storage.activities.rate`, `storage.trainings.rate`, which then call
:func:`give`); the comment and the summary are the same for both and are
asked of this module with the feature's model. Rating again changes the stars
(one row per offering and member).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from storage import enrolment_rules as rules
from storage.models import ActivityRating, TrainingRating
from storage.offerings import Refused

Rating = ActivityRating | TrainingRating
Model = type[ActivityRating] | type[TrainingRating]


@dataclass(frozen=True)
class RatingSummary:
    count: int
    average: float | None
    comments: list[str]


def check_stars(stars: int) -> None:
    if not 1 <= stars <= 5:
        raise Refused("stars")


def _parent(model: Model) -> InstrumentedAttribute[int]:
    return ActivityRating.activity_id if model is ActivityRating else TrainingRating.training_id


def _key(model: Model, parent_id: int, member_id: int) -> dict[str, int]:
    return {_parent(model).key: parent_id, "member_id": member_id}


async def give(
    session: AsyncSession, model: Model, parent_id: int, member_id: int, stars: int, now: datetime
) -> Rating:
    """Store the stars (or change them); the caller has checked the member may rate."""
    check_stars(stars)
    rating = cast("Rating | None", await session.get(model, (parent_id, member_id)))
    if rating is None:
        rating = model(**_key(model, parent_id, member_id), stars=stars, comment="", created_at=now)
        session.add(rating)
    else:
        rating.stars = stars
    await session.flush()
    return rating


async def comment(
    session: AsyncSession, model: Model, parent_id: int, member_id: int, text: str
) -> bool:
    """The comment after the stars (raises InvalidInput when too long); False: no rating."""
    rating = cast("Rating | None", await session.get(model, (parent_id, member_id)))
    if rating is None:
        return False
    rating.comment = rules.clean_text(text, rules.COMMENT_MAX)
    await session.flush()
    return True


async def summary(session: AsyncSession, model: Model, parent_id: int) -> RatingSummary:
    """How many rated, the mean stars and the comments, oldest first (display hides small means)."""
    rows = (
        await session.execute(
            select(model.stars, model.comment)
            .where(_parent(model) == parent_id)
            .order_by(model.created_at)
        )
    ).all()
    if not rows:
        return RatingSummary(0, None, [])
    average = sum(stars for stars, _ in rows) / len(rows)
    return RatingSummary(len(rows), average, [c for _, c in rows if c])
