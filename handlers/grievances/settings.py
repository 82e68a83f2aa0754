"""The admin's grievance settings: categories (name, deadlines, group, urgent, shown), daily limit.

Buttons show and toggle; a value to type goes through the conversation
``grievance_settings_input`` (diagram: grievance_settings_input.mmd beside
this module): the button says which setting, the admin's next message is
its value. What a value may be is decided by `storage.grievance_rules`
(`SettingRefused`, `InvalidInput` for names) and worded by `display`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
)

from core import drafts
from core.i18n import N_
from display import callbacks as cb
from display import grievances as display
from handlers.common import (
    CANCEL_LABEL,
    OTHER_INPUT,
    PRIVATE,
    TEXT_INPUT,
    ask_for_text,
    cancel_handlers,
    cancel_keyboard,
    explain,
    pressed_args,
    reply,
)
from handlers.grievances.shared import TIMEOUT, show
from handlers.menu import button_filter
from handlers.scope import Context, Scope, admin_only
from storage import grievance_rules as rules
from storage import grievances as service
from storage.grievance_rules import SettingRefused
from storage.profile_rules import InvalidInput

INPUT = 0
DRAFT = "draft_grievance_settings"


class Setting(StrEnum):
    """The value an admin was asked to type."""

    NEW_CATEGORY = "new_category"
    NAME = "name"
    DEADLINES = "deadlines"
    GROUP = "group"
    DAILY_LIMIT = "daily_limit"


@drafts.draft("grievance-setting")
@dataclass
class SettingDraft:
    """Which setting the admin's next message is for (and of which category)."""

    setting: Setting
    category: int | None = None

    def __post_init__(self) -> None:
        self.setting = Setting(self.setting)  # stored as its text


# The buttons that ask for a value, for one category or for all.
CATEGORY_ASKS: dict[cb.CallbackAction[cb.ItemRef], Setting] = {
    cb.GRIEVANCE_CATEGORY_RENAME: Setting.NAME,
    cb.GRIEVANCE_CATEGORY_SLA: Setting.DEADLINES,
    cb.GRIEVANCE_CATEGORY_ROUTE: Setting.GROUP,
}
OVERALL_ASKS: dict[cb.CallbackAction[cb.NoFields], Setting] = {
    cb.GRIEVANCE_CATEGORY_ADD: Setting.NEW_CATEGORY,
    cb.GRIEVANCE_DAILY_LIMIT: Setting.DAILY_LIMIT,
}
PROMPTS: dict[Setting, str] = {
    Setting.NEW_CATEGORY: N_("Send the name of the new category:"),
    Setting.NAME: N_("Send the new name of the category:"),
    Setting.DEADLINES: N_(
        "Send two numbers of hours: the deadline to take a case and to answer it, "
        "e.g. 24 72. Urgent cases get half."
    ),
    Setting.GROUP: N_(
        "Send the id of the group this category's cases go to (e.g. -1001234567890; "
        "the bot must be in it), or a single dash for the cadre group."
    ),
    Setting.DAILY_LIMIT: N_("Send how many new cases one member may open a day (1-50):"),
}


async def _render_settings(update: Update, scope: Scope) -> None:
    categories = await service.list_categories(scope.session, active_only=False)
    limit = await service.daily_limit(scope.session)
    await show(
        update,
        display.settings_text(scope.t, categories, limit, scope.settings.cadre_chat_id),
        display.settings_keyboard(scope.t, categories),
    )


@admin_only
async def settings_home(update: Update, context: Context, scope: Scope) -> None:
    await _render_settings(update, scope)


async def _render_category(update: Update, scope: Scope, category_id: int) -> None:
    category = await service.get_category(scope.session, category_id)
    if category is None:
        await _render_settings(update, scope)
        return
    text = display.settings_text(
        scope.t, [category], await service.daily_limit(scope.session), scope.settings.cadre_chat_id
    )
    await show(update, text, display.category_keyboard(scope.t, category))


@admin_only
async def category_view(update: Update, context: Context, scope: Scope) -> None:
    await _render_category(update, scope, pressed_args(update, cb.GRIEVANCE_CATEGORY).item)


@admin_only
async def category_toggle(update: Update, context: Context, scope: Scope) -> None:
    """🔴 Always urgent on/off, or 🙈 Hide / 👁 Show."""
    query = update.callback_query
    assert query is not None
    urgent = cb.GRIEVANCE_CATEGORY_URGENT.pattern.match(query.data)
    action = cb.GRIEVANCE_CATEGORY_URGENT if urgent else cb.GRIEVANCE_CATEGORY_ACTIVE
    category = await service.get_category(scope.session, pressed_args(update, action).item)
    if category is None:
        await _render_settings(update, scope)
        return
    if urgent:
        await service.toggle_always_urgent(scope.session, category)
    else:
        await service.toggle_shown(scope.session, category)
    await _render_category(update, scope, category.id)


