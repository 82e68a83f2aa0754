"""Reading just enough of an uploaded file's header to describe it like Telegram does.

Telegram reports a photo's width and height and a voice note's duration. The
sandbox has no image library, so it reads the dimensions from the PNG, JPEG, GIF
or WebP header and the duration from the last Ogg page; anything it cannot read
as an image is refused as a photo, as Telegram refuses it.
"""

from __future__ import annotations

import mimetypes
import struct

OGG_OPUS_RATE = 48000  # Opus granule positions always count 48 kHz samples


def image_size(data: bytes) -> tuple[int, int] | None:
    """Return (width, height) of a PNG, JPEG, GIF or WebP image, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24 and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return width, height
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp_size(data)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Walk JPEG segments to the first start-of-frame marker, which holds the size."""
    index = 2
    start_of_frame = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE}
    while index + 4 <= len(data):
        if data[index] != 0xFF:
            return None
        marker = data[index + 1]
        if marker == 0xFF:
            index += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            index += 2
            continue
        (length,) = struct.unpack(">H", data[index + 2 : index + 4])
        if marker in start_of_frame:
            if index + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return width, height
        index += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    """Read the canvas size from a lossy, lossless or extended WebP header."""
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    return None


def image_mime(data: bytes) -> str:
    """The MIME type of an image recognised by :func:`image_size`."""
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"GIF8"):
        return "image/gif"
    if data[:4] == b"RIFF":
        return "image/webp"
    return "image/jpeg"


def audio_kind(data: bytes) -> str | None:
    """Return "ogg", "mp3" or "m4a" for audio Telegram accepts as a voice note, else None."""
    if data.startswith(b"OggS"):
        return "ogg"
    if data.startswith(b"ID3") or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "mp3"
    if data[4:8] == b"ftyp":
        return "m4a"
    return None


def ogg_duration(data: bytes) -> int | None:
    """Whole seconds of an Ogg Opus stream, from the granule position of its last page."""
    last = data.rfind(b"OggS")
    if last < 0 or last + 14 > len(data):
        return None
    (granule,) = struct.unpack("<q", data[last + 6 : last + 14])
    if granule <= 0:
        return 0
    return round(granule / OGG_OPUS_RATE)


def audio_mime(kind: str) -> str:
    """MIME type Telegram reports for a voice note of the given container."""
    return {"ogg": "audio/ogg", "mp3": "audio/mpeg", "m4a": "audio/mp4"}[kind]


def guess_mime(file_name: str | None, declared: str | None) -> str:
    """Pick a document's MIME type: the uploader's declaration unless it is generic."""
    if declared and declared not in ("application/octet-stream", ""):
        return declared.split(";", 1)[0].strip()
    if file_name:
        guessed, _ = mimetypes.guess_type(file_name)
        if guessed:
            return guessed
    return "application/octet-stream"


def extension(file_name: str | None, mime: str) -> str:
    """A file extension for the stored path, from the name or else the MIME type."""
    if file_name and "." in file_name:
        ext = file_name.rsplit(".", 1)[1].lower()
        if ext.isalnum() and len(ext) <= 8:
            return ext
    special = {"image/jpeg": "jpg", "audio/ogg": "oga", "audio/mpeg": "mp3"}
    if mime in special:
        return special[mime]
    guessed = mimetypes.guess_extension(mime)
    return guessed.lstrip(".") if guessed else "bin"
