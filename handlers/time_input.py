"""Ask a time, and confirm a natural one: the one helper of every step that asks a time.

A step reads its strict formats as before. What they cannot read goes to
`storage.natural_time`; an understood phrase is proposed ("您是指 2026年12月4日（周五）
08:00 吗？") with ✅ Confirm / ✏️ Re-enter. The step's state also takes those buttons
(`buttons(step)`), and a confirmed proposal reaches the step as the strict text
"2026-12-04 08:00", so the step goes on exactly as if that had been typed.

The pending proposal is kept in ``user_data`` under a ``draft`` key (so /cancel and a
timeout drop it) as the step that asked and the minutes its buttons carry: a press of
any other proposal's buttons (an older one, one of another step or conversation, a
forged one) is "no longer valid".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from display import callbacks as cb
from display import time_input as show
from handlers.common import drop_buttons, drop_draft, keep_draft, pressed_args, reply, text_of
from handlers.scope import Context, Scope
from storage.natural_time import Refusal, understand

PENDING = "draft-time-proposal"
T = TypeVar("T")


def buttons(step: Callable[..., object]) -> list[BaseHandler[Update, Context, object]]:
    """What a time step's state adds to its text handler: the proposal's two buttons."""
    return [
        CallbackQueryHandler(step, pattern=cb.TIME_CONFIRM.pattern),  # type: ignore[arg-type]  # a scoped step
        CallbackQueryHandler(step, pattern=cb.TIME_RETRY.pattern),  # type: ignore[arg-type]
    ]


async def read(
    update: Update,
    context: Context,
    scope: Scope,
    parse: Callable[[str], T],
    *,
    step: str,
    unreadable: Callable[[Exception], bool],
    base: datetime | None = None,
) -> T | None:
    """``parse`` of what was typed or confirmed; None once the member was answered here.

    ``step`` names the question ("activity-start"), so a proposal is confirmed only
    where it was made. ``unreadable`` tells the errors of ``parse`` that mean "not a strict format": then
    the text is read naturally (counting from ``base``, default now) and proposed, or
    refused with its reason. Any other error of ``parse`` (a date that does not exist,
    a time too soon) is the caller's to word, as before.
    """
    text = await _typed(update, context, scope, step)
    if text is None:
        return None
    try:
        return parse(text)
    except Exception as error:
        if update.callback_query is not None or not unreadable(error):
            raise
    await _propose(update, context, scope, text, step, base)
    return None


def _pending(step: str, at: int) -> str:
    return f"{step} {at}"


async def _typed(update: Update, context: Context, scope: Scope, step: str) -> str | None:
    query = update.callback_query
    if query is None:
        drop_draft(context, PENDING)  # typing again replaces any proposal
        return text_of(update)
    confirmed = cb.TIME_CONFIRM.pattern.match(query.data)
    at = pressed_args(update, cb.TIME_CONFIRM if confirmed else cb.TIME_RETRY).at
    if (context.user_data or {}).get(PENDING) != _pending(step, at):
        await query.answer(scope._("This button is no longer valid."), show_alert=True)
        return None
    drop_draft(context, PENDING)
    await query.answer()
    await drop_buttons(update)
    if not confirmed:
        await reply(
            update,
            scope._("Please type the time again, {examples}.").format(
                examples=scope._(show.EXAMPLES)
            ),
        )
        return None
    return show.canonical(show.moment_of(at), scope.settings.tz)


async def _propose(
    update: Update, context: Context, scope: Scope, text: str, step: str, base: datetime | None
) -> None:
    result = understand(text, scope.runtime.now(), scope.settings.tz, base=base)
    if isinstance(result, Refusal):
        await reply(update, show.refusal(scope.t, result.reason))
        return
    keep_draft(context, PENDING, _pending(step, show.minutes_of(result.when)))
    message, markup = show.proposal(scope.t, scope.settings.tz, result)
    await reply(update, message, reply_markup=markup)
