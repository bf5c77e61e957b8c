"""Real files of each accepted format (and some that are not), made in memory for the tests.

The upload service reads a file's type from its content, so a test that uploads `b"x"` as a photo
is refused: use these. Each is small (a few hundred bytes to a few KB).
"""
from __future__ import annotations

import io
import zipfile
from functools import lru_cache

import pillow_heif
from PIL import Image

pillow_heif.register_heif_opener()

_EXIF_IFD, _DATETIME_ORIGINAL, _OFFSET_ORIGINAL = 0x8769, 0x9003, 0x9011


def _picture(fmt: str, taken: str | None, offset: str | None, size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    image = Image.new("RGB", size, colour)
    out = io.BytesIO()
    if taken is None:
        image.save(out, fmt)
    else:
        exif = Image.Exif()
        exif[_EXIF_IFD] = {_DATETIME_ORIGINAL: taken, **({_OFFSET_ORIGINAL: offset} if offset else {})}
        image.save(out, fmt, exif=exif.tobytes())
    return out.getvalue()


@lru_cache(maxsize=None)
def jpeg(taken: str | None = "2026:11:20 08:14:33", offset: str | None = None,
         size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = (180, 40, 40)) -> bytes:
    """A JPEG photo, with EXIF DateTimeOriginal `taken` ("YYYY:MM:DD HH:MM:SS") unless None."""
    return _picture("JPEG", taken, offset, size, colour)


@lru_cache(maxsize=None)
def png() -> bytes:
    return _picture("PNG", None, None, (64, 48), (40, 120, 40))


@lru_cache(maxsize=None)
def heic(taken: str | None = "2026:11:20 09:30:00", offset: str | None = "+08:00") -> bytes:
    """An iPhone-style HEIC photo (encoded by pillow-heif's bundled libheif)."""
    return _picture("HEIF", taken, offset, (64, 48), (40, 40, 180))


def pdf(text: str = "investigation report") -> bytes:
    """A one-page PDF (hand-written objects and cross-reference table)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R >>",
    ]
    stream = f"BT /F1 12 Tf 10 50 Td ({text}) Tj ET".encode()
    objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def _ooxml(entries: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in entries.items():
            archive.writestr(name, body)
    return out.getvalue()


def docx() -> bytes:
    """A minimal Word document, entries in the order Word writes them."""
    return _ooxml({
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName='
            '"/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.'
            'document.main+xml"/></Types>'),
        "word/document.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
            'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>调查笔录</w:t></w:r></w:p></w:body></w:document>'),
    })


def xlsx() -> bytes:
    from openpyxl import Workbook

    out = io.BytesIO()
    Workbook().save(out)
    return out.getvalue()


def windows_program() -> bytes:
    """The start of a Windows executable (MZ header and PE signature): what `virus.jpg` was."""
    header = bytearray(b"MZ" + b"\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(46))
    header[0x3C:0x40] = (0x80).to_bytes(4, "little")
    return bytes(header) + bytes(0x80 - len(header)) + b"PE\x00\x00" + bytes(400)


def jpeg_header_then_program() -> bytes:
    """A JPEG's first bytes in front of a program: the signature says JPEG, but it is no picture."""
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + windows_program()


def for_kind(kind: str) -> bytes:
    """A file the upload service accepts as `kind`: a JPEG for a photo kind, a PDF for a document."""
    from dashboard.rules.material_formats import is_photo

    return jpeg() if is_photo(kind) else pdf()
