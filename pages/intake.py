"""Case intake: register one case, import many from a file, record the surveyor's estimate."""
from __future__ import annotations

import math
from datetime import datetime

import pandas as pd
import streamlit as st

from dashboard import clock
from dashboard.i18n import t
from dashboard.rules.intake_fields import FieldProblem, clean_text
from dashboard.services.cases.import_file import (
    MAX_IMPORT_MB, MAX_IMPORT_ROWS, check_import, import_cases, template_csv, template_xlsx,
)
from dashboard.services.dispatching.dispatch import record_estimate
from dashboard.services.errors import FieldError, NeedsConfirmation, UserError, ValidationFailed
from dashboard.rules.case_input import CHOICE_FIELDS, ESTIMATE_NOTE_MAX_CHARS, TEXT_LIMITS, CaseInput
from dashboard.services.cases.intake import estimate_target, intake_options, register_case
from dashboard.rules.risk_colour import DOUBTS, HANDLINGS
from dashboard.ui.risk_view import badge_text
from dashboard.ui.db import db_session, read_session
from dashboard.ui.format import money, plain, tier_label
from dashboard.ui.forms import (
    error_line, error_text, flash_and_rerun, keep_choice_offered, long_text, set_outcome, show_error, show_flash,
    show_outcome,
)
from dashboard.ui.session import require_page
from dashboard.ui.tables import download_buttons

REGISTER_SLOT = "intake_register"
ESTIMATE_SLOT = "intake_estimate"
_REGISTER_PENDING = "in_confirm_pending"  # the initial estimate refused as implausible, awaiting the tick
_ESTIMATE_PENDING = "est_confirm_pending"  # (case id, amount text) refused as implausible, awaiting the tick
_ESTIMATE_ERRORS = "cases.estimate.form_errors"  # the heading of a refused estimate's list of fields


actor = require_page("intake")
st.title(t("cases.intake.title"))
register_tab, import_tab, estimate_tab = st.tabs([t("cases.tab.register"), t("cases.tab.import"),
                                                  t("cases.tab.estimate")])


def choice(name: str, column, key: str, optional: bool = False) -> None:
    prefix, codes, _required = CHOICE_FIELDS[name]
    options = ([None] if optional else []) + list(codes)
    column.selectbox(t(f"cases.field.{name}"), options, key=key, placeholder=t("cases.choose"),
                     format_func=lambda c: "—" if c is None else t(f"{prefix}.{c}"))


def text(column, name: str, key: str, **kwargs) -> None:
    """A free-text field with its column's limit, counted while typing (the limit the service checks)."""
    column.text_input(t(f"cases.field.{name}"), key=key, max_chars=TEXT_LIMITS[name], **kwargs)


def moment(column, name: str, default: datetime, earliest: str) -> None:
    """A report or accident time typed as text: what is typed is what is checked, and a value out of
    range is refused with the range (a date picker replaced it with the last valid date, in English)."""
    column.text_input(t(f"cases.field.{name}"), value=default.strftime("%Y-%m-%d %H:%M"), key=f"in_{name}",
                      max_chars=19, placeholder=t("cases.placeholder.moment"),
                      help=t("cases.help.moment", earliest=earliest))


# ---------------------------------------------------------------- 单笔登记


