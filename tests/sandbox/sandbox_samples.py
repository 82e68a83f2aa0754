"""Sample files and constants shared by the sandbox tests (imported by name, not a package)."""

from __future__ import annotations

import re
import struct
from typing import Any

import pytest
import telegram

from sandbox import DEFAULT_TOKEN

TOKEN = DEFAULT_TOKEN
BOT_ID = int(TOKEN.split(":", 1)[0])
BOT_USERNAME = "UnionSandboxBot"


def make_jpeg_header(width: int, height: int) -> bytes:
    """The start of a baseline JPEG up to its frame header (enough to read the size)."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


def make_ogg(seconds: float) -> bytes:
    """Two Ogg pages whose last granule position encodes ``seconds`` of 48 kHz Opus."""

    def page(granule: int, sequence: int, payload: bytes) -> bytes:
        head = b"OggS" + bytes([0, 0]) + struct.pack("<qIII", granule, 1, sequence, 0)
        return head + bytes([1, len(payload)]) + payload

    return page(0, 0, b"OpusHead" + bytes(11)) + page(int(seconds * 48000), 1, bytes(40))


def make_bot(base_url: str, token: str = TOKEN) -> telegram.Bot:
    return telegram.Bot(
        token,
        base_url=f"{base_url}/bot{{token}}",
        base_file_url=f"{base_url}/file/bot{{token}}",
    )


def fails(error: type[BaseException], text: str) -> Any:
    """``pytest.raises`` matching ``text`` literally and case-insensitively.

    PTB capitalises Bad Request descriptions ("BUTTON_DATA_INVALID" arrives as
    "Button_data_invalid"), so exact-case matching would test PTB, not the sandbox.
    """
    return pytest.raises(error, match=re.compile(re.escape(text), re.IGNORECASE))
