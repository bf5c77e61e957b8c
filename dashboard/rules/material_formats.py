"""Which file formats each kind of case material accepts (分级管理办法 第三章 三、四、五). Pure data.

A photo (事故现场照片, 人车合影) is a JPEG, PNG or HEIC picture (HEIC: what an iPhone takes); a
document (查勘报告, 调查笔录, 签字的调查报告) is a PDF, a Word document (DOCX) or an Excel workbook
(XLSX). The type is read from the file's content, never from its name (`dashboard.services.
material_content`): a renamed executable is not a photo. Old binary Office files (DOC/XLS) are not
accepted: they carry macros and cannot be told apart from other OLE files by their first bytes; a
scanned signed report is sent as PDF.

The upload service and the upload form both read this table.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FileFormat:
    """One accepted format: its MIME type (as detected from the content), the name people know it
    by, and the file name endings the browser's file picker offers."""

    mime: str
    label: str
    extensions: tuple[str, ...]


JPEG = FileFormat("image/jpeg", "JPEG", ("jpg", "jpeg"))
PNG = FileFormat("image/png", "PNG", ("png",))
HEIC = FileFormat("image/heic", "HEIC", ("heic", "heif"))
PDF = FileFormat("application/pdf", "PDF", ("pdf",))
DOCX = FileFormat("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word（DOCX）", ("docx",))
XLSX = FileFormat("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel（XLSX）", ("xlsx",))

# The two families of material, and the formats each accepts.
FAMILY_FORMATS: dict[str, tuple[FileFormat, ...]] = {
    "photo": (JPEG, PNG, HEIC),
    "document": (PDF, DOCX, XLSX),
}

# THE table: each kind of material is a photo or a document.
MATERIAL_FAMILY: dict[str, str] = {
    "scene_photos": "photo",            # 事故现场照片 (D1)
    "survey_report": "document",        # 查勘报告 (D1)
    "interview_notes": "document",      # 调查笔录 (D1)
    "person_vehicle_photo": "photo",    # 人车合影 (D2)
    "investigation_report": "document",  # 第一责任人调查报告，签字 (D3)
}

# Other MIME names the same formats are detected under (HEIF is HEIC's container).
MIME_ALIASES: dict[str, str] = {"image/heif": HEIC.mime, "image/jpg": JPEG.mime}


def formats_for(kind: str) -> tuple[FileFormat, ...]:
    """The formats `kind` accepts (none for an unknown kind)."""
    family = MATERIAL_FAMILY.get(kind)
    return FAMILY_FORMATS[family] if family else ()


def is_photo(kind: str) -> bool:
    return MATERIAL_FAMILY.get(kind) == "photo"


def accepted_format(kind: str, mime: str | None) -> FileFormat | None:
    """The accepted format a detected MIME type is, for this kind; None when it is refused."""
    if mime is None:
        return None
    mime = MIME_ALIASES.get(mime, mime)
    return next((f for f in formats_for(kind) if f.mime == mime), None)


def accepted_labels(kind: str) -> str:
    """「JPEG、PNG、HEIC」: the accepted formats of a kind, as a message names them."""
    return "、".join(f.label for f in formats_for(kind))


def all_extensions() -> list[str]:
    """Every file name ending any kind accepts (the file picker's filter; the content decides)."""
    return sorted({ext for formats in FAMILY_FORMATS.values() for f in formats for ext in f.extensions})
