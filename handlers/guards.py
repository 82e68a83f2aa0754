"""Checks that run before every feature (handler group -1) and stop what must not pass.

Registered after the features because it reads their command list; the
handler group, not the order of registration, puts it first.
"""

from __future__ import annotations

from telegram import Message, Update
from telegram.constants import MessageLimit
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)

from core.runtime import runtime_of
from display import callbacks as cb
from handlers.common import PRIVATE, reply
from handlers.fallback import stale_button
from handlers.scope import Context, Scope, scoped

GROUP = -1


class _LongText(filters.MessageFilter):
    """Text Telegram itself would refuse to send back: more than 4096 characters."""

    def filter(self, message: Message) -> bool:
        return len(message.text or message.caption or "") > MessageLimit.MAX_TEXT_LENGTH


def _union_groups(context: Context) -> set[int]:
    settings = runtime_of(context).settings
    configured = {c for c in (settings.cadre_chat_id, settings.escalation_chat_id) if c is not None}
    return configured | runtime_of(context).routed_groups


@scoped
async def too_long(update: Update, context: Context, scope: Scope) -> None:
    message = update.effective_message
    assert message is not None  # the _LongText filter let a message in
    await reply(
        update,
        scope._(
            "That message is too long for me ({count} characters; at most {limit}). "
            "Nothing was saved. Please shorten it or split it into parts."
        ).format(
            count=len(message.text or message.caption or ""),
            limit=MessageLimit.MAX_TEXT_LENGTH,
        ),
    )
    raise ApplicationHandlerStop


async def ignore(update: Update, context: Context) -> None:
    """Edits of old messages are not new answers; nothing acts on them yet."""
    raise ApplicationHandlerStop


@scoped
async def group_command(update: Update, context: Context, scope: Scope) -> None:
    """Commands in groups: private-only ones point to the private chat; strangers get the id."""
    chat = update.effective_chat
    message = update.effective_message
    assert chat is not None and message is not None and message.text is not None
    command = message.text.split()[0][1:].split("@", 1)[0].lower()
    username = context.bot.username
    if chat.id not in _union_groups(context):
        await reply(
            update,
            scope._(
                "I work in private chats and in the union's cadre group. "
                "This group's id is <code>{chat_id}</code>: an admin can set CADRE_CHAT_ID "
                "to it to make it the cadre group. Members: write to me at @{bot}."
            ).format(chat_id=chat.id, bot=username),
        )
        raise ApplicationHandlerStop
    private_only = {
        spec.name for spec in runtime_of(context).commands if "cadre_group" not in spec.scopes
    }
    if command in private_only:
        await reply(
            update,
            scope._("Please use /{command} in a private chat with me: @{bot}").format(
                command=command, bot=username
            ),
        )
        raise ApplicationHandlerStop


async def stop_foreign_group(update: Update, context: Context) -> None:
    """Plain messages in groups that are not the union's are none of the bot's business."""
    chat = update.effective_chat
    if chat is not None and chat.id not in _union_groups(context):
        raise ApplicationHandlerStop


def _not_a_button(data: object) -> bool:
    """Callback data none of the bot's buttons could have produced (forged or garbled)."""
    return not cb.is_valid(data)


async def forged_button(update: Update, context: Context) -> None:
    """Refuse it before any feature sees it: answered as out of date, nothing changed.

    PTB gives a press with empty data to every pattern handler, and a feature's
    handler would otherwise be the first to meet a garbled or out-of-range id.
    """
    await stale_button(update, context)
    raise ApplicationHandlerStop


async def wrong_chat_button(update: Update, context: Context) -> None:
    """A button pressed in the other kind of chat than its messages are in: refused.

    A private chat's button reaches a group, or a cadre group's card button a
    private chat, only forged; acting on it would answer in the group (an admin's
    member list, a training's roster) or act outside the group whose cadres answer
    for the case. Refused for everyone, nothing changed. Checked before opening a
    unit of work, so a press in its own kind of chat costs nothing here.
    """
    chat = update.effective_chat
    query = update.callback_query
    action = cb.action_of(query.data if query is not None else None)
    if chat is None or action is None:
        return
    pressed_in = "private" if chat.type == "private" else "group"
    if pressed_in == action.chat:
        return  # the feature's handlers take it (group 0)
    await _refuse_wrong_chat(update, context)
    raise ApplicationHandlerStop


@scoped
async def _refuse_wrong_chat(update: Update, context: Context, scope: Scope) -> None:
    query = update.callback_query
    chat = update.effective_chat
    assert query is not None and chat is not None  # a CallbackQueryHandler's update
    if chat.type == "private" and not scope.is_cadre:
        # Every group button is a cadre's: say so, as the feature itself would.
        text = scope._(
            "Only union cadres can do that. If you think you should be one, "
            "please ask a union admin."
        )
    elif chat.type == "private":
        text = scope._(
            "This button works only in the union's cadre group. "
            "Nothing was changed: please use it there."
        )
    else:
        text = scope._(
            "This button works only in your private chat with me. "
            "Nothing was changed: please open @{bot} and use the menu there."
        ).format(bot=context.bot.username)
    await query.answer(text, show_alert=True)


def register(application: Application) -> None:
    application.add_handler(CallbackQueryHandler(forged_button, pattern=_not_a_button), GROUP)
    application.add_handler(CallbackQueryHandler(wrong_chat_button, pattern=cb.is_valid), GROUP)
    application.add_handler(MessageHandler(filters.UpdateType.EDITED, ignore), GROUP)
    application.add_handler(MessageHandler(PRIVATE & _LongText(), too_long), GROUP)
    application.add_handler(
        MessageHandler(filters.ChatType.GROUPS & filters.COMMAND, group_command), GROUP
    )
    application.add_handler(MessageHandler(filters.ChatType.GROUPS, stop_foreign_group), GROUP)