def _register() -> None:
    """The form's submit (a callback: runs before the page is drawn again, with what the form held)."""
    state = st.session_state
    age = state.get("in_age")
    estimate = (state.get("in_estimate") or "").strip()
    data = CaseInput(
        case_no=state.get("in_case_no"), report_time=state.get("in_report_time"),
        accident_time=state.get("in_accident_time"), province=state.get("in_province"), city=state.get("in_city"),
        address=state.get("in_address"), business_line=state.get("in_business_line"),
        policy_no=state.get("in_policy_no"), policy_start_date=state.get("in_policy_start"),
        insured_name=state.get("in_insured"), driver_name=state.get("in_driver"),
        reporter_name=state.get("in_reporter"), reporter_phone=state.get("in_phone"), plate_no=state.get("in_plate"),
        vehicle_model=state.get("in_model"), vehicle_age_years=None if age is None else int(age),
        vehicle_imported=bool(state.get("in_imported")), vehicle_sum_insured=state.get("in_sum_insured"),
        vehicle_use=state.get("in_use"), accident_type=state.get("in_accident_type"),
        compulsory_only=bool(state.get("in_compulsory")), forced_registration=bool(state.get("in_forced")),
        sub_branch=state.get("in_sub_branch"),
        surveyor=state.get("in_surveyor"), description=state.get("in_description"), initial_estimate=estimate,
        vehicle_damage=state.get("in_vehicle_damage"), property_damage=state.get("in_property_damage"),
        loss_ratio_pct=state.get("in_loss_ratio"), claim_count=state.get("in_claim_count"),
        accident_handling=state.get("in_handling"), surveyor_doubts=state.get("in_doubts"),
        doubt_reason=state.get("in_doubt_reason"))
    confirmed = bool(state.get("in_confirm")) and state.get(_REGISTER_PENDING) == estimate
    try:
        with db_session() as session:
            result = register_case(session, actor, data, estimate_confirmed=confirmed)
    except NeedsConfirmation as err:
        state[_REGISTER_PENDING] = estimate  # the 「金额无误」 box appears for this amount
        set_outcome(REGISTER_SLOT, "error", error_text(err))
        return
    except UserError as err:
        set_outcome(REGISTER_SLOT, "error", error_text(err))
        return
    state.pop(_REGISTER_PENDING, None)
    state["in_confirm"] = False
    set_outcome(REGISTER_SLOT, "success", plain(t("cases.registered", case_no=result.case_no)))
    if result.estimate_recorded:
        state["in_registered_tier"] = result.tier
    state["in_registered_colour"] = result.risk_colour