def _asked(data: object) -> SettingDraft | None:
    """Which value the pressed button asks for, or None if it asks for none."""
    for category_action, setting in CATEGORY_ASKS.items():
        if category_action.pattern.match(data):
            return SettingDraft(setting, category_action.unpack(data).item)
    for overall_action, setting in OVERALL_ASKS.items():
        if overall_action.pattern.match(data):
            return SettingDraft(setting)
    return None


@admin_only
async def ask_input(update: Update, context: Context, scope: Scope) -> int:
    """Entry (✏️ Rename, ⏱ Deadlines, 👥 Group, ➕ Add category, 🔢 Daily limit):
    stores which setting, asks for its value."""
    query = update.callback_query
    assert query is not None and context.user_data is not None
    draft = _asked(query.data)
    if draft is None:
        await query.answer(scope._("This button is no longer valid."), show_alert=True)
        return ConversationHandler.END
    context.user_data[DRAFT] = draft
    await query.answer()
    await reply(update, scope._(PROMPTS[draft.setting]), reply_markup=cancel_keyboard(scope))
    return INPUT


@admin_only
async def receive_input(update: Update, context: Context, scope: Scope) -> int:
    """INPUT: stores the value (if the rules take it), asks nothing more (the panel again)."""
    assert context.user_data is not None
    draft = context.user_data.get(DRAFT)
    text = (update.effective_message.text if update.effective_message else None) or ""
    if not isinstance(draft, SettingDraft):
        return ConversationHandler.END
    category = None
    if draft.category is not None:
        category = await service.get_category(scope.session, draft.category)
        if category is None:
            await reply(update, scope._("That no longer exists. The list has been refreshed."))
            context.user_data.pop(DRAFT, None)
            await _render_settings(update, scope)
            return ConversationHandler.END
    try:
        if draft.setting is Setting.NEW_CATEGORY:
            category = await service.add_category(scope.session, text)
        elif draft.setting is Setting.NAME:
            assert category is not None
            service.rename_category(category, text)
        elif draft.setting is Setting.DEADLINES:
            assert category is not None
            service.set_deadlines(category, *rules.read_deadlines(text))
        elif draft.setting is Setting.GROUP:
            assert category is not None
            chat_id = rules.read_group(text)
            if chat_id is not None:
                try:
                    await context.bot.get_chat(chat_id)
                except TelegramError:
                    await reply(
                        update,
                        scope._(
                            "The bot is not in that group. Add it there first, then send the id again."
                        ),
                    )
                    return INPUT
            service.set_route(category, chat_id)
        elif draft.setting is Setting.DAILY_LIMIT:
            await service.set_daily_limit(scope.session, rules.read_daily_limit(text))
    except InvalidInput as error:
        await reply(update, explain(scope, error, rules.CATEGORY_NAME_MAX))
        return INPUT
    except SettingRefused as refused:
        await reply(update, display.setting_refusal(scope.t, refused.problem))
        return INPUT
    await scope.session.flush()
    scope.runtime.routed_groups = frozenset(await service.routed_chats(scope.session))
    context.user_data.pop(DRAFT, None)
    await reply(update, scope._("Saved."))
    if category is not None:
        await _render_category(update, scope, category.id)
    else:
        await _render_settings(update, scope)
    return ConversationHandler.END


def conversation() -> ConversationHandler[Context]:
    asks: tuple[cb.CallbackAction[Any], ...] = (
        cb.GRIEVANCE_CATEGORY_ADD,
        cb.GRIEVANCE_CATEGORY_RENAME,
        cb.GRIEVANCE_CATEGORY_SLA,
        cb.GRIEVANCE_CATEGORY_ROUTE,
        cb.GRIEVANCE_DAILY_LIMIT,
    )
    return ConversationHandler(
        entry_points=[CallbackQueryHandler(ask_input, pattern=a.pattern) for a in asks],
        states={INPUT: [MessageHandler(TEXT_INPUT & ~button_filter(CANCEL_LABEL), receive_input)]},
        fallbacks=[*cancel_handlers(), MessageHandler(OTHER_INPUT, ask_for_text)],
        name="grievance_settings_input",
        persistent=True,
        conversation_timeout=TIMEOUT,
        allow_reentry=True,
    )


def handlers() -> list[BaseHandler[Update, Context, object]]:
    return [
        CommandHandler("grievance_settings", settings_home, filters=PRIVATE),
        CallbackQueryHandler(settings_home, pattern=cb.GRIEVANCE_SETTINGS.pattern),
        CallbackQueryHandler(category_view, pattern=cb.GRIEVANCE_CATEGORY.pattern),
        CallbackQueryHandler(category_toggle, pattern=cb.GRIEVANCE_CATEGORY_URGENT.pattern),
        CallbackQueryHandler(category_toggle, pattern=cb.GRIEVANCE_CATEGORY_ACTIVE.pattern),
        conversation(),
    ]
