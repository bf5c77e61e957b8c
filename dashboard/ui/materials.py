"""The case detail's material: the upload form (for those who may add material) and, for everyone
who may see the case, the list of its files with a photo preview and a download of the original.

The upload writes what was drawn: the case id, the kind and the person it is for are bound to the
button when it is drawn (`on_click` args), never re-read on the submit's rerun. Nothing is read
for the list but the files' metadata; a file's bytes are fetched (and their checksum checked) only
when the person opens that file.
"""
from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard.i18n import has_key, t
from dashboard.rules.deadlines import FIRST_RESPONSIBLE_MATERIAL, UPLOAD_KINDS
from dashboard.rules.material_formats import accepted_labels, all_extensions
from dashboard.services.cases.detail import CaseDetail
from dashboard.services.errors import FieldError, UserError, ValidationFailed
from dashboard.services.evidence.content import preview_jpeg
from dashboard.services.evidence.materials import MaterialLine, case_materials, fetch_material
from dashboard.services.evidence.uploads import MAX_UPLOAD_MB, record_upload
from dashboard.ui.db import db_session, read_session
from dashboard.ui.format import local_time, plain

_ROUND = "materials_upload_round"  # a new uploader key after each upload empties it
_NOTICE = "materials_notice"
_ERRORS = "materials_errors"


def kind_label(kind: str) -> str:
    key = f"detail.upload_kind.{kind}"
    return t(key) if has_key(key) else kind


def _clock_label(kind: str) -> str:
    key = f"detail.deadline.{kind}"
    return t(key) if has_key(key) else kind


def file_size(size_bytes: int) -> str:
    """「834 KB」「2.4 MB」: sizes as a file manager shows them."""
    if size_bytes < 1024:
        return f"{size_bytes} B"
    if size_bytes < 1024 * 1024:
        return f"{size_bytes / 1024:.0f} KB"
    return f"{size_bytes / 1024 / 1024:.1f} MB"


def _field_error(error: FieldError) -> str:
    message = t(error.key, **error.params)
    label_key = f"materials.field.{error.field}"
    return t("materials.error.field", field=t(label_key), message=message) if has_key(label_key) else message


def refusal_lines(err: UserError) -> list[str]:
    """Every problem of a refused upload, each with its field and its own parameters filled in (as
    text: a file's name in it passes through format.plain where it is shown)."""
    if isinstance(err, ValidationFailed) and err.errors:
        return [_field_error(e) for e in err.errors]
    return [_field_error(FieldError(err.field or "", err.key, dict(err.params)))]


def _uploader_key() -> str:
    return f"materials_upload_file_{st.session_state.get(_ROUND, 0)}"


def _submit(actor: Any, case_id: int, kind: str, behalf: int | None, behalf_name: str | None,
            uploader_key: str) -> None:
    """The button's callback: uploads exactly what was drawn (case, kind, for whom) with the chosen file."""
    st.session_state.pop(_NOTICE, None)
    file = st.session_state.get(uploader_key)
    if file is None:
        st.session_state[_ERRORS] = [t("materials.upload.need_file")]
        return
    try:
        with db_session() as session:
            result = record_upload(session, actor, case_id, kind, file.name, file.getvalue(),
                                   on_behalf_of_person_id=behalf)
            lines = case_materials(session, actor, case_id)
    except UserError as err:
        st.session_state[_ERRORS] = refusal_lines(err)
        return
    st.session_state.pop(_ERRORS, None)
    line = next((x for x in lines if x.id == result.upload_id), None)
    clocks = [t("materials.upload.met_late" if d in result.late_deadline_ids else "materials.upload.met_on_time",
                clock=_clock_label(kind)) for d, kind in result.met_deadline_kinds.items()]
    # Markdown as shown: the file's name (the person's own) and who it is for read as text (issue 18).
    st.session_state[_NOTICE] = plain(t(
        "materials.upload.done", kind=kind_label(kind), filename=file.name, size=file_size(file.size),
        behalf=t("materials.upload.done_behalf", name=behalf_name) if behalf_name else "",
        at=local_time(line.uploaded_at) if line else "",
        captured=t("materials.upload.done_captured", at=local_time(line.captured_at)) if line and line.captured_at else "",
        met=t("materials.upload.done_met", clocks="、".join(clocks)) if clocks else ""))
    st.session_state[_ROUND] = st.session_state.get(_ROUND, 0) + 1  # empties the uploader


