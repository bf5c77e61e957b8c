"""Branch isolation holds for files too: whoever may see a case sees its material; nobody else can
list it or fetch a file of it by any id (the answer is "not found", as for a missing id)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from dashboard.services.dispatching.dispatch import record_estimate
from dashboard.services.errors import NotFound
from dashboard.services.evidence.materials import case_materials, fetch_material
from dashboard.services.evidence.uploads import record_upload
from db.models import Person, Upload
from tests import sample_files
from tests.factories import T0, make_case


@pytest.fixture(autouse=True)
def _evidence_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("EVIDENCE_DIR", str(tmp_path / "evidence"))


@pytest.fixture
def gz_case_with_material(session, org, actor_for):
    case = make_case(session, org, "gz")
    record_estimate(session, actor_for("callcenter"), case.id, 80000, now=T0)
    surveyor = actor_for("gz_surveyor1")
    record_upload(session, surveyor, case.id, "person_vehicle_photo", "人车合影.jpg", sample_files.jpeg(),
                  on_behalf_of_person_id=org.person("gz_claims"), now=T0 + timedelta(hours=5))
    record_upload(session, surveyor, case.id, "survey_report", "查勘报告.pdf", sample_files.pdf(),
                  now=T0 + timedelta(hours=6))
    return case


def test_every_role_that_sees_the_case_lists_its_material_with_who_for_whom_and_when(
        session, org, actor_for, gz_case_with_material):
    for username in ("reviewer", "executive", "gd_manager", "gd_tracker", "gz_surveyor1", "gz_claims", "supervisor"):
        lines = case_materials(session, actor_for(username), gz_case_with_material.id)
        assert [x.filename for x in lines] == ["查勘报告.pdf", "人车合影.jpg"], username  # newest first
    photo = lines[1]
    name = {p.username: p.full_name for p in session.scalars(select(Person))}
    assert (photo.kind, photo.uploaded_by, photo.uploaded_at) == (
        "person_vehicle_photo", name["gz_surveyor1"], T0 + timedelta(hours=5))
    assert photo.on_behalf_of == name["gz_claims"]
    assert photo.size_bytes == len(sample_files.jpeg()) and photo.is_photo and photo.captured_at is not None


def test_the_hq_reviewer_and_the_branch_manager_fetch_the_evidence_behind_a_met_d2(
        session, actor_for, gz_case_with_material):
    photo_id = session.scalar(select(Upload.id).where(Upload.kind == "person_vehicle_photo"))
    for username in ("reviewer", "gd_manager"):
        assert fetch_material(session, actor_for(username), photo_id).content == sample_files.jpeg()


def test_another_branchs_people_cannot_list_or_fetch_a_file_by_any_id(session, org, actor_for,
                                                                     gz_case_with_material):
    every_id = list(session.scalars(select(Upload.id)))
    highest = session.scalar(select(func.max(Upload.id)))
    assert len(every_id) == 2
    for username in ("zj_manager", "zj_tracker", "zj_gm", "hz_surveyor1", "hz_claims"):
        outsider = actor_for(username)
        with pytest.raises(NotFound):
            case_materials(session, outsider, gz_case_with_material.id)
        for upload_id in [*every_id, highest + 1, 0, -1]:
            with pytest.raises(NotFound) as err:
                fetch_material(session, outsider, upload_id)
            assert err.value.key == "common.not_found"  # the same answer as for an id that does not exist
