"""Files to send the bot: real images and documents made in memory (no files on disk)."""

from __future__ import annotations

import io
import struct
import zlib

from pypdf import PdfWriter

# A 1×1 PNG's signature and chunks; its pixel data does not decode (`make_png` draws one
# that does). The tests have always sent this one as "a photo".
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


def make_png(width: int, height: int, colour: tuple[int, int, int] = (0xFF, 0, 0)) -> bytes:
    """A real PNG image of the given size, in one colour (red unless told)."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + bytes(colour) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def real_pdf(author: str, title: str = "加班记录") -> bytes:
    """A one-page PDF whose document information names its author, as office programs
    leave it."""
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_metadata({"/Author": author, "/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
