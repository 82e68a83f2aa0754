"""A member's files for a case: which kinds are taken, and the copy the cadres will get.

Used while writing a case and when adding to one. A document is fetched,
rewritten without what could name its author (`storage.attachments`) and sent
back to the member under its neutral name, so they see exactly what the
cadres will see.
"""

from __future__ import annotations

import asyncio

from telegram import Message, Update
from telegram.error import BadRequest
from telegram.ext import filters

from core.i18n import N_
from handlers.common import explain, reply
from handlers.scope import Scope
from notices import grievances as relay
from storage import attachments
from storage import grievance_rules as rules
from storage.attachments import FileRefused
from storage.grievances import Attachment
from storage.profile_rules import InvalidInput

FILES = filters.PHOTO | filters.Document.ALL | filters.VOICE

FILE_REFUSALS = {
    "too_big": N_("This file is larger than 20 MB, the most the bot can take. Nothing was added."),
    "image_too_large": N_("This picture is too large to process. Please send a smaller one."),
    "broken_image": N_("This picture cannot be read. Please send it again, or as a photo."),
    "encrypted_pdf": N_(
        "This PDF is password-protected, so its hidden details (such as its author) "
        "cannot be removed. Please send an unprotected copy, or a photo of the pages."
    ),
    "broken_pdf": N_("This PDF cannot be read. Please send it again, or a photo of the pages."),
    "broken_office_file": N_("This file cannot be read. Please send it again, or as a PDF."),
}


def file_of(message: Message) -> tuple[str, str, str | None] | None:
    """(kind, file id, file name) of a photo, document or voice note."""
    if message.photo:
        return "photo", message.photo[-1].file_id, None
    if message.document is not None:
        return "document", message.document.file_id, message.document.file_name
    if message.voice is not None:
        return "voice", message.voice.file_id, None
    return None


async def _cleaned_document(
    scope: Scope, message: Message, file_id: str, file_name: str | None, number: int
) -> str | None:
    """The file id of the member's document rewritten without what could name them.

    Telegram's id of the copy sent back to the member is what the case stores
    and relays; None after telling the member why the file was not taken.
    """
    try:
        telegram_file = await message.get_bot().get_file(file_id)
        data = bytes(await telegram_file.download_as_bytearray())
        cleaned = await asyncio.to_thread(attachments.clean, data, file_name)
    except FileRefused as refused:
        await message.reply_text(scope._(FILE_REFUSALS[refused.code]))
        return None
    except BadRequest:  # Telegram refuses bots files over 20 MB
        await message.reply_text(scope._(FILE_REFUSALS["too_big"]))
        return None
    word = relay.group_t(scope.runtime).gettext("attachment")
    name = attachments.neutral_name(word, number, cleaned.extension)
    note = (
        scope._("📎 The cadres will get this copy, named {name}, without hidden details.")
        if cleaned.cleaned
        else scope._(
            "📎 The cadres will get this copy, named {name}. Its inside is passed on as it is."
        )
    )
    sent = await message.reply_document(
        cleaned.data, filename=name, caption=note.format(name=name), protect_content=True
    )
    return sent.document.file_id if sent.document is not None else None


async def check_file(
    update: Update, scope: Scope, message: Message, number: int
) -> Attachment | None:
    """The file as an attachment (``number`` in its case), or None after telling the
    member what is wrong."""
    found = file_of(message)
    if found is None:
        await reply(
            update,
            scope._("I can pass on photos, documents and voice notes. Please send one of those."),
        )
        return None
    kind, file_id, file_name = found
    try:
        caption = rules.clean_text(message.caption, rules.CAPTION_MAX) if message.caption else None
    except InvalidInput as error:
        await reply(update, explain(scope, error, rules.CAPTION_MAX))
        return None
    if kind == "document":
        cleaned = await _cleaned_document(scope, message, file_id, file_name, number)
        if cleaned is None:
            return None
        file_id = cleaned
    keys = relay.sealer(scope.runtime)
    origin = f"{message.chat_id}:{message.message_id}" if kind == "voice" else None
    return Attachment(
        kind, file_id, caption, keys.message_ref(message.chat_id, message.message_id), origin
    )
