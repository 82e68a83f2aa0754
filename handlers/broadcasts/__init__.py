"""/broadcast and /broadcasts: compose, target, preview, send or schedule; follow and control.

Two modules: `composer` (the conversation, drawn in `composer.mmd`) and
`progress` (Pause / Resume / Stop, and the list). Rules live in
`storage.broadcasts`, `storage.broadcast_rules` and `storage.broadcast_drafts`;
text in `display.broadcasts`; the progress message and the report in
`notices.broadcasts`; starting scheduled broadcasts and keeping the progress
current in `jobs.broadcasts`.
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
from core.runtime import CommandSpec, runtime_of
from display import callbacks as cb
from handlers import time_input
from handlers.broadcasts import composer, progress
from handlers.broadcasts.composer import MEDIA_INPUT, OTHER_MEDIA
from handlers.common import CANCEL_LABEL, PRIVATE, TEXT_INPUT, ask_for_text, cancel_handlers
from handlers.menu import button_filter


def _conversation() -> ConversationHandler:
    text_step = TEXT_INPUT & ~button_filter(CANCEL_LABEL)
    preview_buttons = [
        CallbackQueryHandler(composer.send_now, pattern=cb.BROADCAST_SEND.pattern),
        CallbackQueryHandler(composer.ask_time, pattern=cb.BROADCAST_SCHEDULE.pattern),
        CallbackQueryHandler(composer.toggle_format, pattern=cb.BROADCAST_FORMAT.pattern),
        CallbackQueryHandler(composer.back_to_audience, pattern=cb.BROADCAST_BACK.pattern),
        CallbackQueryHandler(composer.edit_english, pattern=cb.BROADCAST_ENGLISH_EDIT.pattern),
        CallbackQueryHandler(composer.drop_english, pattern=cb.BROADCAST_ENGLISH_DROP.pattern),
    ]
    return ConversationHandler(
        entry_points=[
            CommandHandler("broadcast", composer.start, filters=PRIVATE),
            CallbackQueryHandler(composer.start, pattern=cb.BROADCAST_NEW.pattern),
        ],
        states={
            composer.COMPOSE: [
                MessageHandler(text_step, composer.receive_text),
                MessageHandler(MEDIA_INPUT, composer.receive_media),
                MessageHandler(OTHER_MEDIA, composer.wrong_kind),
            ],
            composer.ENGLISH: [
                CallbackQueryHandler(composer.add_english, pattern=cb.BROADCAST_ENGLISH.pattern),
                CallbackQueryHandler(
                    composer.skip_english, pattern=cb.BROADCAST_NO_ENGLISH.pattern
                ),
                MessageHandler(text_step | OTHER_MEDIA | MEDIA_INPUT, composer.use_buttons),
            ],
            composer.ENGLISH_TEXT: [
                MessageHandler(text_step, composer.receive_english),
                MessageHandler(OTHER_MEDIA | MEDIA_INPUT, composer.english_not_text),
                CallbackQueryHandler(
                    composer.back_to_preview, pattern=cb.BROADCAST_ENGLISH_BACK.pattern
                ),
            ],
            composer.AUDIENCE: [
                CallbackQueryHandler(composer.toggle, pattern=cb.BROADCAST_AUDIENCE.pattern),
                CallbackQueryHandler(composer.to_preview, pattern=cb.BROADCAST_NEXT.pattern),
                MessageHandler(text_step | OTHER_MEDIA | MEDIA_INPUT, composer.use_buttons),
            ],
            composer.PREVIEW: [
                *preview_buttons,
                MessageHandler(text_step | OTHER_MEDIA | MEDIA_INPUT, composer.use_buttons),
            ],
            # The preview's buttons still work while the time is asked for.
            composer.WHEN: [
                MessageHandler(text_step, composer.receive_time),
                *time_input.buttons(composer.receive_time),
                MessageHandler(OTHER_MEDIA | MEDIA_INPUT, ask_for_text),
                *preview_buttons,
            ],
            ConversationHandler.TIMEOUT: [MessageHandler(filters.ALL, composer.timed_out)],
        },
        fallbacks=[
            *cancel_handlers(),
            CallbackQueryHandler(composer.quit_draft, pattern=cb.BROADCAST_QUIT.pattern),
            CommandHandler("broadcast", composer.start, filters=PRIVATE),
        ],
        name="broadcast",
        persistent=True,
        conversation_timeout=composer.CONVERSATION_TIMEOUT,
        allow_reentry=True,
    )


def register(application: Application) -> None:
    runtime = runtime_of(application)
    runtime.add_command(
        CommandSpec("broadcast", N_("Send an announcement to members"), frozenset({"admin"}), 110)
    )
    runtime.add_command(
        CommandSpec("broadcasts", N_("Past and scheduled announcements"), frozenset({"admin"}), 111)
    )
    application.add_handler(_conversation())
    application.add_handler(CommandHandler("broadcasts", progress.list_broadcasts, filters=PRIVATE))
    for action, callback in (
        (cb.BROADCAST_LIST, progress.list_broadcasts),
        (cb.BROADCAST_VIEW, progress.view),
        (cb.BROADCAST_PAUSE, progress.pause),
        (cb.BROADCAST_RESUME, progress.resume),
        (cb.BROADCAST_STOP, progress.ask_stop),
        (cb.BROADCAST_STOP_CONFIRM, progress.stop),
        (cb.BROADCAST_STOP_BACK, progress.keep_going),
    ):
        application.add_handler(CallbackQueryHandler(callback, pattern=action.pattern))
