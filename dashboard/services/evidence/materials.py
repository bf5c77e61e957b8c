"""A case's material as people open it: the list of its files and one file's bytes, checked.

Whoever may see the case may see its material (HQ checks the evidence behind a met D2/D3; the
branch, the surveyor and the first responsible see what was sent). Both functions check the case
against the person's scope first, the same check as the case itself: another branch's file is
"not found" whatever id is asked for, never "forbidden" (that would say it exists).

A file's bytes are handed out only if they still have the SHA-256 recorded when it was uploaded:
evidence that changed on disk is refused with a message, not shown as if it were the original.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, aliased

from dashboard.rules.material_formats import is_photo
from dashboard.services.evidence import store as evidence_store
from dashboard.services.actor import Actor
from dashboard.services.cases.access import visible_case_id
from dashboard.services.errors import NotFound, UserError
from dashboard.services.capability import requires
from dashboard.services.statements import as_rows, built_once, read
from db.models import Person, Upload

MATERIALS_LIMIT = 500  # a real case has a few dozen files; the list is bounded all the same


@dataclass(frozen=True)
class MaterialLine:
    """One file of a case, as the materials list shows it (no bytes)."""

    id: int
    case_id: int
    kind: str
    filename: str
    size_bytes: int
    content_type: str | None
    uploaded_by: str
    on_behalf_of: str | None
    uploaded_at: datetime
    captured_at: datetime | None
    sha256: str | None
    note: str | None

    @property
    def is_photo(self) -> bool:
        """Shown as a picture: a photo kind, or any file detected as an image."""
        return bool(self.content_type and self.content_type.startswith("image/")) or (
            self.content_type is None and is_photo(self.kind))


@dataclass(frozen=True)
class MaterialFile:
    line: MaterialLine
    content: bytes


_UPLOADER = aliased(Person)
_BEHALF = aliased(Person)


def _lines_query():
    return (select(Upload.id, Upload.case_id, Upload.kind, Upload.filename, Upload.size_bytes, Upload.content_type,
                   _UPLOADER.full_name, _BEHALF.full_name, Upload.uploaded_at, Upload.captured_at, Upload.sha256,
                   Upload.note)
            .join(_UPLOADER, _UPLOADER.id == Upload.uploaded_by)
            .outerjoin(_BEHALF, _BEHALF.id == Upload.on_behalf_of))


@built_once
def _case_lines() -> Select:
    return (_lines_query().where(Upload.case_id == bindparam("case_id"))
            .order_by(Upload.uploaded_at.desc(), Upload.id.desc()).limit(MATERIALS_LIMIT))


# A file is opened by its id alone, which every month's partition of the material may hold
# (migration 0047): generic plans, planned once per connection rather than over every month each click.
@built_once
def _line_by_id() -> Select:
    return _lines_query().where(Upload.id == bindparam("upload_id"))


@built_once
def _stored_bytes() -> Select:
    return select(Upload.storage_key, Upload.content).where(Upload.id == bindparam("upload_id"))


@requires("case.read")
def case_materials(session: Session, actor: Actor, case_id: int) -> list[MaterialLine]:
    """The case's files, newest first; NotFound when the actor may not see the case. A generic
    plan (statements.read): a case's files may be in any month's partition (migration 0047)."""
    rows = read(session, _case_lines(), {"case_id": visible_case_id(session, actor, case_id)}, generic=True)
    return as_rows(MaterialLine, rows)


@requires("case.read")
def fetch_material(session: Session, actor: Actor, upload_id: int) -> MaterialFile:
    """One file with its bytes, checked against its checksum; NotFound for a file of a case the actor
    may not see (or no such file); UserError when the stored bytes are missing or changed."""
    row = read(session, _line_by_id(), {"upload_id": upload_id}, generic=True).first()
    if row is None:
        raise NotFound()
    line = MaterialLine(*row)
    visible_case_id(session, actor, line.case_id)  # scope first: the same answer as a missing id
    return MaterialFile(line, _verified_bytes(session, upload_id, line))


def _verified_bytes(session: Session, upload_id: int, line: MaterialLine) -> bytes:
    storage_key, content = read(session, _stored_bytes(), {"upload_id": upload_id}, generic=True).one()
    try:
        if storage_key:
            if not line.sha256:
                raise evidence_store.EvidenceCorrupted(storage_key)
            return evidence_store.read_verified(session, storage_key, line.sha256)
        if content is None:
            raise evidence_store.EvidenceMissing(str(upload_id))
        if line.sha256 and evidence_store.checksum(content) != line.sha256:
            raise evidence_store.EvidenceCorrupted(str(upload_id))
        return bytes(content)
    except evidence_store.EvidenceMissing as exc:
        raise UserError("materials.error.missing", field="file", filename=line.filename) from exc
    except evidence_store.EvidenceCorrupted as exc:
        raise UserError("materials.error.corrupted", field="file", filename=line.filename) from exc
