"""Storing uploaded files the way Telegram describes them.

Both sides upload: the bot through sendPhoto/sendDocument/sendVoice and users
through the control API. Either way the file gets a fresh random ``file_id``, a
content-derived ``file_unique_id`` and a ``file_path`` for getFile, and is checked
with Telegram's rules (a photo must be a readable image of sane dimensions; audio
that is not Ogg, MP3 or M4A is delivered as a document, not a voice note).
"""

from __future__ import annotations

from sandbox import media
from sandbox.errors import ApiError, bad_request
from sandbox.state import FileRecord, World, new_file_id, unique_id_for

MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # getFile refuses bigger files
_FOLDERS = {"photo": "photos", "document": "documents", "voice": "voice"}


def store_file(
    world: World,
    kind: str,
    data: bytes,
    file_name: str | None = None,
    content_type: str | None = None,
    duration: int | None = None,
) -> FileRecord:
    """Validate and keep an upload of ``kind`` (photo, document or voice)."""
    if not data:
        raise bad_request("file must be non-empty")
    if len(data) > MAX_UPLOAD_BYTES or (kind == "photo" and len(data) > MAX_PHOTO_BYTES):
        raise ApiError(413, "Request Entity Too Large")
    width = height = None
    if kind == "photo":
        size = media.image_size(data)
        if size is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        width, height = size
        if width <= 0 or height <= 0 or width + height > 10000:
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        if max(width, height) / min(width, height) > 20:
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        mime = media.image_mime(data)
    elif kind == "voice":
        audio = media.audio_kind(data)
        if audio is None:
            kind = "document"
            mime = media.guess_mime(file_name, content_type)
        else:
            mime = media.audio_mime(audio)
            if duration is None:
                duration = (media.ogg_duration(data) if audio == "ogg" else None) or 0
    elif kind == "document":
        mime = media.guess_mime(file_name, content_type)
    else:
        raise ValueError(f"unknown file kind {kind!r}")
    number = world.next_file_number()
    named = file_name if kind == "document" else None
    path = f"{_FOLDERS[kind]}/file_{number}.{media.extension(named, mime)}"
    record = FileRecord(
        file_id=new_file_id(),
        file_unique_id=unique_id_for(data),
        kind=kind,
        data=data,
        file_path=path,
        file_name=file_name if kind == "document" else None,
        mime_type=mime,
        width=width,
        height=height,
        duration=duration if kind == "voice" else None,
    )
    return world.add_file(record)
