"""Files a member attaches lose everything that could name them: real files, real metadata.

Each test builds a file the way a phone or an office program would leave it —
a JPEG with camera and GPS EXIF, a PNG with an author text chunk, a PDF with
document information, XMP and a comment signed by its author, a Word file
with core properties — runs it through `storage.attachments.clean`, and reads
the result back with the same libraries, looking for the member's traces.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DictionaryObject, NameObject, StreamObject, TextStringObject

from storage import attachments
from storage.attachments import FileRefused, clean, extension_of, neutral_name

SECRET = "张伟强"
LATIN = "Zhang Weiqiang"  # EXIF text is ASCII
PHONE = "13800138000"


def _jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (40, 20), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone of " + LATIN  # Model
    exif[0x013B] = LATIN  # Artist
    exif[0x0132] = "2026:11:24 08:15:00"  # DateTime
    exif[0x0112] = 6  # Orientation: rotated 90° clockwise
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (31.0, 14.0, 2.0), "E", (121.0, 28.0, 5.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def test_jpeg_loses_exif_and_gps_but_keeps_its_pixels_upright() -> None:
    original = _jpeg_with_exif()
    assert LATIN.encode() in original  # the member's name is really in there
    with Image.open(io.BytesIO(original)) as before:
        assert before.getexif().get_ifd(0x8825)[1] == "N"  # and where they stood
    result = clean(original, "IMG_0001.JPG")
    assert result.cleaned and result.extension == ".jpg"
    with Image.open(io.BytesIO(result.data)) as image:
        assert image.size == (20, 40)  # turned as the EXIF said, before EXIF went
        assert not image.getexif()
        assert "exif" not in image.info and "icc_profile" not in image.info
        red, green, blue = image.convert("RGB").getpixel((10, 20))
        assert red > 150 and green < 80 and blue < 80
    assert LATIN.encode() not in result.data and b"PhoneMaker" not in result.data
    assert b"Exif" not in result.data


def test_png_loses_its_text_chunks() -> None:
    info = PngInfo()
    info.add_text("Author", SECRET)
    info.add_itxt("Comment", f"电话 {PHONE}")
    out = io.BytesIO()
    Image.new("RGBA", (8, 8), (0, 0, 255, 128)).save(out, "PNG", pnginfo=info)
    result = clean(out.getvalue(), "scan.png")
    with Image.open(io.BytesIO(result.data)) as image:
        assert image.mode == "RGBA" and "Author" not in image.info and not image.text
        assert image.getpixel((1, 1)) == (0, 0, 255, 128)
    assert PHONE.encode() not in result.data


def _pdf_with_metadata() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_metadata({"/Author": SECRET, "/Creator": "WPS of " + SECRET, "/Title": PHONE})
    xmp = StreamObject()
    xmp.set_data(f"<x:xmpmeta><dc:creator>{SECRET}</dc:creator></x:xmpmeta>".encode())
    writer._root_object[NameObject("/Metadata")] = writer._add_object(xmp)
    comment = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Text"),
            NameObject("/T"): TextStringObject(SECRET),
            NameObject("/Contents"): TextStringObject("加班记录"),
        }
    )
    writer.add_annotation(0, comment)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_pdf_loses_document_information_xmp_and_comment_authors() -> None:
    original = _pdf_with_metadata()
    assert PdfReader(io.BytesIO(original)).metadata["/Author"] == SECRET
    result = clean(original, f"工资条-{PHONE}.pdf")
    assert result.extension == ".pdf"
    reader = PdfReader(io.BytesIO(result.data))
    assert len(reader.pages) == 1
    metadata = reader.metadata or {}
    assert all(SECRET not in str(v) and PHONE not in str(v) for v in metadata.values())
    assert reader.xmp_metadata is None
    for annotation in reader.pages[0].get("/Annots", []):
        assert "/T" not in annotation.get_object()
    text = result.data.decode("latin-1")
    assert SECRET.encode("utf-16-be").decode("latin-1") not in text


def test_encrypted_pdf_is_refused_not_passed_on() -> None:
    writer = PdfWriter()
    writer.add_blank_page(100, 100)
    writer.add_metadata({"/Author": SECRET})
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(FileRefused) as refused:
        clean(out.getvalue(), "x.pdf")
    assert refused.value.code == "encrypted_pdf"


def _docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("word/document.xml", "<w:document>加班</w:document>")
        package.writestr(
            "docProps/core.xml",
            f"<cp:coreProperties><dc:creator>{SECRET}</dc:creator>"
            f"<cp:lastModifiedBy>{SECRET}</cp:lastModifiedBy></cp:coreProperties>",
        )
        package.writestr(
            "docProps/app.xml", f"<Properties><Company>{SECRET}厂</Company></Properties>"
        )
        package.writestr("docProps/custom.xml", f"<Properties><p>{PHONE}</p></Properties>")
    return out.getvalue()


def test_office_file_loses_its_properties() -> None:
    result = clean(_docx(), "申诉.DOCX")
    assert result.cleaned and result.extension == ".docx"
    with zipfile.ZipFile(io.BytesIO(result.data)) as package:
        everything = b"".join(package.read(name) for name in package.namelist())
        assert package.read("word/document.xml") == "<w:document>加班</w:document>".encode()
        assert {item.date_time for item in package.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert SECRET.encode() not in everything and PHONE.encode() not in everything


def test_other_files_keep_their_bytes_and_get_a_neutral_name() -> None:
    result = clean(b"plain words", "张伟强 工资.txt")
    assert result == attachments.CleanFile(b"plain words", ".txt", False)
    assert neutral_name("附件", 2, result.extension) == "附件-2.txt"


@pytest.mark.parametrize(
    ("name", "extension"),
    [("a.PDF", ".pdf"), ("noext", ""), (None, ""), ("x.张伟强", ""), ("evil.pdf/../x", "")],
)
def test_extension_is_plain_or_none(name: str | None, extension: str) -> None:
    assert extension_of(name) == extension


def test_broken_and_oversized_files_are_refused() -> None:
    with pytest.raises(FileRefused) as refused:
        clean(b"%PDF-1.4 not really", "a.pdf")
    assert refused.value.code == "broken_pdf"
    with pytest.raises(FileRefused) as refused:
        clean(b"x" * (attachments.MAX_BYTES + 1), "a.bin")
    assert refused.value.code == "too_big"
