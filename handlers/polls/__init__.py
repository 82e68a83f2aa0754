"""Quick polls in the chat: create (admins, and cadres when allowed), vote, see results,
and manage (close early, extend, delete, department breakdown, XLSX export).

One module per interaction: `composer` (the new-poll conversation, drawn in
`composer.mmd`), `voting` (members vote and see results), `manage` (the
creator's and admins' card, and the admin panel's setting). Rules live in
`storage.polls`, `storage.poll_rules` and `storage.poll_drafts`; text in
`display.polls`; what members receive in `notices.polls`; closing, reminders
and the chart in `jobs.polls`.
"""

from __future__ import annotations

from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from core.i18n import N_
from core.runtime import CommandSpec, MenuItem, runtime_of
from display import callbacks as cb
from handlers import time_input
from handlers.common import (
    CANCEL_LABEL,
    OTHER_INPUT,
    PRIVATE,
    TEXT_INPUT,
    ask_for_text,
    cancel_handlers,
)
from handlers.menu import button_filter
from handlers.polls import composer, manage, voting

POLLS_ITEM = MenuItem("polls", N_("🗳 Polls"), order=40)


def _new_poll() -> ConversationHandler:
    text_step = TEXT_INPUT & ~button_filter(CANCEL_LABEL)
    return ConversationHandler(
        entry_points=[
            CommandHandler("newpoll", composer.start_new, filters=PRIVATE),
            CallbackQueryHandler(composer.start_new, pattern=cb.POLL_NEW.pattern),
        ],
        states={
            composer.QUESTION: [MessageHandler(text_step, composer.receive_question)],
            composer.OPTIONS: [MessageHandler(text_step, composer.receive_option)],
            composer.SETTINGS: [
                CallbackQueryHandler(composer.draft_setting, pattern=cb.POLL_DRAFT.pattern),
                CallbackQueryHandler(composer.draft_audience, pattern=cb.POLL_AUDIENCE.pattern),
                MessageHandler(text_step, composer.use_the_card),
            ],
            composer.CLOSING: [
                MessageHandler(text_step, composer.receive_closing),
                *time_input.buttons(composer.receive_closing),
                CallbackQueryHandler(composer.draft_setting, pattern=cb.POLL_DRAFT.pattern),
            ],
            ConversationHandler.TIMEOUT: [MessageHandler(filters.ALL, composer.draft_timeout)],
        },
        fallbacks=[*cancel_handlers(), MessageHandler(OTHER_INPUT, ask_for_text)],
        name="new_poll",
        persistent=True,
        conversation_timeout=composer.CONVERSATION_TIMEOUT,
        allow_reentry=True,
    )


def register(application: Application) -> None:
    runtime = runtime_of(application)
    runtime.add_menu(POLLS_ITEM)
    runtime.add_command(
        CommandSpec("polls", N_("Open and recent polls"), frozenset({"private"}), 40)
    )
    runtime.add_command(CommandSpec("newpoll", N_("Create a poll"), frozenset({"admin"}), 105))
    application.add_handler(_new_poll())
    # Draft buttons outside the conversation (after /cancel or a timeout) are stale.
    application.add_handler(
        CallbackQueryHandler(composer.draft_setting, pattern=cb.POLL_DRAFT.pattern)
    )
    application.add_handler(
        CallbackQueryHandler(composer.draft_audience, pattern=cb.POLL_AUDIENCE.pattern)
    )
    application.add_handler(CommandHandler("polls", voting.list_polls, filters=PRIVATE))
    application.add_handler(
        MessageHandler(button_filter(POLLS_ITEM.label) & PRIVATE, voting.list_polls)
    )
    for action, callback in (
        (cb.POLL_LIST, voting.list_polls),
        (cb.POLL_VOTE, voting.vote),
        (cb.POLL_RESULTS, voting.results),
        (cb.POLL_OPEN, voting.open_poll),
        (cb.POLL_PREVIEW, composer.preview_button),
        (cb.POLL_MANAGE, manage.manage),
        (cb.POLL_BREAKDOWN, manage.breakdown),
        (cb.POLL_EXPORT, manage.export),
        (cb.POLL_EXTEND, manage.extend),
        (cb.POLL_CLOSE, manage.ask_close),
        (cb.POLL_CLOSE_CONFIRM, manage.close_now),
        (cb.POLL_DELETE, manage.ask_delete),
        (cb.POLL_DELETE_CONFIRM, manage.delete),
        (cb.POLL_SETTINGS, manage.settings),
        (cb.POLL_CADRES, manage.set_cadres),
    ):
        application.add_handler(CallbackQueryHandler(callback, pattern=action.pattern))
