"""The bot's own membership of union groups: removed (admins told), back (waiting cards sent).

Private chats are `handlers.membership`'s (a member blocked or unblocked the
bot); this runs in group 1, after it, and only for groups the grievances use.
"""

from __future__ import annotations

import logging

from telegram import ChatMemberUpdated, Update
from telegram.ext import BaseHandler, ChatMemberHandler

from core.runtime import runtime_of
from handlers.scope import Context, Scope, scoped
from jobs import grievances as jobs
from jobs.delivery import wake_after_commit
from notices import grievances as relay
from storage import grievances as service

log = logging.getLogger(__name__)

GROUP = 1  # membership's handler (group 0) takes every my_chat_member update for private chats


async def bot_membership(update: Update, context: Context) -> None:
    """The bot left or rejoined a group; private chats are membership's (blocked/unblocked).

    Checked before the scope opens: a scope in a private chat marks its member reachable.
    """
    change = update.my_chat_member
    if change is None or change.chat.type == "private":
        return
    await _group_membership(update, context)


@scoped
async def _group_membership(update: Update, context: Context, scope: Scope) -> None:
    change: ChatMemberUpdated | None = update.my_chat_member
    assert change is not None
    runtime = scope.runtime
    chat_id = change.chat.id
    watched = {runtime.settings.cadre_chat_id, runtime.settings.escalation_chat_id}
    watched |= runtime.routed_groups
    if chat_id not in watched:
        return
    now = runtime.now()
    status = change.new_chat_member.status
    if status in ("left", "kicked"):
        await relay.alert_group_lost(scope.session, runtime, chat_id, now)
        wake_after_commit(scope.session, context)
        log.warning("the bot was removed from a union group")
        return
    if status in ("member", "administrator"):
        await service.sync_posts(scope.session, await service.queued_posts(scope.session))
        if not await service.failed_posts(scope.session, chat_id):
            return  # a first join, or nothing waited: nothing to say
        await relay.alert_group_back(scope.session, runtime, chat_id, now)
        wake_after_commit(scope.session, context)
        # After this transaction: the job opens its own.
        context.application.create_task(
            _retry_now(context, chat_id), update=update, name="grievance-retry"
        )


async def _retry_now(context: Context, chat_id: int) -> None:
    runtime = runtime_of(context)
    now = runtime.now()
    await jobs.sync_posts(runtime, now, context.application)
    await jobs.retry_failed(runtime, now, context.application, chat_id=chat_id, force=True)


def handler() -> BaseHandler[Update, Context, object]:
    """For group `GROUP`."""
    return ChatMemberHandler(bot_membership, ChatMemberHandler.MY_CHAT_MEMBER)
