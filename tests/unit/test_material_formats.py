"""Which formats each kind of material accepts is one table (rules/material_formats), read from the
file's content; the server's upload limit is the service's."""
import tomllib
from pathlib import Path

from dashboard.rules.deadlines import UPLOAD_KINDS
from dashboard.rules.material_formats import (
    MATERIAL_FAMILY,
    accepted_format,
    accepted_labels,
    all_extensions,
)
from dashboard.services.evidence.content import detect_mime
from dashboard.services.evidence.uploads import MAX_UPLOAD_MB
from tests import sample_files

ROOT = Path(__file__).resolve().parents[2]


def test_every_kind_of_material_is_a_photo_or_a_document():
    assert set(MATERIAL_FAMILY) == set(UPLOAD_KINDS)
    assert {k for k, f in MATERIAL_FAMILY.items() if f == "photo"} == {"scene_photos", "person_vehicle_photo"}


def test_photos_are_jpeg_png_or_heic_and_reports_pdf_word_or_excel():
    assert accepted_labels("person_vehicle_photo") == "JPEG、PNG、HEIC"
    assert accepted_labels("investigation_report") == "PDF、Word（DOCX）、Excel（XLSX）"
    assert accepted_format("person_vehicle_photo", "image/heif").label == "HEIC"
    assert accepted_format("person_vehicle_photo", "application/pdf") is None
    assert accepted_format("investigation_report", "image/jpeg") is None
    assert accepted_format("survey_report", "application/msword") is None  # old binary Word: not accepted
    assert set(all_extensions()) == {"jpg", "jpeg", "png", "heic", "heif", "pdf", "docx", "xlsx"}


def test_the_type_is_read_from_the_bytes_not_the_name():
    assert detect_mime(sample_files.windows_program()) == "application/x-msdownload"
    assert detect_mime(sample_files.heic()) == "image/heic"
    assert detect_mime(sample_files.docx()).endswith("wordprocessingml.document")
    assert detect_mime(b"just some text") is None


def test_the_server_upload_limit_in_config_toml_is_the_service_limit():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] == MAX_UPLOAD_MB
