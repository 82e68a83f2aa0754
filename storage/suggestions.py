"""Suggestions (意见建议): named proposals from members, answered by cadres.

Unlike grievances these carry the member's name on purpose: a suggestion is
an idea the member stands behind. Members who want anonymity are pointed to
grievances instead. Whatever the member must be told (a status change, a
reply) and the card the cadre group sees go through the outbox, in the same
transaction as the change.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Department,
    Member,
    Suggestion,
    SuggestionReply,
    SuggestionStatus,
)
from storage.profile_rules import InvalidInput

TEXT_MAX = 2000
REPLY_MAX = 2000
_REFUSED = frozenset({"Cc", "Cf", "Co", "Cs"})
_KEPT = frozenset({"\n", "\t", "\u200d"})


class SuggestionNotFound(LookupError):
    pass


class NotADecision(ValueError):
    """A status cadres cannot choose: unknown, or "new" (a decision is never undone)."""


def decision(value: str) -> SuggestionStatus:
    """The status a cadre's button names, or NotADecision."""
    try:
        status = SuggestionStatus(value)
    except ValueError:
        raise NotADecision(value) from None
    if status is SuggestionStatus.NEW:
        raise NotADecision(value)
    return status


def clean_text(text: str, limit: int = TEXT_MAX) -> str:
    """Free text with its line breaks kept; control characters, empty or long text refused."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n")
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    if any(unicodedata.category(ch) in _REFUSED and ch not in _KEPT for ch in text):
        raise InvalidInput("control")
    if not text:
        raise InvalidInput("empty")
    if text.startswith("/"):
        raise InvalidInput("command")
    if len(text) > limit:
        raise InvalidInput("too_long")
    return text


def code(suggestion_id: int) -> str:
    """How members and cadres name a suggestion: S-12."""
    return f"S-{suggestion_id}"


@dataclass(frozen=True)
class SuggestionCard:
    """A suggestion with what the cadre card shows about its author and replies."""

    suggestion: Suggestion
    author: str | None  # None: the member has deleted their data
    department: str | None
    author_chat: int | None
    author_language: str | None
    replies: int


async def create(session: AsyncSession, member: Member, text: str, *, now: datetime) -> Suggestion:
    suggestion = Suggestion(
        member_id=member.id,
        text=clean_text(text),
        status=SuggestionStatus.NEW.value,
        created_at=now,
        updated_at=now,
    )
    session.add(suggestion)
    await session.flush()
    return suggestion


async def card(session: AsyncSession, suggestion_id: int) -> SuggestionCard:
    suggestion = await session.get(Suggestion, suggestion_id)
    if suggestion is None:
        raise SuggestionNotFound(suggestion_id)
    author = None
    if suggestion.member_id is not None:
        author = (
            await session.execute(
                select(Member.name, Department.name, Member.telegram_id, Member.language)
                .outerjoin(Department, Department.id == Member.department_id)
                .where(Member.id == suggestion.member_id)
            )
        ).first()
    replies = await session.scalar(
        select(func.count(SuggestionReply.id)).where(SuggestionReply.suggestion_id == suggestion_id)
    )
    return SuggestionCard(
        suggestion,
        author[0] if author else None,
        author[1] if author else None,
        int(author[2]) if author else None,
        str(author[3]) if author else None,
        int(replies or 0),
    )


async def set_status(
    session: AsyncSession,
    suggestion_id: int,
    status: SuggestionStatus,
    *,
    cadre_id: int | None,
    now: datetime,
) -> bool:
    """Record the cadres' decision; False if it already had that status (nothing to tell)."""
    suggestion = await session.get(Suggestion, suggestion_id, with_for_update=True)
    if suggestion is None:
        raise SuggestionNotFound(suggestion_id)
    if suggestion.status == status.value:
        return False
    suggestion.status = status.value
    suggestion.decided_by = cadre_id
    suggestion.updated_at = now
    await session.flush()
    return True


async def add_reply(
    session: AsyncSession, suggestion_id: int, *, cadre_id: int | None, text: str, now: datetime
) -> SuggestionReply:
    suggestion = await session.get(Suggestion, suggestion_id)
    if suggestion is None:
        raise SuggestionNotFound(suggestion_id)
    answer = SuggestionReply(
        suggestion_id=suggestion_id,
        cadre_id=cadre_id,
        text=clean_text(text, REPLY_MAX),
        created_at=now,
    )
    session.add(answer)
    suggestion.updated_at = now
    await session.flush()
    return answer


async def for_member(session: AsyncSession, member_id: int, limit: int = 10) -> list[Suggestion]:
    return list(
        await session.scalars(
            select(Suggestion)
            .where(Suggestion.member_id == member_id)
            .order_by(Suggestion.created_at.desc(), Suggestion.id.desc())
            .limit(limit)
        )
    )
