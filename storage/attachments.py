"""What a file a member attaches to a grievance must lose before a cadre sees it.

A document carries more than its content: its name (``工资条-13800138000.pdf``),
a photo's EXIF (camera, time, GPS position), a PDF's document information and
XMP (author, the software's registered user), an Office file's core properties
(author, last modified by, company). Any of them can name the member. So a
document is rewritten before it is relayed: a neutral name by case and number,
images re-encoded from their pixels alone, PDFs rebuilt from their pages,
Office files without their property parts. A file that cannot be rewritten
(an encrypted PDF, a broken image) is refused with a reason, never passed on
as it came. Photos sent as photos are re-encoded by Telegram and need none of
this. No Telegram and no database here: bytes in, bytes out.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

# Telegram lets bots download files up to 20 MB.
MAX_BYTES = 20 * 1024 * 1024
# Decompression bombs: a few kilobytes that decode to gigapixels.
MAX_PIXELS = 60_000_000

_IMAGE_FORMATS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "GIF": ".gif", "TIFF": ".tiff"}
_OFFICE = {".docx", ".xlsx", ".pptx"}
_SAFE_EXTENSION = re.compile(r"^\.[a-z0-9]{1,8}$")
_EMPTY_CORE = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
    b'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"/>'
)
_EMPTY_CUSTOM = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'custom-properties"/>'
)
_EMPTY_APP = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'extended-properties"/>'
)


class FileRefused(ValueError):
    """A file that cannot be made safe; ``code`` names why (the handler words it)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class CleanFile:
    """The rewritten file. ``cleaned`` says whether its inside was rewritten (False:
    a type this module cannot look into, passed on under a neutral name only)."""

    data: bytes
    extension: str
    cleaned: bool


def neutral_name(word: str, index: int, extension: str) -> str:
    """``附件-1.pdf``: the file's number in its case, nothing of the sender. (The
    case code is on the relayed message's caption; a name that had it would
    outlive the case's link in every cadre's downloads folder.)"""
    return f"{word}-{index}{extension}"


def extension_of(file_name: str | None) -> str:
    """The file's extension, lower case, if it is a plain one; else none at all."""
    suffix = PurePosixPath(file_name or "").suffix.lower()
    return suffix if _SAFE_EXTENSION.match(suffix) else ""


def clean(data: bytes, file_name: str | None) -> CleanFile:
    """The file without what could name its sender (see the module docstring)."""
    if len(data) > MAX_BYTES:
        raise FileRefused("too_big")
    extension = extension_of(file_name)
    if data.startswith(b"%PDF") or extension == ".pdf":
        return CleanFile(_clean_pdf(data), ".pdf", True)
    image = _image_format(data)
    if image is not None:
        return CleanFile(_clean_image(data, image), _IMAGE_FORMATS[image], True)
    if extension in _OFFICE and zipfile.is_zipfile(io.BytesIO(data)):
        return CleanFile(_clean_office(data), extension, True)
    return CleanFile(data, extension, False)


def _image_format(data: bytes) -> str | None:
    # Pillow at the first attachment, not with the bot: 2.2 MiB few updates need.
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            found = image.format
    except (UnidentifiedImageError, OSError):
        return None
    return found if found in _IMAGE_FORMATS else None


def _clean_image(data: bytes, kind: str) -> bytes:
    """Only the pixels survive: a fresh image, turned the way EXIF said, saved without
    EXIF, XMP, ICC, PNG text chunks or comments."""
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise FileRefused("image_too_large")
            upright = ImageOps.exif_transpose(image)  # first frame of an animation
            if upright.mode in ("L", "RGB") or (kind == "JPEG" and upright.mode == "CMYK"):
                mode = upright.mode
            elif kind != "JPEG" and (
                upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
            ):
                mode = "RGBA"
            else:
                mode = "RGB"
            # A new image from the raw pixels: nothing of the original's info comes along.
            pixels = Image.frombytes(mode, upright.size, upright.convert(mode).tobytes())
    except FileRefused:
        raise
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise FileRefused("broken_image") from error
    out = io.BytesIO()
    options: dict[str, object] = {}
    if kind == "JPEG":
        options = {"quality": 92, "optimize": True}
    pixels.save(out, format=kind, **options)
    return out.getvalue()


def _clean_pdf(data: bytes) -> bytes:
    """The pages, re-assembled in a new document: no document information, no XMP.

    pypdf is imported here, at the first PDF: 10 MB of memory few processes need.
    """
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import PdfReadError
    from pypdf.generic import NameObject

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise FileRefused("encrypted_pdf")
        writer = PdfWriter()
        for page in reader.pages:
            added = writer.add_page(page)
            for key in ("/Metadata", "/PieceInfo"):
                if key in added:
                    del added[NameObject(key)]
            # Comments and highlights carry their author's name (/T) and times.
            for annotation in added.get("/Annots", None) or []:
                target = annotation.get_object()
                for key in ("/T", "/M", "/CreationDate"):
                    if key in target:
                        del target[NameObject(key)]
        writer.add_metadata({"/Producer": ""})
        out = io.BytesIO()
        writer.write(out)
    except FileRefused:
        raise
    except (PdfReadError, OSError, ValueError, KeyError, TypeError) as error:
        raise FileRefused("broken_pdf") from error
    return out.getvalue()


def _clean_office(data: bytes) -> bytes:
    """The same package with empty core and extended properties (author, company…)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as source:
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
                for item in source.infolist():
                    name = item.filename
                    if name == "docProps/core.xml":
                        body = _EMPTY_CORE
                    elif name == "docProps/app.xml":
                        body = _EMPTY_APP
                    elif name == "docProps/custom.xml":
                        body = _EMPTY_CUSTOM
                    else:
                        body = source.read(item)
                    # A fixed date: the package's own entry times would tell when it was made.
                    entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                    entry.compress_type = zipfile.ZIP_DEFLATED
                    target.writestr(entry, body)
    except (zipfile.BadZipFile, OSError, KeyError) as error:
        raise FileRefused("broken_office_file") from error
    return out.getvalue()
