"""Case material uploads, and the deadline clocks they meet (分级管理办法 第三章 三、四、五).

- scene_photos, survey_report, interview_notes: the surveyor's own material. D1 (24 h after the
  dispatch) is met when all three kinds are in the system — by whoever uploads the last one.
- person_vehicle_photo (D2, 24 h) and investigation_report (D3, 72 h): the first responsible's
  material. The surveyor usually uploads it for them (客服经理代为上传: `on_behalf_of_person_id`);
  the first responsible or their delegate may upload it themselves. It meets the D2/D3 clock of
  each dispatch of that person on the case (as first responsible or as delegate — the delegate's
  arrival counts, the responsibility stays with the first responsible).
- Late stays late: meeting a clock after its due time records when and by whom, and the
  violation job still counts it. If the surveyor's upload of that material is late, the first
  responsible person and the surveyor are both charged (第三章 五): the one who is not the clock's
  responsible person becomes its `also_charged_person_id`.

Evidence that can be trusted (issue 27): the file's type is read from its content, not its name
(`material_content`; which kinds are photos and which documents: `rules/material_formats`); a
photo keeps its EXIF capture time; the bytes go to the evidence folder (`evidence_store`) with
their SHA-256 recorded in the row, which every download checks (`materials.fetch_material`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard import clock
from dashboard.rules.deadlines import (
    FIRST_RESPONSIBLE_MATERIAL,
    SURVEY_MATERIAL,
    UPLOAD_KINDS,
    charged_for_late_material,
    dispatch_subject,
    is_violation,
    survey_material_complete,
)
from dashboard.rules.material_formats import accepted_labels, is_photo
from dashboard.services.evidence import content as material_content
from dashboard.services.evidence import store as evidence_store
from dashboard.services.actor import Actor
from dashboard.services.cases.access import load_visible_case
from dashboard.services.errors import (
    FieldError,
    PermissionDenied,
    UserError,
    ValidationFailed,
)
from dashboard.services.cases.history import record_event
from dashboard.services.clocks.deadlines import meet_locked_clocks, open_clocks_for_update
from dashboard.services.capability import requires
from db.models import ClaimCase, Deadline, Dispatch, Upload

# The one upload limit. `.streamlit/config.toml` server.maxUploadSize must say the same number, so
# the server refuses a bigger file before it is sent in full (a test checks that they agree).
MAX_UPLOAD_MB = 20
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024


@dataclass
class UploadResult:
    upload_id: int
    met_deadline_ids: list[int] = field(default_factory=list)
    late_deadline_ids: list[int] = field(default_factory=list)
    met_deadline_kinds: dict[int, str] = field(default_factory=dict)  # id -> D1/D2/D3, for the message


def _case_dispatches(session: Session, case_id: int) -> list[Dispatch]:
    return list(session.scalars(select(Dispatch).where(Dispatch.case_id == case_id).order_by(Dispatch.id)))


def _may_upload(actor: Actor, case: ClaimCase, dispatches: list[Dispatch]) -> bool:
    """The case's surveyor, a person dispatched to it (or their delegate), or the HQ administrator."""
    if actor.has_role("hq_admin") or case.surveyor_id == actor.person_id:
        return True
    return any(actor.person_id in (d.person_id, d.delegate_person_id) for d in dispatches)


def _validate(kind: str, filename: str, content: bytes) -> tuple[list[FieldError], material_content.Inspection | None]:
    """Every field's problem at once, and what the content is (None when it was not looked at)."""
    errors: list[FieldError] = []
    inspection = None
    if kind not in UPLOAD_KINDS:
        errors.append(FieldError("kind", "deadlines.upload.error.bad_kind"))
    if not (filename or "").strip():
        errors.append(FieldError("filename", "deadlines.upload.error.no_filename"))
    if not content:
        errors.append(FieldError("content", "deadlines.upload.error.empty_file"))
    elif len(content) > MAX_UPLOAD_BYTES:
        errors.append(FieldError("content", "deadlines.upload.error.too_large", {"mb": MAX_UPLOAD_MB}))
    elif kind in UPLOAD_KINDS:
        inspection = material_content.inspect(kind, content)
        if inspection.accepted is None:  # the content decides, whatever the name says
            key = "materials.error.not_photo" if is_photo(kind) else "materials.error.not_document"
            errors.append(FieldError("content", key, {"accepted": accepted_labels(kind),
                                                      "filename": (filename or "").strip()}))
    return errors, inspection


