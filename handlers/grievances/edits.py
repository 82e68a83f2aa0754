"""A member edits a message that was passed on: its copies in the cadre groups are edited too.

Runs before the guards (group -2): the edit is recognised by its sealed tag
(`Sealer.message_ref`), so only the member's own passed-on messages match.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop, BaseHandler, MessageHandler, filters

from handlers.common import PRIVATE
from handlers.scope import Context, Scope, scoped
from notices import grievances as relay
from storage import grievance_rules as rules
from storage import grievances as service
from storage.models import GrievanceStatus as Status
from storage.profile_rules import InvalidInput

GROUP = -2


@scoped
async def _apply_edit(update: Update, context: Context, scope: Scope) -> bool:
    message = update.edited_message
    if message is None or scope.member is None:
        return False
    runtime = scope.runtime
    keys = relay.sealer(runtime)
    stored = await service.message_by_ref(
        scope.session, keys.message_ref(message.chat_id, message.message_id)
    )
    if stored is None:
        return False
    case = await service.get_case(scope.session, stored.grievance_id, lock=True)
    if case is None or Status(case.status) not in rules.OPEN:
        return True
    raw = message.text if stored.kind == "text" else message.caption
    try:
        body = rules.clean_text(raw, rules.TEXT_MAX) if raw else None
    except InvalidInput:
        return True
    if stored.kind == "text" and body is None:
        return True
    now = runtime.now()
    await service.edit_message(scope.session, keys, case, stored, body, now)
    await relay.relay_edit(context.bot, scope.session, runtime, case, stored, now)
    return True


async def member_edited(update: Update, context: Context) -> None:
    """An edit of a passed-on message is relayed as an edit.

    The stop comes after the transaction committed; other edits go on to the
    guard, which ignores them.
    """
    if await _apply_edit(update, context):
        raise ApplicationHandlerStop


def handler() -> BaseHandler[Update, Context, object]:
    """For group `GROUP`."""
    return MessageHandler(PRIVATE & filters.UpdateType.EDITED_MESSAGE, member_edited)
