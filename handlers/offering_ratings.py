"""The stars and the comment after an activity or a training: the steps both share.

A rating request (`notices.activities.ask_rating`, `notices.trainings.ask_rating`)
carries 1–5 star buttons. A press stores the stars through the feature's
service (which decides who may rate) and asks for an optional comment; the
next text is that comment, or ⏭ Skip. :func:`steps` gives a feature the two
handlers for its :class:`Flow` (activities put them in their
``activity_member_input`` conversation beside the check-in code);
:func:`conversation` makes them a conversation of their own (trainings'
``training_rating``, drawn in ``offering_ratings.mmd``). So both ask, refuse
and thank in the same words.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from core import drafts
from display import activities as show
from display import callbacks as cb
from handlers.common import (
    SKIP_LABEL,
    choice_keyboard,
    draft_of,
    explain,
    is_label,
    pressed_args,
    reply,
    show_panel,
    text_of,
)
from handlers.enrolment_common import answer, drop, keep, now_of
from handlers.menu import main_menu
from handlers.scope import Context, Scope, registered, scoped
from storage import enrolment_rules as rules
from storage import ratings
from storage.members import NotFound
from storage.offerings import Refused
from storage.profile_rules import InvalidInput

DRAFT = "draft_rating"
TIMEOUT = 30 * 60


@drafts.draft("offering-rating")
@dataclass
class Rated:
    """What the member just rated, awaiting their comment: ``kind`` is the flow's."""

    kind: str
    parent: int


@dataclass(frozen=True)
class Flow:
    """One feature's rating: its star buttons, who may rate, its model and "no longer exists"."""

    kind: str
    stars: cb.CallbackAction[Any]  # packs (offering id, stars)
    rate: Callable[[AsyncSession, int, int, int, datetime], Awaitable[object]]
    model: ratings.Model
    gone: str  # msgid


Step = BaseHandler[Update, Context, object]


def steps(flow: Flow, asking: int, text_step: filters.BaseFilter) -> tuple[Step, Step]:
    """The stars (an entry point) and the comment (the ``asking`` state's handler) of ``flow``."""

    @registered
    async def rate(update: Update, context: Context, scope: Scope) -> int:
        """Stores the stars (again: changes them), asks for a comment (or Skip)."""
        assert scope.member is not None
        parent, stars = pressed_args(update, flow.stars)
        try:
            await flow.rate(scope.session, parent, scope.member.id, stars, now_of(scope))
        except Refused as refused:
            await answer(update, show.refusal(scope.t, scope.settings.tz, refused.reason), True)
            return ConversationHandler.END
        except NotFound:
            await answer(update, scope._(flow.gone), True)
            return ConversationHandler.END
        await answer(update)
        keep(context, DRAFT, Rated(flow.kind, parent))
        await show_panel(
            update,
            scope._("Thank you! You gave {stars} of 5 stars.").format(stars="⭐" * stars),
            None,
        )
        await reply(
            update,
            scope._("Would you like to add a comment? Type it, or tap Skip."),
            reply_markup=choice_keyboard(scope, [], skip=True),
        )
        return asking

    @registered
    async def receive_comment(update: Update, context: Context, scope: Scope) -> int:
        """Stores the comment (Skip: none), thanks the member; too long: asks again."""
        assert scope.member is not None
        rated = draft_of(context, DRAFT, Rated)
        if rated is None or rated.kind != flow.kind:
            return ConversationHandler.END
        text = text_of(update)
        if not is_label(text, SKIP_LABEL):
            try:
                await ratings.comment(
                    scope.session, flow.model, rated.parent, scope.member.id, text
                )
            except InvalidInput as error:
                await reply(update, explain(scope, error, rules.COMMENT_MAX))
                return asking
        drop(context, DRAFT)
        await reply(update, scope._("Thank you for your feedback!"), reply_markup=main_menu(scope))
        return ConversationHandler.END

    return (
        CallbackQueryHandler(rate, pattern=flow.stars.pattern),
        MessageHandler(text_step, receive_comment),
    )


@scoped
async def timed_out(update: Update, context: Context, scope: Scope) -> None:
    drop(context, DRAFT)


def conversation(
    flow: Flow,
    name: str,
    asking: int,
    text_step: filters.BaseFilter,
    fallbacks: list[Step],
) -> ConversationHandler[Context]:
    """The stars and the comment alone, as a persistent conversation (``offering_ratings.mmd``)."""
    stars, comment = steps(flow, asking, text_step)
    return ConversationHandler(
        entry_points=[stars],
        states={
            asking: [comment],
            ConversationHandler.TIMEOUT: [MessageHandler(filters.ALL, timed_out)],
        },
        fallbacks=fallbacks,
        name=name,
        persistent=True,
        conversation_timeout=TIMEOUT,
        allow_reentry=True,
    )
