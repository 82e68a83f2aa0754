"""Last in handler group 0: whatever no feature took gets a clear answer, changing nothing."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from display import callbacks as cb
from handlers.common import CANCEL_LABEL, PRIVATE, reply
from handlers.menu import button_filter, main_menu
from handlers.scope import Context, Scope, scoped

log = logging.getLogger(__name__)


@scoped
async def stale_button(update: Update, context: Context, scope: Scope) -> None:
    query = update.callback_query
    assert query is not None
    # The prefix only when it is one of ours: forged data may carry anything.
    action = cb.action_of(query.data)
    log.info("refused a button (%s)", action.prefix if action else "not one of ours")
    await query.answer(
        scope._("This button is no longer valid. Please use the menu or send /start."),
        show_alert=True,
    )


@scoped
async def unknown_command(update: Update, context: Context, scope: Scope) -> None:
    markup = main_menu(scope) if scope.member is not None else None
    await reply(
        update,
        scope._("I don't know that command. Send /help to see what I can do."),
        reply_markup=markup,
    )


@scoped
async def unknown_text(update: Update, context: Context, scope: Scope) -> None:
    if scope.member is None:
        await reply(update, scope._("Hello! Send /start to register as a union member."))
        return
    for claim in scope.runtime.free_text:
        if await claim(update, context, scope):
            return
    await reply(
        update,
        scope._("I didn't understand that. Please choose from the menu below, or send /help."),
        reply_markup=main_menu(scope),
    )


@scoped
async def unsupported(update: Update, context: Context, scope: Scope) -> None:
    if scope.member is not None:
        for claim in scope.runtime.free_text:  # a photo or file may belong to a case too
            if await claim(update, context, scope):
                return
    markup = main_menu(scope) if scope.member is not None else None
    await reply(
        update,
        scope._(
            "I can't use this kind of message here. Please choose from the menu below, "
            "or send /help."
        ),
        reply_markup=markup,
    )


@scoped
async def nothing_to_cancel(update: Update, context: Context, scope: Scope) -> None:
    markup = main_menu(scope) if scope.member is not None else None
    await reply(update, scope._("There is nothing to cancel."), reply_markup=markup)


def register(application: Application) -> None:
    # /cancel and the Cancel button outside any conversation: conversations
    # registered earlier in this group take them first when one is active.
    application.add_handler(CommandHandler("cancel", nothing_to_cancel))
    application.add_handler(
        MessageHandler(button_filter(CANCEL_LABEL) & PRIVATE, nothing_to_cancel)
    )
    application.add_handler(CallbackQueryHandler(stale_button))
    application.add_handler(MessageHandler(PRIVATE & filters.COMMAND, unknown_command))
    application.add_handler(
        MessageHandler(PRIVATE & filters.TEXT & filters.UpdateType.MESSAGE, unknown_text)
    )
    application.add_handler(
        MessageHandler(
            PRIVATE & filters.UpdateType.MESSAGE & ~filters.StatusUpdate.ALL, unsupported
        )
    )
