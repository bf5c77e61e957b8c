"""Evidence that can be trusted (issue 27): the content decides what a file is, a photo keeps when it
was taken, the bytes are kept with their checksum and handed out only while they still match it."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, select, text

from dashboard.i18n import t
from dashboard.services.evidence import store as evidence_store
from dashboard.services.dispatching.dispatch import record_estimate
from dashboard.services.errors import UserError, ValidationFailed
from dashboard.services.evidence.materials import fetch_material
from dashboard.services.evidence.uploads import MAX_UPLOAD_BYTES, MAX_UPLOAD_MB, record_upload
from dashboard.settings import BUSINESS_TZ
from db.engine import normalise_url
from db.models import Deadline, Dispatch, Upload
from db.schema import alembic_config
from tests import sample_files
from tests.factories import T0, make_case


@pytest.fixture(autouse=True)
def evidence_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "evidence"
    monkeypatch.setenv("EVIDENCE_DIR", str(folder))
    return folder


@pytest.fixture
def case(session, org, actor_for):
    c = make_case(session, org, "gz")
    record_estimate(session, actor_for("callcenter"), c.id, 80000, now=T0)
    return c


def _d2(session, case_id) -> Deadline:
    session.expire_all()
    return session.scalars(select(Deadline).where(Deadline.case_id == case_id, Deadline.kind == "D2")).one()


def _photo_for_claims_head(session, org, actor_for, case, filename, content, hours=6):
    return record_upload(session, actor_for("gz_surveyor1"), case.id, "person_vehicle_photo", filename, content,
                         on_behalf_of_person_id=org.person("gz_claims"), now=T0 + timedelta(hours=hours))


def test_a_windows_program_renamed_virus_jpg_is_refused_as_the_photo_and_meets_no_clock(session, org, actor_for,
                                                                                        case):
    with pytest.raises(ValidationFailed) as err:
        _photo_for_claims_head(session, org, actor_for, case, "virus.jpg", sample_files.windows_program())
    (problem,) = err.value.errors
    assert (problem.field, problem.key) == ("content", "materials.error.not_photo")
    message = t(problem.key, **problem.params)
    assert "JPEG、PNG、HEIC" in message and "virus.jpg" in message
    assert _d2(session, case.id).met_at is None
    assert session.scalars(select(Dispatch.arrived_at).where(Dispatch.case_id == case.id)).one() is None
    assert session.scalars(select(Upload)).first() is None


def test_a_jpeg_signature_in_front_of_a_program_is_not_a_photo(session, org, actor_for, case):
    with pytest.raises(ValidationFailed) as err:
        _photo_for_claims_head(session, org, actor_for, case, "合影.jpg", sample_files.jpeg_header_then_program())
    assert err.value.errors[0].key == "materials.error.not_photo"


def test_a_pdf_is_not_a_photo_and_a_photo_is_not_the_signed_report(session, org, actor_for, case):
    with pytest.raises(ValidationFailed) as err:
        _photo_for_claims_head(session, org, actor_for, case, "合影.jpg", sample_files.pdf())
    assert err.value.errors[0].key == "materials.error.not_photo"
    with pytest.raises(ValidationFailed) as err:
        record_upload(session, actor_for("gz_claims"), case.id, "investigation_report", "报告.pdf",
                      sample_files.jpeg(), now=T0 + timedelta(hours=7))
    assert err.value.errors[0].key == "materials.error.not_document"
    assert "PDF、Word（DOCX）、Excel（XLSX）" in t(err.value.errors[0].key, **err.value.errors[0].params)


@pytest.mark.parametrize("filename, content, mime", [
    ("合影.jpg", sample_files.jpeg(), "image/jpeg"),
    ("合影.png", sample_files.png(), "image/png"),
    ("IMG_0001.HEIC", sample_files.heic(), "image/heic"),
    ("named wrongly.pdf", sample_files.jpeg(), "image/jpeg"),  # the content decides, not the name
])
def test_jpeg_png_and_heic_photos_meet_d2_and_record_the_type_read_from_their_content(
        session, org, actor_for, case, filename, content, mime):
    _photo_for_claims_head(session, org, actor_for, case, filename, content)
    upload = session.scalars(select(Upload)).one()
    assert upload.content_type == mime
    assert _d2(session, case.id).met_at == T0 + timedelta(hours=6)


@pytest.mark.parametrize("kind, content, mime", [
    ("survey_report", sample_files.pdf(), "application/pdf"),
    ("interview_notes", sample_files.docx(),
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("survey_report", sample_files.xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
])
def test_reports_are_accepted_as_pdf_word_or_excel(session, actor_for, case, kind, content, mime):
    record_upload(session, actor_for("gz_surveyor1"), case.id, kind, "文件", content, now=T0 + timedelta(hours=1))
    assert session.scalars(select(Upload.content_type)).one() == mime


def test_a_photo_that_meets_d2_keeps_its_exif_capture_time(session, org, actor_for, case):
    _photo_for_claims_head(session, org, actor_for, case, "合影.jpg", sample_files.jpeg("2026:11:20 08:14:33"))
    upload = session.scalars(select(Upload)).one()
    # No offset in the EXIF: the camera's local time is read as Asia/Shanghai.
    assert upload.captured_at == datetime(2026, 11, 20, 8, 14, 33, tzinfo=BUSINESS_TZ)
    assert upload.uploaded_at == T0 + timedelta(hours=6)


def test_an_iphone_heic_keeps_its_capture_time_with_its_own_offset(session, org, actor_for, case):
    _photo_for_claims_head(session, org, actor_for, case, "IMG.HEIC",
                           sample_files.heic("2026:11:20 09:30:00", "+09:00"))
    upload = session.scalars(select(Upload)).one()
    assert upload.captured_at == datetime(2026, 11, 20, 0, 30, tzinfo=timezone.utc)


def test_a_photo_without_exif_has_no_capture_time(session, org, actor_for, case):
    _photo_for_claims_head(session, org, actor_for, case, "合影.png", sample_files.png())
    assert session.scalars(select(Upload.captured_at)).one() is None


def test_the_bytes_go_to_the_evidence_folder_with_their_sha256_and_not_into_the_database(
        session, org, actor_for, case, evidence_dir):
    photo = sample_files.jpeg()
    _photo_for_claims_head(session, org, actor_for, case, "合影.jpg", photo)
    upload = session.scalars(select(Upload)).one()
    digest = evidence_store.checksum(photo)
    assert (upload.sha256, upload.storage_key, upload.content) == (digest, f"{digest[:2]}/{digest}", None)
    database = session.get_bind().url.database
    assert (evidence_dir / database / upload.storage_key).read_bytes() == photo
    fetched = fetch_material(session, actor_for("reviewer"), upload.id)
    assert fetched.content == photo


def test_a_corrupted_file_is_refused_on_download_with_a_message(session, org, actor_for, case, evidence_dir):
    _photo_for_claims_head(session, org, actor_for, case, "合影.jpg", sample_files.jpeg())
    upload = session.scalars(select(Upload)).one()
    stored = evidence_dir / session.get_bind().url.database / upload.storage_key
    damaged = bytearray(stored.read_bytes())
    damaged[-10] ^= 0xFF
    stored.write_bytes(bytes(damaged))
    with pytest.raises(UserError) as err:
        fetch_material(session, actor_for("reviewer"), upload.id)
    assert err.value.key == "materials.error.corrupted"
    message = t(err.value.key, **err.value.params)
    assert "合影.jpg" in message and "SHA-256" in message and "备份" in message


def test_a_missing_file_is_refused_on_download_with_a_message(session, org, actor_for, case, evidence_dir):
    _photo_for_claims_head(session, org, actor_for, case, "合影.jpg", sample_files.jpeg())
    upload = session.scalars(select(Upload)).one()
    (evidence_dir / session.get_bind().url.database / upload.storage_key).unlink()
    with pytest.raises(UserError) as err:
        fetch_material(session, actor_for("gd_manager"), upload.id)
    assert err.value.key == "materials.error.missing"


def test_material_kept_in_the_database_before_0024_gets_its_checksum_and_is_checked_too(db_url, session, org,
                                                                                       actor_for, case):
    session.close()
    command.downgrade(alembic_config(db_url), "0023")
    engine = create_engine(normalise_url(db_url))
    with engine.begin() as conn:
        upload_id = conn.execute(text(
            "INSERT INTO upload (case_id, kind, filename, size_bytes, content, uploaded_by, uploaded_at) "
            "VALUES (:c, 'survey_report', 'old.pdf', 4, :b, :p, :t) RETURNING id"),
            {"c": case.id, "b": b"%PDF", "p": org.person("gz_surveyor1"), "t": T0}).scalar()
    command.upgrade(alembic_config(db_url), "head")
    with engine.begin() as conn:
        assert conn.execute(text("SELECT sha256 FROM upload WHERE id = :i"), {"i": upload_id}).scalar() == \
            evidence_store.checksum(b"%PDF")
    assert fetch_material(session, actor_for("reviewer"), upload_id).content == b"%PDF"
    with engine.begin() as conn:
        conn.execute(text("UPDATE upload SET content = 'changed' WHERE id = :i"), {"i": upload_id})
    engine.dispose()
    with pytest.raises(UserError) as err:
        fetch_material(session, actor_for("reviewer"), upload_id)
    assert err.value.key == "materials.error.corrupted"


def test_the_same_photo_uploaded_twice_is_stored_once(session, org, actor_for, case, evidence_dir):
    photo = sample_files.jpeg()
    _photo_for_claims_head(session, org, actor_for, case, "a.jpg", photo)
    _photo_for_claims_head(session, org, actor_for, case, "b.jpg", photo, hours=7)
    assert len([p for p in evidence_dir.rglob("*") if p.is_file()]) == 1
    assert len(session.scalars(select(Upload)).all()) == 2


def test_a_file_over_the_limit_is_refused_with_the_limit_in_the_message(session, actor_for, case):
    too_big = sample_files.pdf() + bytes(MAX_UPLOAD_BYTES)
    with pytest.raises(ValidationFailed) as err:
        record_upload(session, actor_for("gz_surveyor1"), case.id, "survey_report", "big.pdf", too_big, now=T0)
    from dashboard.ui.materials import refusal_lines

    (line,) = refusal_lines(err.value)
    assert f"文件超过 {MAX_UPLOAD_MB} MB 上限" in line and "{" not in line

