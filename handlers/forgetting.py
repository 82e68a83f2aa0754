"""/forget: a member deletes their data, from the command or the profile's 🗑 button.

Registered by `handlers.membership` (the /forget command and the two buttons) and
offered by `handlers.profile`, so it lives here rather than in either feature. The
deleting itself is `storage.privacy.forget_member`.
"""

from __future__ import annotations

from telegram import ReplyKeyboardRemove, Update

from display.membership import forget_keyboard
from handlers.commands import clear_member_commands, set_member_commands
from handlers.common import reply
from handlers.scope import Context, Scope, registered, scoped
from storage import privacy
from storage.db import checkpoint
from storage.models import Role


@registered
async def ask_forget(update: Update, context: Context, scope: Scope) -> None:
    text = scope._(
        "This deletes your profile: name, department, birthday, language, role, tags "
        "and groups. Grievances you sent stay for the union's statistics but can no "
        "longer be linked to you. This cannot be undone. Delete your data?"
    )
    if update.callback_query is not None:
        await update.callback_query.answer()
    await reply(update, text, reply_markup=forget_keyboard(scope.t))


@scoped
async def forget(update: Update, context: Context, scope: Scope) -> None:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    await query.answer()
    if scope.member is None:
        await query.edit_message_text(scope._("There is no data of yours to delete."))
        return
    was_cadre = scope.is_cadre
    await privacy.forget_member(
        scope.session,
        update.effective_user.id,
        scope.settings.secret_key,
        scope.runtime.now(),
    )
    if context.user_data is not None:
        context.user_data.clear()
    await query.edit_message_text(scope._("Your data has been deleted."))
    await reply(
        update,
        scope._("Goodbye. If you want to join again, send /start."),
        reply_markup=ReplyKeyboardRemove(),
    )
    # Committed by now (commit, then talk): empty SQLite's log of the old rows too.
    await checkpoint(scope.runtime.engine)
    telegram_id = update.effective_user.id
    if telegram_id in scope.settings.admin_ids:
        await set_member_commands(context.application, telegram_id, None, Role.ADMIN)
    else:
        await clear_member_commands(context.application, telegram_id, was_cadre=was_cadre)


@scoped
async def keep_data(update: Update, context: Context, scope: Scope) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_text(scope._("Nothing was deleted."))