def render_upload_form(actor: Any, detail: CaseDetail) -> None:
    f = detail.facts
    st.markdown(f"**{t('materials.upload.title')}**")
    kind = st.selectbox(t("materials.upload.kind"), UPLOAD_KINDS, key="materials_upload_kind", format_func=kind_label,
                        placeholder=t("common.choose"))
    st.caption(t("materials.upload.accepts", kind=kind_label(kind), accepted=accepted_labels(kind)))
    key = _uploader_key()
    # The server refuses a bigger file before it is sent (server.maxUploadSize, the same number).
    st.file_uploader(t("materials.upload.file", mb=MAX_UPLOAD_MB), type=all_extensions(), key=key,
                     max_upload_size=MAX_UPLOAD_MB)
    behalf, behalf_name = None, None
    if kind in FIRST_RESPONSIBLE_MATERIAL and actor.person_id == f.surveyor_id and detail.dispatched:
        names = dict(detail.dispatched)
        behalf = st.selectbox(t("materials.upload.on_behalf"), [None, *names], key="materials_upload_behalf",
                              format_func=lambda p: t("materials.upload.on_behalf_none") if p is None else names[p],
                              placeholder=t("materials.upload.on_behalf_none"))
        behalf_name = names.get(behalf) if behalf is not None else None
    st.button(t("materials.upload.submit"), key="materials_upload_submit", type="primary", on_click=_submit,
              args=(actor, f.id, kind, behalf, behalf_name, key))
    if errors := st.session_state.pop(_ERRORS, None):
        lines = "\n".join(f"- {plain(line)}" for line in errors)
        st.error(f"{t('materials.upload.refused', n=len(errors))}\n\n{lines}")
    if notice := st.session_state.pop(_NOTICE, None):
        st.success(notice)


def _format_label(line: MaterialLine) -> str:
    if not line.content_type:
        return t("materials.format.unknown")
    return line.content_type.split("/")[-1].upper().replace("VND.OPENXMLFORMATS-OFFICEDOCUMENT.WORDPROCESSINGML.DOCUMENT",
                                                            "DOCX").replace(
        "VND.OPENXMLFORMATS-OFFICEDOCUMENT.SPREADSHEETML.SHEET", "XLSX")


def materials_frame(lines: list[MaterialLine]) -> pd.DataFrame:
    return pd.DataFrame([{
        t("materials.col.kind"): kind_label(x.kind), t("materials.col.filename"): x.filename,
        t("materials.col.uploaded_at"): local_time(x.uploaded_at),
        t("materials.col.captured_at"): local_time(x.captured_at) if x.captured_at else "",
        t("materials.col.uploaded_by"): x.uploaded_by, t("materials.col.on_behalf"): x.on_behalf_of or "",
        t("materials.col.size"): file_size(x.size_bytes), t("materials.col.format"): _format_label(x),
    } for x in lines])


@st.cache_data(max_entries=32, show_spinner=False)
def _preview(sha256: str, _content: bytes) -> bytes | None:
    """A browser-ready preview, made once per file content (keyed by its checksum)."""
    return preview_jpeg(_content)


def _render_file(actor: Any, line: MaterialLine) -> None:
    try:
        with db_session() as session:
            material = fetch_material(session, actor, line.id)
    except UserError as err:
        st.error("\n".join(plain(line) for line in refusal_lines(err)))
        return
    captured = local_time(line.captured_at) if line.captured_at else t("materials.no_capture_time")
    if line.is_photo:
        preview = _preview(line.sha256 or f"id:{line.id}", material.content)
        if preview:
            st.image(preview, caption=plain(t("materials.preview_caption", kind=kind_label(line.kind),
                                              filename=line.filename, captured=captured,
                                              uploaded=local_time(line.uploaded_at))), width="content")
        else:
            st.caption(t("materials.no_preview"))
    else:
        st.caption(t("materials.no_preview"))
    st.download_button(t("materials.download"), material.content, file_name=line.filename,
                       mime=line.content_type or "application/octet-stream", key=f"materials_download_{line.id}",
                       on_click="ignore", icon=":material/download:")
    st.caption(t("materials.verified", digest=line.sha256[:12]) if line.sha256 else t("materials.unverified"))


def render_materials_list(actor: Any, case_id: int) -> None:
    try:
        with read_session() as session:
            lines = case_materials(session, actor, case_id)
    except UserError as err:
        st.error("\n".join(plain(line) for line in refusal_lines(err)))
        return
    if not lines:
        st.caption(t("materials.empty"))
        return
    st.caption(t("materials.count", n=len(lines)))
    st.dataframe(materials_frame(lines), hide_index=True, width="stretch", key="materials_table",
                 height=min(38 + 35 * len(lines), 420))
    by_id = {x.id: x for x in lines}
    chosen = st.selectbox(t("materials.view"), list(by_id), index=None, key="materials_view",
                          placeholder=t("materials.view_placeholder"),
                          format_func=lambda i: t("materials.view_option", kind=kind_label(by_id[i].kind),
                                                  filename=by_id[i].filename, at=local_time(by_id[i].uploaded_at)))
    if chosen is not None and chosen in by_id:
        _render_file(actor, by_id[chosen])


def render_materials(actor: Any, detail: CaseDetail) -> None:
    """The case detail's materials section: upload form when allowed, then the list for everyone."""
    st.subheader(t("materials.title"))
    if detail.may_upload:
        with st.container(border=True):
            render_upload_form(actor, detail)
    render_materials_list(actor, detail.facts.id)
