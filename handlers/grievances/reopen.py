"""A member reopens a case the union resolved: from 📂 My cases, or after a low rating.

Steps of the conversation ``grievance_rating`` (diagram: grievance_rating.mmd
beside `handlers.grievances.rating`): 🔄 Reopen the case asks for a short
reason (⏭ Skip: none), then `storage.grievances.reopen` decides — resolved by
the union, within the window, not reopened too often — and raises
`ReopenRefused` otherwise. The button names the case by id; `owned` opens it
only for its author, so a forged or stale press changes nothing.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ConversationHandler

from display import callbacks as cb
from display import grievances as display
from handlers.common import SKIP_LABEL, choice_keyboard, explain, is_label, pressed_args, reply
from handlers.grievances.cases import owned
from handlers.grievances.shared import COMMENT_KEY, REOPEN_KEY, message_of
from handlers.menu import main_menu
from handlers.scope import Context, Scope, registered
from jobs.delivery import wake_after_commit
from notices import grievances as relay
from storage import grievance_rules as rules
from storage import grievances as service
from storage.grievance_rules import ReopenRefused
from storage.grievances import CaseError
from storage.profile_rules import InvalidInput

log = logging.getLogger(__name__)

REASON = 21


def _window(scope: Scope) -> int:
    return rules.reopen_days(scope.settings.grievance_link_retention_days)


@registered
async def ask_reopen(update: Update, context: Context, scope: Scope) -> int:
    """Entry (🔄 Reopen the case): asks for the reason, or refuses with why."""
    case = await owned(update, scope, pressed_args(update, cb.GRIEVANCE_REOPEN).case)
    if case is None:
        return ConversationHandler.END
    query = update.callback_query
    assert query is not None and context.user_data is not None
    refusal = await service.reopen_refusal(
        scope.session, case, scope.runtime.now(), scope.settings.grievance_link_retention_days
    )
    if refusal is not None:
        await query.answer(
            display.reopen_refusal(scope.t, refusal, _window(scope)), show_alert=True
        )
        return ConversationHandler.END
    await query.answer()
    context.user_data.pop(COMMENT_KEY, None)  # a rating's comment is not asked any more
    context.user_data[REOPEN_KEY] = case.id
    await reply(
        update,
        display.reopen_prompt(scope.t, case),
        reply_markup=choice_keyboard(scope, [], skip=True),
    )
    return REASON


@registered
async def reopen_reason(update: Update, context: Context, scope: Scope) -> int:
    """REASON: reopens the case (with the reason, if one came) and tells its groups."""
    assert scope.member is not None and context.user_data is not None
    text = message_of(update).text or ""
    case_id = int(context.user_data.pop(REOPEN_KEY, 0) or 0)
    if not case_id:
        await reply(
            update, scope._("Sorry, I lost your answers. Let's start again."),
            reply_markup=main_menu(scope),
        )  # fmt: skip
        return ConversationHandler.END
    try:
        reason = None if is_label(text, SKIP_LABEL) else rules.clean_text(text, rules.COMMENT_MAX)
        case = await service.owned_case(
            scope.session, relay.sealer(scope.runtime), scope.member.id, case_id, lock=True
        )
    except InvalidInput as error:
        context.user_data[REOPEN_KEY] = case_id
        await reply(update, explain(scope, error, rules.COMMENT_MAX))
        return REASON
    except CaseError:
        await reply(update, scope._("This case is not among yours."), reply_markup=main_menu(scope))
        return ConversationHandler.END
    runtime = scope.runtime
    now = runtime.now()
    try:
        round_ = await service.reopen(
            scope.session,
            relay.sealer(runtime),
            case,
            reason,
            now,
            retention_days=scope.settings.grievance_link_retention_days,
        )
    except ReopenRefused as refused:
        await reply(
            update,
            display.reopen_refusal(scope.t, refused.reason, _window(scope)),
            reply_markup=main_menu(scope),
        )
        return ConversationHandler.END
    await relay.member_reopened(scope.session, runtime, case, reason, round_, now)
    await relay.refresh_cards(context.bot, scope.session, runtime, case, now)
    wake_after_commit(scope.session, context)
    log.info("grievance %s reopened (%d/%d)", case.code, round_, rules.REOPEN_LIMIT)
    await reply(
        update,
        display.reopened_text(scope.t, scope.settings.tz, case),
        reply_markup=main_menu(scope),
    )
    return ConversationHandler.END