with register_tab:
    with read_session() as session:
        options = intake_options(session, actor)
    earliest = options.earliest_date.isoformat()
    sub_names = dict(options.sub_branches)
    keep_choice_offered("in_sub_branch", list(sub_names))
    sub_branch = st.selectbox(t("cases.field.sub_branch"), list(sub_names), format_func=sub_names.get,
                              key="in_sub_branch", help=t("cases.pick_sub_branch_first"), placeholder=t("cases.choose"))
    surveyors = dict(options.surveyors.get(sub_branch, []))
    keep_choice_offered("in_surveyor", list(surveyors))
    # One default for the session, so a rerun a minute later does not move what was typed.
    now_local = st.session_state.setdefault("in_now", clock.business_now().replace(second=0, microsecond=0))
    with st.form("register_case", clear_on_submit=False):
        st.subheader(t("cases.section.report"))
        c1, c2, c3 = st.columns(3)
        text(c1, "case_no", "in_case_no")
        moment(c2, "report_time", now_local, earliest)
        moment(c3, "accident_time", now_local, earliest)
        c1, c2, c3 = st.columns(3)
        choice("business_line", c1, "in_business_line")
        choice("accident_type", c2, "in_accident_type")
        text(c3, "policy_no", "in_policy_no")
        c1, c2, c3 = st.columns(3)
        text(c1, "province", "in_province")
        text(c2, "city", "in_city")
        text(c3, "address", "in_address")
        c1, c2, c3, c4 = st.columns(4)
        text(c1, "insured_name", "in_insured")
        text(c2, "driver_name", "in_driver")
        text(c3, "reporter_name", "in_reporter")
        text(c4, "reporter_phone", "in_phone", placeholder=t("cases.placeholder.phone"))
        c1, _c2 = st.columns(2)
        c1.text_input(t("cases.field.policy_start_date"), key="in_policy_start", max_chars=10,
                      placeholder=t("cases.placeholder.day"))
        st.subheader(t("cases.section.vehicle"))
        c1, c2, c3, c4 = st.columns(4)
        text(c1, "plate_no", "in_plate")
        text(c2, "vehicle_model", "in_model")
        c3.number_input(t("cases.field.vehicle_age_years"), min_value=0, max_value=100, value=None, step=1,
                        key="in_age")
        choice("vehicle_use", c4, "in_use", optional=True)
        c1, c2, c3, c4 = st.columns(4)
        c1.text_input(t("cases.field.vehicle_sum_insured"), key="in_sum_insured", max_chars=20)
        c2.checkbox(t("cases.field.vehicle_imported"), key="in_imported")
        c3.checkbox(t("cases.field.compulsory_only"), key="in_compulsory")
        c4.checkbox(t("cases.field.forced_registration"), key="in_forced", help=t("cases.help.forced_registration"))
        st.subheader(t("cases.section.risk"))
        c1, c2, c3, c4 = st.columns(4)
        c1.text_input(t("cases.field.vehicle_damage"), key="in_vehicle_damage", max_chars=20)
        c2.text_input(t("cases.field.property_damage"), key="in_property_damage", max_chars=20)
        c3.text_input(t("cases.field.loss_ratio_pct"), key="in_loss_ratio", max_chars=10)
        c4.text_input(t("cases.field.claim_count"), key="in_claim_count", max_chars=4)
        c1, c2 = st.columns(2)
        c1.selectbox(t("cases.field.accident_handling"), HANDLINGS, index=None, key="in_handling",
                     format_func=lambda h: t(f"risk.handling.{h}"), placeholder=t("risk.form.unknown"))
        c2.multiselect(t("cases.field.surveyor_doubts"), DOUBTS, key="in_doubts",
                       format_func=lambda d: t(f"risk.doubt.{d}"), placeholder=t("risk.form.no_doubt"))
        st.text_input(t("cases.field.doubt_reason"), key="in_doubt_reason", max_chars=500)
        st.subheader(t("cases.section.assignment"))
        c1, c2 = st.columns(2)
        c1.selectbox(t("cases.field.surveyor"), list(surveyors), format_func=surveyors.get, key="in_surveyor",
                     placeholder=t("cases.choose"))
        if not surveyors:
            c1.caption(t("cases.no_surveyor"))
        c2.text_input(t("cases.field.initial_estimate"), key="in_estimate", max_chars=20)
        pending = st.session_state.get(_REGISTER_PENDING)
        if pending is not None and pending == (st.session_state.get("in_estimate") or "").strip():
            c2.checkbox(t("amount.confirm_box"), key="in_confirm")
        long_text(t("cases.field.description"), key="in_description", limit=TEXT_LIMITS["description"])
        st.caption(t("cases.time_hint"))
        st.form_submit_button(t("cases.submit_register"), type="primary", on_click=_register)
    show_outcome(REGISTER_SLOT)
    registered_tier = st.session_state.pop("in_registered_tier", None)
    if registered_tier is not None:
        st.info(plain(t("cases.registered_tier", tier=tier_label(registered_tier))))
    registered_colour = st.session_state.pop("in_registered_colour", None)
    if registered_colour is not None:
        st.info(t("cases.registered_colour", badge=badge_text(registered_colour)))

# ---------------------------------------------------------------- 批量导入


def _problem_table(report) -> pd.DataFrame:
    # Each reason is a sentence ending in 。: side by side they read as a paragraph.
    return pd.DataFrame([{t("cases.field.row"): p.row_number, t("cases.field.case_no"): p.case_no or "",
                          t("cases.field.reasons"): " ".join(error_line(e) for e in p.errors)}
                         for p in report.problems])


