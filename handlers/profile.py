"""/profile: see and edit one's own profile.

The editing conversation's states are drawn in `profile_edit.mmd` beside this module.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
)

from core.i18n import N_
from core.runtime import MenuItem, runtime_of
from display import callbacks as cb
from display.membership import (
    birthday_removal_keyboard,
    birthday_removal_text,
    language_keyboard,
    profile_keyboard,
    profile_text,
)
from handlers.common import (
    CANCEL_LABEL,
    OTHER_INPUT,
    PRIVATE,
    TEXT_INPUT,
    ask_for_text,
    cancel_handlers,
    choice_keyboard,
    explain,
    pressed_args,
    reply,
    text_of,
)
from handlers.forgetting import ask_forget
from handlers.menu import button_filter, main_menu
from handlers.scope import Context, Scope, registered
from storage import members
from storage.profile_rules import DEPARTMENT_MAX, NAME_MAX, InvalidInput

PROFILE_ITEM = MenuItem("profile", N_("👤 My profile"), order=70)
EDIT_NAME, EDIT_DEPARTMENT, EDIT_BIRTHDAY = range(3)


@registered
async def show_profile(update: Update, context: Context, scope: Scope) -> None:
    assert scope.member is not None
    await reply(
        update,
        profile_text(scope.t, scope.member, scope.role, scope.settings.tz),
        reply_markup=profile_keyboard(scope.t, scope.member),
    )


@registered
async def start_edit(update: Update, context: Context, scope: Scope) -> Any:
    query = update.callback_query
    assert query is not None and scope.member is not None
    try:
        field = pressed_args(update, cb.PROFILE_EDIT).code
    except cb.InvalidCallback:
        await query.answer(scope._("This button is no longer valid."), show_alert=True)
        return ConversationHandler.END
    if field == "name":
        await query.answer()
        await reply(update, scope._("Type your new name:"), reply_markup=choice_keyboard(scope, []))
        return EDIT_NAME
    if field == "dept":
        await query.answer()
        departments = [d.name for d in await members.list_departments(scope.session)]
        await reply(
            update,
            scope._("Choose your department, or type its name:"),
            reply_markup=choice_keyboard(scope, departments),
        )
        return EDIT_DEPARTMENT
    if field == "bday":
        await query.answer()
        await reply(
            update,
            scope._("Type your birthday like 1990-05-03:"),
            reply_markup=choice_keyboard(scope, []),
        )
        return EDIT_BIRTHDAY
    if field == "nobday":
        await query.answer()
        if scope.member.birthday is None:  # an old profile card: nothing to remove
            return await _profile_again(update, scope)
        await query.edit_message_text(
            birthday_removal_text(scope.t), reply_markup=birthday_removal_keyboard(scope.t)
        )
        return ConversationHandler.END
    if field == "rmbday":
        if scope.member.birthday is None:
            await query.answer(scope._("Your profile has no birthday to remove."))
        else:
            await members.clear_birthday(scope.session, scope.member)
            await query.answer(scope._("Birthday removed."))
        return await _profile_again(update, scope)
    if field == "keepbday":
        await query.answer(scope._("Your birthday is kept."))
        return await _profile_again(update, scope)
    if field == "lang":
        await query.answer()
        await reply(update, scope._("Choose your language:"), reply_markup=language_keyboard())
        return ConversationHandler.END
    if field == "forget":
        await ask_forget(update, context)
        return ConversationHandler.END
    await query.answer(scope._("This button is no longer valid."), show_alert=True)
    return ConversationHandler.END


async def _profile_again(update: Update, scope: Scope) -> int:
    """The pressed message becomes the profile card, as it is now."""
    query = update.callback_query
    assert query is not None and scope.member is not None
    await query.edit_message_text(
        profile_text(scope.t, scope.member, scope.role, scope.settings.tz),
        reply_markup=profile_keyboard(scope.t, scope.member),
    )
    return ConversationHandler.END


async def _saved(update: Update, scope: Scope) -> int:
    assert scope.member is not None
    await scope.session.flush()
    await reply(update, scope._("Saved."), reply_markup=main_menu(scope))
    await reply(
        update,
        profile_text(scope.t, scope.member, scope.role, scope.settings.tz),
        reply_markup=profile_keyboard(scope.t, scope.member),
    )
    return ConversationHandler.END


@registered
async def save_name(update: Update, context: Context, scope: Scope) -> int:
    assert scope.member is not None
    try:
        await members.rename(scope.session, scope.member, text_of(update))
    except InvalidInput as error:
        await reply(update, explain(scope, error, NAME_MAX))
        return EDIT_NAME
    return await _saved(update, scope)


@registered
async def save_department(update: Update, context: Context, scope: Scope) -> int:
    assert scope.member is not None
    try:
        await members.move_to_department(scope.session, scope.member, text_of(update))
    except InvalidInput as error:
        await reply(update, explain(scope, error, DEPARTMENT_MAX))
        return EDIT_DEPARTMENT
    return await _saved(update, scope)


@registered
async def save_birthday(update: Update, context: Context, scope: Scope) -> int:
    assert scope.member is not None
    today = scope.runtime.now().astimezone(scope.settings.tz).date()
    try:
        await members.set_birthday(scope.session, scope.member, text_of(update), today)
    except InvalidInput as error:
        await reply(update, explain(scope, error))
        return EDIT_BIRTHDAY
    return await _saved(update, scope)


def register(application: Application) -> None:
    runtime_of(application).add_menu(PROFILE_ITEM)
    application.add_handler(CommandHandler("profile", show_profile, filters=PRIVATE))
    application.add_handler(
        MessageHandler(button_filter(PROFILE_ITEM.label) & PRIVATE, show_profile)
    )
    text_step = TEXT_INPUT & ~button_filter(CANCEL_LABEL)
    application.add_handler(
        ConversationHandler(
            entry_points=[CallbackQueryHandler(start_edit, pattern=cb.PROFILE_EDIT.pattern)],
            states={
                EDIT_NAME: [MessageHandler(text_step, save_name)],
                EDIT_DEPARTMENT: [MessageHandler(text_step, save_department)],
                EDIT_BIRTHDAY: [MessageHandler(text_step, save_birthday)],
            },
            fallbacks=[*cancel_handlers(), MessageHandler(OTHER_INPUT, ask_for_text)],
            name="profile_edit",
            persistent=True,
            conversation_timeout=30 * 60,
            allow_reentry=True,
        )
    )
