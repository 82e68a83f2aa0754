"""What every poll screen needs: the voter keys, refusals, an edit in place, the named poll.

Every poll button names its poll and is checked again where it is handled:
:func:`load` says when the poll is gone, :func:`managed` when the presser may
not manage it.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from display import polls as display
from handlers.common import reply
from handlers.scope import Scope
from storage import polls
from storage.polls import PollKeys, PollView


def keys(scope: Scope) -> PollKeys:
    return PollKeys.from_secret(scope.settings.secret_key)


async def alert(update: Update, text: str) -> None:
    """An alert on the pressed button, or a reply where no button was pressed."""
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    else:
        await reply(update, text)


def refusal(scope: Scope, code: str, limit: int = 0) -> str:
    return scope._(display.REFUSALS[code]).format(limit=limit)


async def edit(update: Update, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Edit the pressed message in place, unless it already reads exactly so."""
    query = update.callback_query
    assert query is not None
    message = query.message
    if (
        message is not None
        and getattr(message, "text_html", None) == text
        and getattr(message, "reply_markup", None) == markup
    ):
        return
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            raise


async def load(update: Update, scope: Scope, poll_id: int) -> PollView | None:
    """The poll, or None after saying it no longer exists."""
    try:
        return await polls.get(scope.session, poll_id)
    except polls.PollNotFound:
        await alert(update, refusal(scope, "gone"))
        return None


async def managed(update: Update, scope: Scope, poll_id: int) -> PollView | None:
    """The poll, if the presser may manage it; otherwise a clear refusal and None."""
    view = await load(update, scope, poll_id)
    if view is None:
        return None
    member_id = scope.member.id if scope.member is not None else None
    if not polls.may_manage(view.poll, scope.role, member_id):
        await alert(
            update,
            scope._(
                "Only union admins, or the cadre who created it, can do that. Please ask them if it needs changing."
            ),
        )
        return None
    return view