def _show_problems(report) -> None:
    """Every bad row with its reasons, read in full: the reasons wrap in the table (rows tall enough
    for the longest), a row chosen in the table shows all its reasons below, and the file of bad
    rows holds them whole."""
    problems = _problem_table(report)
    reasons = t("cases.field.reasons")
    longest = int(problems[reasons].str.len().max() or 0)
    lines = min(8, max(1, math.ceil(longest / 36)))
    st.subheader(t("cases.import.bad_rows"))
    st.caption(t("cases.import.detail_hint"))
    picked = st.dataframe(
        problems, hide_index=True, width="stretch", key="import_problems_table", on_select="rerun",
        selection_mode="single-row", row_height=max(35, 22 * lines + 14) if lines > 1 else None,
        column_config={t("cases.field.row"): st.column_config.NumberColumn(width=70),
                       t("cases.field.case_no"): st.column_config.TextColumn(width=190),
                       reasons: st.column_config.TextColumn(reasons, width="large")})
    rows = picked.selection.rows if picked is not None else []
    if rows and rows[0] < len(report.problems):
        chosen = report.problems[rows[0]]
        # A file's own text shown as written, not as Markdown (a formula =A1*B1 is not italics).
        st.markdown(plain(t("cases.import.detail_title", row=chosen.row_number, case_no=chosen.case_no or "—")))
        st.markdown("\n".join(f"- {plain(error_line(e))}" for e in chosen.errors))
    download_buttons(problems, "导入错误行", key="import_problems")


with import_tab:
    st.markdown(t("cases.import.help"))
    c1, c2 = st.columns(2)
    c1.download_button(t("cases.import.template_csv"), template_csv(), "报案导入模板.csv", "text/csv",
                       key="tpl_csv", on_click="ignore")
    c2.download_button(t("cases.import.template_xlsx"), template_xlsx(), "报案导入模板.xlsx",
                       "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="tpl_xlsx",
                       on_click="ignore")
    show_flash()
    # A new key after each import empties the uploader, so the imported file is not checked again.
    upload = st.file_uploader(t("cases.import.upload", rows=f"{MAX_IMPORT_ROWS:,}", mb=MAX_IMPORT_MB),
                              type=["csv", "xlsx"], max_upload_size=MAX_IMPORT_MB,
                              key=f"import_file_{st.session_state.get('import_round', 0)}")
    if upload is not None:
        content = upload.getvalue()
        cached = st.session_state.get("import_check")
        report = cached[1] if cached and cached[0] == upload.file_id else None
        if report is None:  # check once per uploaded file, not on every rerun
            try:
                with db_session() as session:
                    report = check_import(session, actor, upload.name, content)
                st.session_state["import_check"] = (upload.file_id, report)
            except UserError as err:
                show_error(err)
        if report is not None:
            st.write(t("cases.import.checked", total=report.total_rows, valid=report.valid_rows, bad=report.bad_rows))
            if report.problems:
                _show_problems(report)
            else:
                st.success(t("cases.import.all_valid"))
            valid_only = st.checkbox(t("cases.import.valid_only"), key="import_valid_only",
                                     disabled=not report.problems or not report.valid_rows)
            if st.button(t("cases.import.run"), type="primary", key="import_run",
                         disabled=not report.valid_rows or bool(report.problems) and not valid_only):
                bar = st.progress(0.0)
                try:
                    with db_session() as session:
                        done = import_cases(session, actor, upload.name, content, import_valid_rows=valid_only,
                                            progress=lambda n, total: bar.progress(
                                                n / total, text=t("cases.import.progress", done=n, total=total)))
                except UserError as err:
                    show_error(err)
                else:
                    if done.imported:
                        st.session_state["import_round"] = st.session_state.get("import_round", 0) + 1
                        st.session_state.pop("import_check", None)
                        flash_and_rerun(t("cases.import.done", imported=done.imported, skipped=done.bad_rows,
                                          seconds=f"{done.seconds:.1f}"))
                    else:
                        st.warning(t("cases.import.nothing_imported"))

# ---------------------------------------------------------------- 录入估损


