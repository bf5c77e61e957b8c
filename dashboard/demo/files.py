"""Small real files for the demo's material: the upload service reads a file's type from its
content, so demo photos must be pictures and demo reports PDFs.

A photo carries an EXIF capture time a little before its upload (as a phone's would), so the
materials list shows both. Photos of one kind share a look; content-addressed storage keeps the
identical bytes once.
"""
from __future__ import annotations

import io
from datetime import datetime, timedelta
from functools import lru_cache

from PIL import Image, ImageDraw

from dashboard.rules.material_formats import is_photo
from dashboard.settings import BUSINESS_TZ

_EXIF_IFD, _DATETIME_ORIGINAL, _OFFSET_ORIGINAL = 0x8769, 0x9003, 0x9011
_COLOURS = {"scene_photos": (96, 125, 139), "person_vehicle_photo": (31, 78, 121)}


@lru_cache(maxsize=4)
def _picture(kind: str) -> Image.Image:
    """A 480x360 stand-in photo: a road, a car, a person (shapes; no font needed)."""
    image = Image.new("RGB", (480, 360), (210, 220, 228))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 250, 480, 360), fill=(120, 120, 120))
    draw.rounded_rectangle((150, 180, 390, 270), radius=18, fill=_COLOURS.get(kind, (90, 90, 90)))
    draw.ellipse((175, 250, 225, 300), fill=(30, 30, 30))
    draw.ellipse((315, 250, 365, 300), fill=(30, 30, 30))
    if kind == "person_vehicle_photo":
        draw.ellipse((80, 130, 120, 170), fill=(230, 190, 160))
        draw.rectangle((78, 172, 122, 260), fill=(40, 60, 90))
    return image


def demo_photo(kind: str, taken: datetime) -> bytes:
    """A JPEG of `kind` taken at `taken` (EXIF DateTimeOriginal in Asia/Shanghai, with its offset)."""
    local = taken.astimezone(BUSINESS_TZ)
    exif = Image.Exif()
    exif[_EXIF_IFD] = {_DATETIME_ORIGINAL: local.strftime("%Y:%m:%d %H:%M:%S"), _OFFSET_ORIGINAL: "+08:00"}
    out = io.BytesIO()
    _picture(kind).save(out, "JPEG", quality=80, exif=exif.tobytes())
    return out.getvalue()


@lru_cache(maxsize=8)
def demo_document(kind: str) -> bytes:
    """A one-page PDF standing in for a report."""
    stream = f"BT /F1 14 Tf 40 60 Td (demo {kind}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 120] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.writelines(b"%010d 00000 n \n" % offset for offset in offsets)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def demo_material(kind: str, uploaded_at: datetime) -> tuple[str, bytes]:
    """(file name ending, bytes) of a demo file of `kind` uploaded at `uploaded_at`."""
    if is_photo(kind):
        return "jpg", demo_photo(kind, uploaded_at - timedelta(minutes=12))
    return "pdf", demo_document(kind)
