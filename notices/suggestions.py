"""Suggestion traffic to other people: the card to the cadre group, answers to the author.

Written to the outbox in the caller's transaction, so a suggestion, a decision
or a reply is never saved without the message that announces it (nor the other
way round). Each function says whether it wrote a row; the caller then wakes
the delivery worker (`jobs.delivery.wake_after_commit`), which this layer
cannot import.

The cadre group reads the union's default language; the author their own.
Both kinds are at-least-once: a member's words, or a personal answer, are worth
a rare duplicate rather than a loss.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import translator
from core.runtime import Runtime
from display import suggestions as display
from storage import outbox, suggestions
from storage.models import SuggestionReply
from storage.suggestions import SuggestionCard

CARD_KIND = "suggestion"
NOTICE_KIND = "suggestion-notice"


async def post_card(
    session: AsyncSession, runtime: Runtime, suggestion_id: int, *, now: datetime
) -> bool:
    """The new suggestion's card, with its buttons, to the cadre group (if there is one)."""
    cadre_chat = runtime.settings.cadre_chat_id
    if cadre_chat is None:
        return False
    card = await suggestions.card(session, suggestion_id)
    t = translator(runtime.settings.default_language)
    await outbox.enqueue(
        session,
        key=f"suggestion:{suggestion_id}:card",
        kind=CARD_KIND,
        chat_id=cadre_chat,
        payload=outbox.payload(
            "sendMessage",
            text=display.card_text(t, card, runtime.settings.tz),
            reply_markup=display.card_keyboard(t, card).to_dict(),
        ),
        now=now,
        priority=outbox.PRIORITY_NOTICE,
        at_most_once=False,
    )
    return True


async def status_changed(session: AsyncSession, card: SuggestionCard, *, now: datetime) -> bool:
    """Tell the author the cadres' decision (``card`` read after it was recorded)."""
    if card.author_language is None:
        return False
    suggestion = card.suggestion
    return await _to_author(
        session,
        card,
        key=f"suggestion:{suggestion.id}:status:{suggestion.status}:{int(now.timestamp())}",
        text=display.status_notice(translator(card.author_language), suggestion),
        now=now,
    )


async def replied(
    session: AsyncSession, card: SuggestionCard, answer: SuggestionReply, *, now: datetime
) -> bool:
    """Pass a cadre's reply on to the author."""
    if card.author_language is None:
        return False
    return await _to_author(
        session,
        card,
        key=f"suggestion:{card.suggestion.id}:reply:{answer.id}",
        text=display.reply_notice(translator(card.author_language), card.suggestion, answer.text),
        now=now,
    )


async def _to_author(
    session: AsyncSession, card: SuggestionCard, *, key: str, text: str, now: datetime
) -> bool:
    if card.author_chat is None:  # the member has deleted their data
        return False
    await outbox.enqueue(
        session,
        key=key,
        kind=NOTICE_KIND,
        chat_id=card.author_chat,
        member_id=card.suggestion.member_id,
        payload=outbox.payload("sendMessage", text=text),
        now=now,
        priority=outbox.PRIORITY_NOTICE,
        at_most_once=False,
    )
    return True