def _save_estimate(case_id: int, version: int) -> None:
    """The estimate form's submit: for the case and the version the form showed (its arguments,
    bound when it was drawn), never the case as re-read on this run."""
    state = st.session_state
    typed: dict[str, str | None] = {}
    problems: list[FieldError] = []
    # Control characters are refused here, at the edge, with the field's name (a NUL crashed the page).
    for field, key, limit in (("estimate", "est_amount", 40), ("estimate_note", "est_note", ESTIMATE_NOTE_MAX_CHARS)):
        try:
            typed[field] = clean_text(state.get(key), max_len=limit)
        except FieldProblem as problem:
            problems.append(FieldError(field, f"cases.error.{problem.reason}", dict(problem.params)))
    if problems:
        set_outcome(ESTIMATE_SLOT, "error", error_text(ValidationFailed(problems), _ESTIMATE_ERRORS))
        return
    amount, note = typed["estimate"] or "", typed["estimate_note"]
    confirmed = bool(state.get("est_confirm")) and state.get(_ESTIMATE_PENDING) == (case_id, amount)
    try:
        with db_session() as session:
            result = record_estimate(session, actor, case_id, amount, note=note, expected_version=version,
                                     confirmed=confirmed, now=clock.now())
    except NeedsConfirmation as err:
        state[_ESTIMATE_PENDING] = (case_id, amount)  # the 「金额无误」 box appears for this amount
        set_outcome(ESTIMATE_SLOT, "error", error_text(err, _ESTIMATE_ERRORS))
        return
    except UserError as err:
        set_outcome(ESTIMATE_SLOT, "error", error_text(err, _ESTIMATE_ERRORS))
        return
    for key in ("est_amount", "est_note"):
        state[key] = ""
    state["est_confirm"] = False
    state.pop(_ESTIMATE_PENDING, None)
    state["est_result"] = result
    set_outcome(ESTIMATE_SLOT, "success", plain(t("cases.estimate.done", case_no=result.case_no,
                                                  amount=money(result.amount), tier=tier_label(result.tier_after))))


def _show_dispatched(outcome) -> None:
    if outcome.dispatched:
        st.subheader(t("cases.estimate.dispatched"))
        st.dataframe(pd.DataFrame([{t("board.col.dispatched"): d.full_name,
                                    t("admin.col.positions"): t(f"position.{d.position}"),
                                    t("board.col.tier"): tier_label(d.tier)} for d in outcome.dispatched]),
                     hide_index=True, width="stretch")
    elif outcome.tier_after == "T0":
        st.info(t("cases.estimate.none_dispatched"))
    if outcome.vacant_positions:
        st.warning(t("cases.estimate.vacant", positions="、".join(
            t(f"position.{p}") for p in outcome.vacant_positions)))


with estimate_tab:
    est_case_no = st.text_input(t("cases.estimate.case_no"), key="est_case_no", max_chars=TEXT_LIMITS["case_no"],
                                placeholder=t("cases.estimate.find_hint"))
    target = None
    if (est_case_no or "").strip():
        try:
            with db_session() as session:
                target = estimate_target(session, actor, est_case_no)
        except UserError as err:
            show_error(err)
    if target is not None:
        st.info(plain(t("cases.estimate.case", case_no=target.case_no, unit=target.unit,
                        state=t(f"state.{target.state}"),
                        amount=money(target.current_estimate) if target.current_estimate is not None
                        else t("cases.estimate.no_estimate"), tier=tier_label(target.tier))))
        with st.form("record_estimate"):
            c1, c2 = st.columns(2)
            c1.text_input(t("cases.estimate.amount"), key="est_amount", max_chars=40)
            c2.text_input(t("cases.estimate.note"), key="est_note", max_chars=ESTIMATE_NOTE_MAX_CHARS)
            if st.session_state.get(_ESTIMATE_PENDING) == (target.case_id, (st.session_state.get("est_amount") or "").strip()):
                c1.checkbox(t("amount.confirm_box"), key="est_confirm")
            st.form_submit_button(t("cases.estimate.submit"), type="primary", on_click=_save_estimate,
                                  args=(target.case_id, target.version))
    show_outcome(ESTIMATE_SLOT)
    finished = st.session_state.pop("est_result", None)
    if finished is not None:
        _show_dispatched(finished)
