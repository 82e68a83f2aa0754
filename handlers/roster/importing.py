"""The admin's roster import: send a file, read the preview, apply it in one transaction.

The conversation's states are drawn in `roster_import.mmd` beside this module.
The draft keeps only the file's Telegram id and a digest of its bytes: the
confirmation downloads and reads it again, checks it is the file previewed,
and applies it, so no roster of thousands of rows sits in the conversation.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from telegram import Document, InputFile, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from core import drafts
from core.i18n import N_
from core.runtime import CommandSpec, runtime_of
from display import callbacks as cb
from display import rendering
from display import roster as show
from handlers.common import (
    CANCEL_LABEL,
    OTHER_INPUT,
    PRIVATE,
    TEXT_INPUT,
    cancel_handlers,
    cancel_keyboard,
    choice_keyboard,
    draft_of,
    drop_draft,
    is_label,
    keep_draft,
    reply,
    show_working,
)
from handlers.menu import button_filter, main_menu
from handlers.scope import Context, Scope, admin_only
from storage import roster
from storage import roster_rules as rules
from storage.roster_rules import RosterInvalid, RosterRefused, RosterRow

FILE, CONFIRM = range(2)
DRAFT = "draft_roster_import"
CONVERSATION_TIMEOUT = 30 * 60


@drafts.draft("roster-import")
@dataclass
class RosterImportDraft:
    """The file previewed: its Telegram id and the SHA-256 of its bytes."""

    file_id: str
    digest: str


@admin_only
async def start(update: Update, context: Context, scope: Scope) -> int:
    """`/roster` or the admin panel's button: asks for the file; stores nothing yet."""
    query = update.callback_query
    if query is not None:
        await query.answer()
    chat = update.effective_chat
    if chat is None or chat.type != "private":
        await reply(update, scope._("Please send /roster in your private chat with me."))
        return ConversationHandler.END
    drop_draft(context, DRAFT)
    count = await roster.count(scope.session)
    await reply(update, show.prompt(scope.t, count), reply_markup=cancel_keyboard(scope))
    return FILE


async def _download(update: Update, document: Document) -> bytes:
    message = update.effective_message
    assert message is not None
    telegram_file = await message.get_bot().get_file(document.file_id)
    return bytes(await telegram_file.download_as_bytearray())


def _read(scope: Scope, data: bytes) -> list[RosterRow] | str:
    """The file's rows, or what to tell the admin about it."""
    today = scope.runtime.now().astimezone(scope.settings.tz).date()
    try:
        return rules.read_roster(data, today)
    except RosterRefused as refused:
        return show.refusal(scope.t, refused.reason, refused.detail)
    except RosterInvalid as invalid:
        return show.errors(scope.t, invalid.errors)


@admin_only
async def receive_file(update: Update, context: Context, scope: Scope) -> int:
    """A document: reads and checks it; stores the file's id and digest, asks to apply."""
    message = update.effective_message
    assert message is not None and message.document is not None
    document = message.document
    if document.file_size is not None and document.file_size > rules.MAX_BYTES:
        await reply(update, show.refusal(scope.t, "size"))
        return FILE
    await show_working(update)
    data = await _download(update, document)
    rows = _read(scope, data)
    if isinstance(rows, str):
        await reply(update, rows, reply_markup=cancel_keyboard(scope))
        return FILE
    changes = await roster.preview(scope.session, rows, secret=scope.settings.secret_key)
    keep_draft(
        context, DRAFT, RosterImportDraft(document.file_id, hashlib.sha256(data).hexdigest())
    )
    labels = [scope._(show.APPLY_LABEL)]
    if changes.absent:
        labels.append(scope._(show.APPLY_REMOVE_LABEL))
    await reply(
        update,
        show.preview(scope.t, len(rows), changes),
        reply_markup=choice_keyboard(scope, labels, columns=1),
    )
    return CONFIRM


@admin_only
async def not_a_file(update: Update, context: Context, scope: Scope) -> int:
    """Text or a photo where the file was expected: says so, stays."""
    await reply(update, show.refusal(scope.t, "format"), reply_markup=cancel_keyboard(scope))
    return FILE


@admin_only
async def confirm(update: Update, context: Context, scope: Scope) -> int | None:
    """✅ Apply (or 🗑 with removal): re-reads the file and applies it; sends the code list."""
    message = update.effective_message
    assert message is not None
    text = message.text or ""
    remove = is_label(text, show.APPLY_REMOVE_LABEL)
    if not remove and not is_label(text, show.APPLY_LABEL):
        await reply(update, scope._("Please tap ✅ Apply, or ✖️ Cancel to import nothing."))
        return CONFIRM
    draft = draft_of(context, DRAFT, RosterImportDraft)
    if draft is None:
        await reply(update, scope._("Sorry, I lost the file. Please send it again."))
        return FILE
    await show_working(update)
    telegram_file = await message.get_bot().get_file(draft.file_id)
    data = bytes(await telegram_file.download_as_bytearray())
    rows = _read(scope, data) if hashlib.sha256(data).hexdigest() == draft.digest else ""
    if isinstance(rows, str):
        await reply(update, scope._("Sorry, I lost the file. Please send it again."))
        return FILE
    now = scope.runtime.now()
    days = scope.settings.roster_code_days
    done = await roster.apply(
        scope.session,
        rows,
        secret=scope.settings.secret_key,
        now=now,
        code_days=days,
        remove_absent=remove,
    )
    drop_draft(context, DRAFT)
    await reply(update, show.applied(scope.t, done, days), reply_markup=main_menu(scope))
    if done.codes:
        book = show.codes_book(
            scope.t,
            done.codes,
            expires=now + timedelta(days=days),
            zone=scope.settings.tz,
            bot_username=message.get_bot().username,
        )
        (data,) = await rendering.draw(book)
        name = show.codes_filename(scope.t, now.astimezone(scope.settings.tz).date())
        await message.reply_document(InputFile(data, filename=name))
    return ConversationHandler.END


async def timeout(update: Update, context: Context) -> None:
    drop_draft(context, DRAFT)


def register(application: Application) -> None:
    runtime_of(application).add_command(
        CommandSpec(
            "roster", N_("Import the union's roster (CSV or XLSX)"), frozenset({"admin"}), 105
        )
    )
    not_cancel = ~button_filter(CANCEL_LABEL)
    application.add_handler(
        ConversationHandler(
            entry_points=[
                CommandHandler("roster", start),
                CallbackQueryHandler(start, pattern=cb.ROSTER_START.pattern),
            ],
            states={
                FILE: [
                    MessageHandler(PRIVATE & filters.Document.ALL, receive_file),
                    MessageHandler(
                        PRIVATE & filters.UpdateType.MESSAGE & ~filters.COMMAND & not_cancel,
                        not_a_file,
                    ),
                ],
                CONFIRM: [
                    MessageHandler(PRIVATE & filters.Document.ALL, receive_file),
                    MessageHandler(TEXT_INPUT & not_cancel, confirm),
                    MessageHandler(OTHER_INPUT, confirm),  # a photo…: "please tap ✅ Apply"
                ],
                ConversationHandler.TIMEOUT: [MessageHandler(filters.ALL, timeout)],
            },
            fallbacks=[
                *cancel_handlers(),
                CommandHandler("roster", start),
            ],
            name="roster_import",
            persistent=True,
            conversation_timeout=CONVERSATION_TIMEOUT,
            allow_reentry=True,
        )
    )
