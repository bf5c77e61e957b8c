"""Uploads meet the D1–D3 clocks and record who and when; permissions are enforced in the service."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dashboard.services.dispatching.dispatch import record_contact_attempt, record_estimate
from dashboard.services.errors import NotFound, PermissionDenied, ValidationFailed
from dashboard.services.evidence.uploads import record_upload
from db.models import CaseEvent, Deadline, Dispatch, Upload
from tests import sample_files
from tests.factories import T0, make_case


@pytest.fixture(autouse=True)
def _evidence_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("EVIDENCE_DIR", str(tmp_path / "evidence"))


@pytest.fixture
def case(session, org, actor_for):
    c = make_case(session, org, "gz")
    record_estimate(session, actor_for("callcenter"), c.id, 80000, now=T0)
    return c


def _clock(session, case_id, kind) -> Deadline:
    session.expire_all()
    return session.scalars(select(Deadline).where(Deadline.case_id == case_id, Deadline.kind == kind)).one()


def test_d1_is_met_when_the_third_kind_of_survey_material_arrives(session, actor_for, case):
    surveyor = actor_for("gz_surveyor1")
    record_upload(session, surveyor, case.id, "scene_photos", "a.jpg", sample_files.jpeg(), now=T0 + timedelta(hours=2))
    record_upload(session, surveyor, case.id, "survey_report", "b.pdf", sample_files.pdf(), now=T0 + timedelta(hours=3))
    assert _clock(session, case.id, "D1").met_at is None
    result = record_upload(session, surveyor, case.id, "interview_notes", "c.docx", sample_files.docx(), now=T0 + timedelta(hours=5))
    d1 = _clock(session, case.id, "D1")
    assert (d1.met_at, d1.met_by) == (T0 + timedelta(hours=5), surveyor.person_id)
    assert result.met_deadline_ids == [d1.id] and result.late_deadline_ids == []


def test_the_surveyor_uploads_the_photo_on_behalf_of_the_first_responsible(session, org, actor_for, case):
    surveyor = actor_for("gz_surveyor1")
    claims_head = org.person("gz_claims")
    at = T0 + timedelta(hours=6)
    record_upload(session, surveyor, case.id, "person_vehicle_photo", "合影.jpg", sample_files.jpeg(), on_behalf_of_person_id=claims_head,
                  now=at)
    d2 = _clock(session, case.id, "D2")
    assert (d2.met_at, d2.met_by, d2.also_charged_person_id) == (at, surveyor.person_id, None)
    upload = session.scalars(select(Upload).where(Upload.case_id == case.id)).one()
    assert (upload.uploaded_by, upload.on_behalf_of, upload.size_bytes) == (surveyor.person_id, claims_head, len(sample_files.jpeg()))
    dispatch = session.scalars(select(Dispatch).where(Dispatch.case_id == case.id)).one()
    assert dispatch.arrived_at == at
    kinds = set(session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case.id)))
    assert {"material_uploaded", "deadline_met"} <= kinds


def test_the_first_responsible_uploads_their_own_report(session, org, actor_for, case):
    head = actor_for("gz_claims")
    record_upload(session, head, case.id, "investigation_report", "报告.pdf", sample_files.pdf(), now=T0 + timedelta(hours=70))
    d3 = _clock(session, case.id, "D3")
    assert (d3.met_at, d3.met_by) == (T0 + timedelta(hours=70), head.person_id)


def test_a_late_surveyor_upload_records_the_surveyor_as_also_charged(session, org, actor_for, case):
    surveyor = actor_for("gz_surveyor1")
    result = record_upload(session, surveyor, case.id, "investigation_report", "r.pdf", sample_files.pdf(),
                           on_behalf_of_person_id=org.person("gz_claims"), now=T0 + timedelta(hours=73))
    d3 = _clock(session, case.id, "D3")
    assert d3.met_at == T0 + timedelta(hours=73)  # late, and it shows when it was finally met
    assert d3.responsible_person_id == org.person("gz_claims")
    assert d3.also_charged_person_id == surveyor.person_id
    assert result.late_deadline_ids == [d3.id]


def test_the_delegate_s_photo_meets_the_first_responsible_s_d2(session, org, actor_for, case):
    dispatch = session.scalars(select(Dispatch).where(Dispatch.case_id == case.id)).one()
    delegate = org.person("gz_head")
    record_contact_attempt(session, actor_for("callcenter"), dispatch.id, "unavailable", reason="出差",
                           delegate_person_id=delegate, now=T0 + timedelta(hours=1))
    record_upload(session, actor_for("gz_surveyor1"), case.id, "person_vehicle_photo", "p.jpg", sample_files.jpeg(),
                  on_behalf_of_person_id=delegate, now=T0 + timedelta(hours=8))
    d2 = _clock(session, case.id, "D2")
    assert d2.met_at == T0 + timedelta(hours=8)
    assert d2.responsible_person_id == org.person("gz_claims")  # responsibility stays with them


def test_another_branch_cannot_upload_or_even_see_the_case(session, org, actor_for, case):
    with pytest.raises(NotFound):
        record_upload(session, actor_for("hz_surveyor1"), case.id, "scene_photos", "a.jpg", sample_files.jpeg(), now=T0)


def test_a_colleague_surveyor_of_the_same_sub_branch_may_not_upload(session, org, actor_for, case):
    with pytest.raises(PermissionDenied):
        record_upload(session, actor_for("gz_surveyor2"), case.id, "scene_photos", "a.jpg", sample_files.jpeg(), now=T0)


def test_bad_uploads_name_every_field(session, actor_for, case):
    with pytest.raises(ValidationFailed) as err:
        record_upload(session, actor_for("gz_surveyor1"), case.id, "selfie", " ", b"", now=T0)
    assert {e.field for e in err.value.errors} == {"kind", "filename", "content"}
    assert session.scalars(select(Upload)).first() is None


def test_uploading_for_someone_not_dispatched_is_refused(session, org, actor_for, case):
    with pytest.raises(ValidationFailed) as err:
        record_upload(session, actor_for("gz_surveyor1"), case.id, "person_vehicle_photo", "p.jpg", sample_files.jpeg(),
                      on_behalf_of_person_id=org.person("sz_claims"), now=T0)
    assert err.value.errors[0].key == "deadlines.upload.error.not_dispatched"


