"""The case detail's materials section through the real app script (AppTest): the list every role
that sees the case gets, the photo preview and the download, and the upload form's refusals."""
from __future__ import annotations

from datetime import timedelta

import pytest

from dashboard.services.dispatching.dispatch import record_estimate
from dashboard.services.evidence.uploads import MAX_UPLOAD_BYTES, MAX_UPLOAD_MB, record_upload
from db.models import Person
from tests import sample_files
from tests.app.helpers import signed_in_app
from tests.factories import T0, make_case


@pytest.fixture(autouse=True)
def _evidence_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("EVIDENCE_DIR", str(tmp_path / "evidence"))


def _pending_case(session, org, actor_for):
    case = make_case(session, org, "gz")
    record_estimate(session, actor_for("callcenter"), case.id, 80000, now=T0)
    session.refresh(case)
    return case


def _open_detail(db_url, username, case_id):
    at = signed_in_app(db_url, username)
    at.session_state["case_id"] = case_id
    at.switch_page("pages/case_detail.py")
    at.run()
    assert not at.exception, at.exception
    return at


def _materials(at):
    return next((d.value for d in at.dataframe if "文件名" in d.value.columns), None)


def _name(session, username):
    return next(p.full_name for p in session.query(Person).filter_by(username=username))


def test_branch_manager_and_reviewer_see_the_material_list_preview_and_download(db_url, session, org, actor_for):
    case = _pending_case(session, org, actor_for)
    record_upload(session, actor_for("gz_surveyor1"), case.id, "person_vehicle_photo", "人车合影.jpg",
                  sample_files.jpeg("2026:11:20 08:14:33"), on_behalf_of_person_id=org.person("gz_claims"),
                  now=T0 + timedelta(hours=5))
    for username in ("gd_manager", "reviewer"):
        at = _open_detail(db_url, username, case.id)
        frame = _materials(at)
        assert frame is not None and len(frame) == 1
        row = frame.iloc[0]
        assert (row["资料类型"], row["文件名"], row["上传人"], row["代谁上传"]) == (
            "人车合影", "人车合影.jpg", _name(session, "gz_surveyor1"), _name(session, "gz_claims"))
        assert row["拍摄时间"] == "2026-11-20 08:14" and row["上传时间"] == "2026-11-20 15:00"
        assert row["大小"] == f"{len(sample_files.jpeg('2026:11:20 08:14:33'))} B"
        at.selectbox(key="materials_view").select_index(0)
        at.run()
        assert not at.exception and not at.error
        assert len(at.get("image")) == 1  # the photo's preview
        assert [b.proto.label for b in at.get("download_button")].count("下载原文件") == 1
        assert any("SHA-256" in c.value for c in at.caption)


def test_another_branchs_manager_sees_no_material(db_url, session, org, actor_for):
    case = _pending_case(session, org, actor_for)
    record_upload(session, actor_for("gz_surveyor1"), case.id, "scene_photos", "现场.jpg", sample_files.jpeg(),
                  now=T0 + timedelta(hours=5))
    at = _open_detail(db_url, "zj_manager", case.id)
    assert _materials(at) is None
    assert not any(s.key == "materials_view" for s in at.selectbox)


def _upload_form(at, kind_index, filename, content, mime, behalf_index=None):
    at.selectbox(key="materials_upload_kind").select_index(kind_index)
    at.run()
    uploader = next(u for u in at.get("file_uploader") if u.key and u.key.startswith("materials_upload_file"))
    uploader.set_value((filename, content, mime))
    at.run()
    if behalf_index is not None:
        at.selectbox(key="materials_upload_behalf").select_index(behalf_index)
        at.run()
    at.button(key="materials_upload_submit").click()
    at.run()
    assert not at.exception, at.exception


def test_the_surveyor_uploads_the_photo_for_the_first_responsible_and_the_list_says_for_whom(
        db_url, session, org, actor_for):
    case = _pending_case(session, org, actor_for)
    at = _open_detail(db_url, "gz_surveyor1", case.id)
    photo_kind = at.selectbox(key="materials_upload_kind").options.index("人车合影")
    _upload_form(at, photo_kind, "virus.jpg", sample_files.windows_program(), "image/jpeg", behalf_index=1)
    assert any("JPEG、PNG、HEIC" in e.value and "virus.jpg" in e.value for e in at.error)
    assert _materials(at) is None
    _upload_form(at, photo_kind, "合影.jpg", sample_files.jpeg(), "image/jpeg", behalf_index=1)
    assert not at.error
    done = " ".join(s.value for s in at.success)
    assert "合影.jpg" in done and f"代 {_name(session, 'gz_claims')} 上传" in done and "D2" in done
    frame = _materials(at)
    assert list(frame["代谁上传"]) == [_name(session, "gz_claims")]


def test_a_file_over_the_limit_is_refused_with_the_limit_filled_in(db_url, session, org, actor_for):
    case = _pending_case(session, org, actor_for)
    at = _open_detail(db_url, "gz_surveyor1", case.id)
    report_kind = at.selectbox(key="materials_upload_kind").options.index("查勘报告")
    _upload_form(at, report_kind, "big.pdf", sample_files.pdf() + bytes(MAX_UPLOAD_BYTES), "application/pdf")
    refusal = " ".join(e.value for e in at.error)
    assert f"文件超过 {MAX_UPLOAD_MB} MB 上限" in refusal and "{mb}" not in refusal