@requires("material.upload")
def record_upload(session: Session, actor: Actor, case_id: int, kind: str, filename: str, content: bytes, *,
                  on_behalf_of_person_id: int | None = None, note: str | None = None,
                  now: datetime | None = None) -> UploadResult:
    """Store one file of case material and meet the deadline clocks it completes; one transaction."""
    now = clock.or_now(now)
    case = load_visible_case(session, actor, case_id, for_update=True)
    dispatches = _case_dispatches(session, case.id)
    if not _may_upload(actor, case, dispatches):
        raise PermissionDenied()
    errors, inspection = _validate(kind, filename, content)
    if errors or inspection is None or inspection.accepted is None:
        raise ValidationFailed(errors)
    if case.state == "closed" and (case.closed_at is None or now >= case.closed_at):
        # An archived case takes no more material (a back-dated upload before the closing is fine).
        raise UserError("deadlines.upload.error.case_closed", field="case")

    subject_person = actor.person_id
    matching: list[Dispatch] = []
    if kind in FIRST_RESPONSIBLE_MATERIAL:
        if on_behalf_of_person_id is not None and on_behalf_of_person_id != actor.person_id:
            if not (case.surveyor_id == actor.person_id or actor.has_role("hq_admin")):
                raise ValidationFailed([FieldError("on_behalf_of_person_id",
                                                   "deadlines.upload.error.on_behalf_only_surveyor")])
            subject_person = on_behalf_of_person_id
        matching = [d for d in dispatches if subject_person in (d.person_id, d.delegate_person_id)]
        if not matching:
            raise ValidationFailed([FieldError("on_behalf_of_person_id", "deadlines.upload.error.not_dispatched")])
    elif on_behalf_of_person_id is not None and on_behalf_of_person_id != actor.person_id:
        raise ValidationFailed([FieldError("on_behalf_of_person_id", "deadlines.upload.error.on_behalf_wrong_kind")])

    digest = evidence_store.checksum(content)
    # The file reaches the disk before its row is committed: a row never names bytes that are not there.
    storage_key = evidence_store.store(session, content, digest)
    upload = Upload(case_id=case.id, kind=kind, filename=filename.strip()[:255], size_bytes=len(content),
                    content=None, storage_key=storage_key, sha256=digest, content_type=inspection.accepted.mime,
                    captured_at=inspection.captured_at, note=note, uploaded_by=actor.person_id,
                    on_behalf_of=subject_person if subject_person != actor.person_id else None, uploaded_at=now)
    session.add(upload)
    session.flush()
    result = UploadResult(upload.id)
    record_event(session, case_id=case.id, actor_id=actor.person_id, kind="material_uploaded", at=now,
                 upload_id=upload.id, material=kind, filename=upload.filename, size_bytes=len(content),
                 on_behalf_of=upload.on_behalf_of, content_type=upload.content_type, sha256=digest,
                 captured_at=upload.captured_at.isoformat() if upload.captured_at else None)

    if kind in SURVEY_MATERIAL:
        present = set(session.scalars(select(Upload.kind).distinct().where(
            Upload.case_id == case.id, Upload.kind.in_(SURVEY_MATERIAL), Upload.uploaded_at <= now)))
        if survey_material_complete(present):
            _meet(session, actor, case, open_clocks_for_update(session, "D1", Deadline.case_id == case.id), now, result)
    else:
        deadline_kind = FIRST_RESPONSIBLE_MATERIAL[kind]
        keys = [dispatch_subject(d.id) for d in matching]
        clocks = open_clocks_for_update(session, deadline_kind, Deadline.subject_key.in_(keys))
        by_key = {dispatch_subject(d.id): d for d in matching}
        for deadline in clocks:
            dispatch = by_key[deadline.subject_key]
            if now > deadline.due_at and deadline.also_charged_person_id is None:
                # 第三章 五: a late upload of the first responsible's material charges them too.
                deadline.also_charged_person_id = charged_for_late_material(
                    deadline.responsible_person_id, dispatch.person_id, actor.person_id, case.surveyor_id)
        _meet(session, actor, case, clocks, now, result)
        if kind == "person_vehicle_photo":
            for dispatch in matching:  # the photo is the proof of arrival (人车合影)
                if dispatch.arrived_at is None:
                    dispatch.arrived_at = now
                    dispatch.version += 1
    session.commit()
    return result


def _meet(session: Session, actor: Actor, case: ClaimCase, clocks: list[Deadline], now: datetime,
          result: UploadResult) -> None:
    for deadline in meet_locked_clocks(clocks, now, actor.person_id):
        late = is_violation(deadline.due_at, deadline.met_at, now)
        result.met_deadline_ids.append(deadline.id)
        result.met_deadline_kinds[deadline.id] = deadline.kind
        if late:
            result.late_deadline_ids.append(deadline.id)
        record_event(session, case_id=case.id, actor_id=actor.person_id, kind="deadline_met", at=now,
                     deadline_id=deadline.id, deadline_kind=deadline.kind, due_at=deadline.due_at, late=late,
                     also_charged_person_id=deadline.also_charged_person_id)
    session.flush()
