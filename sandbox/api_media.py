"""Bot API methods that send files (photo, document, voice) and hand them out (getFile)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from sandbox import schema
from sandbox.actions import MAX_CAPTION
from sandbox.api_messages import deliver_new_message
from sandbox.context import ApiContext, Handler
from sandbox.errors import ApiError, bad_request
from sandbox.files import MAX_DOWNLOAD_BYTES, store_file
from sandbox.params import Upload
from sandbox.state import FileRecord, MessageRecord

_KIND_NAMES = {"photo": "Photo", "document": "Document", "voice": "Voice"}


async def _resolve_file(ctx: ApiContext, kind: str, field: str) -> tuple[FileRecord, bool]:
    """The file to send: an upload, a known file_id, or an HTTP URL. True if newly stored."""
    source = ctx.params.file(field)
    duration = ctx.params.get_int("duration")
    if source is None:
        raise bad_request(f"there is no {field} in the request")
    if isinstance(source, Upload):
        stored = store_file(
            ctx.world, kind, source.data, source.filename, source.content_type, duration
        )
        return stored, True
    known = ctx.world.files.get(source)
    if known is not None:
        if known.kind != kind:
            raise bad_request(
                f"can't use file of type {_KIND_NAMES[known.kind]} as {_KIND_NAMES[kind]}"
            )
        return known, False
    if source.lower().startswith(("http://", "https://")):
        data, content_type, error = await ctx.fetch_url(source)
        if error is not None:
            raise bad_request(f"failed to get HTTP URL content: {error}")
        name = unquote(urlsplit(source).path.rsplit("/", 1)[-1]) or None
        return store_file(ctx.world, kind, data, name, content_type, duration), True
    raise bad_request("wrong file identifier/HTTP URL specified")


async def _send_file(ctx: ApiContext, kind: str) -> dict[str, Any]:
    chat = ctx.target_chat()
    caption, entities = ctx.formatted(
        "caption",
        "caption_entities",
        limit=MAX_CAPTION,
        too_long="message caption is too long",
        empty=None,
    )
    reply_markup = ctx.params.get_json("reply_markup")
    ctx.reply_target(chat)  # fail on a bad reply target before storing anything
    stored, fresh = await _resolve_file(ctx, kind, kind)
    record = MessageRecord(
        0,
        chat.id,
        ctx.bot.id,
        0,
        file_id=stored.file_id,
        caption=caption or None,
        caption_entities=entities,
    )
    try:
        return deliver_new_message(ctx, chat, record, reply_markup)
    except ApiError:
        if fresh:  # the message was refused (e.g. 429): forget the upload too
            ctx.world.files.pop(stored.file_id, None)
            ctx.world.file_paths.pop(stored.file_path, None)
        raise


async def send_photo(ctx: ApiContext) -> dict[str, Any]:
    return await _send_file(ctx, "photo")


async def send_document(ctx: ApiContext) -> dict[str, Any]:
    return await _send_file(ctx, "document")


async def send_voice(ctx: ApiContext) -> dict[str, Any]:
    return await _send_file(ctx, "voice")


async def get_file(ctx: ApiContext) -> dict[str, Any]:
    file_id = ctx.params.get_str("file_id", required=True) or ""
    record = ctx.world.files.get(file_id)
    if record is None:
        raise bad_request("invalid file_id")
    if record.size > MAX_DOWNLOAD_BYTES:
        raise bad_request("file is too big")
    return schema.file(record)


METHODS: dict[str, Handler] = {
    "sendPhoto": send_photo,
    "sendDocument": send_document,
    "sendVoice": send_voice,
    "getFile": get_file,
}
