"""What an uploaded file really is, read from its bytes: its format, whether a photo opens as a
picture, and when the photo was taken (EXIF). Also the preview a photo is shown with.

Detection uses `filetype` (pure Python, reads the first bytes' signature: a Windows program renamed
`virus.jpg` is still `application/x-msdownload`). A photo must then also open in Pillow (HEIC
through pillow-heif, whose wheel carries libheif): a JPEG header in front of anything else is
refused. No system library is needed.
"""
from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import filetype
import pillow_heif
from PIL import Image, ImageOps

from dashboard.rules.material_formats import FileFormat, accepted_format, is_photo
from dashboard.settings import BUSINESS_TZ

pillow_heif.register_heif_opener()

PREVIEW_EDGE = 720  # longest edge of a photo's preview, pixels (shown at its own size, within the column)
_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL, _DATETIME_DIGITIZED = 0x9003, 0x9004
_OFFSET_ORIGINAL, _OFFSET_DIGITIZED = 0x9011, 0x9012
_EXIF_TIME = re.compile(r"^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")


@dataclass(frozen=True)
class Inspection:
    """The verdict on one file for one kind of material."""

    detected_mime: str | None  # what the bytes are (None: not recognised)
    accepted: FileFormat | None  # the accepted format they are, or None: refuse
    captured_at: datetime | None = None  # a photo's EXIF capture time


def detect_mime(content: bytes) -> str | None:
    kind = filetype.guess(content)
    return kind.mime if kind else None


def _open_image(content: bytes, draft_edge: int | None = None) -> Image.Image:
    """Open and decode a picture with Pillow, turning its decompression-bomb warning into a refusal.
    `draft_edge`: a JPEG may be decoded at a reduced scale (much faster for a preview)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = Image.open(io.BytesIO(content))
        if draft_edge and image.format == "JPEG":
            image.draft("RGB", (draft_edge, draft_edge))
        image.load()
    return image


def _exif_time(value: object, offset: object) -> datetime | None:
    match = _EXIF_TIME.match(str(value or "").strip())
    if not match:
        return None
    try:
        moment = datetime(*(int(part) for part in match.groups()))
    except ValueError:
        return None
    tz = BUSINESS_TZ  # a camera without an offset keeps local time: the case's, Asia/Shanghai
    offset_match = _OFFSET.match(str(offset or "").strip())
    if offset_match:
        sign, hours, minutes = offset_match.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes))
        tz = timezone(-delta if sign == "-" else delta)
    if not 1990 <= moment.year <= 2100:
        return None
    return moment.replace(tzinfo=tz)


def capture_time(image: Image.Image) -> datetime | None:
    """EXIF DateTimeOriginal (else DateTimeDigitized), with its offset when the camera wrote one."""
    try:
        exif = image.getexif()
        ifd = exif.get_ifd(_EXIF_IFD)
    except Exception:  # a damaged EXIF block does not make the photo unusable
        return None
    return (_exif_time(ifd.get(_DATETIME_ORIGINAL), ifd.get(_OFFSET_ORIGINAL))
            or _exif_time(ifd.get(_DATETIME_DIGITIZED), ifd.get(_OFFSET_DIGITIZED)))


def inspect(kind: str, content: bytes) -> Inspection:
    """Read the file's type from its bytes and check it against what `kind` accepts."""
    mime = detect_mime(content)
    accepted = accepted_format(kind, mime)
    if accepted is None or not is_photo(kind):
        return Inspection(mime, accepted)
    try:
        image = _open_image(content)
    except Exception:  # not a picture Pillow can decode, or absurdly large: not a photo
        return Inspection(mime, None)
    return Inspection(mime, accepted, capture_time(image))


def preview_jpeg(content: bytes, edge: int = PREVIEW_EDGE) -> bytes | None:
    """A JPEG a browser can show (HEIC is not), upright, at most `edge` pixels long; None if not a picture."""
    try:
        image = _open_image(content, draft_edge=edge)
        image = ImageOps.exif_transpose(image)
        image.thumbnail((edge, edge))
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=85)
        return out.getvalue()
    except Exception:
        return None
