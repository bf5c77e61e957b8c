"""Case intake: register one case, import many from a file, record the surveyor's estimate."""
from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from dashboard import clock
from dashboard.i18n import t
from dashboard.services.case_access import find_case_id
from dashboard.services.case_import import MAX_IMPORT_ROWS, check_import, import_cases, template_csv, template_xlsx
from dashboard.services.dispatch import record_estimate
from dashboard.services.errors import UserError
from dashboard.services.intake import CHOICE_FIELDS, CaseInput, intake_options, register_case
from dashboard.ui.db import db_session
from dashboard.ui.format import money
from dashboard.ui.forms import error_line, flash_and_rerun, show_error, show_flash
from dashboard.ui.format import tier_label
from dashboard.ui.session import require_page
from dashboard.ui.tables import download_buttons

actor = require_page("intake")
st.title(t("cases.intake.title"))
register_tab, import_tab, estimate_tab = st.tabs([t("cases.tab.register"), t("cases.tab.import"),
                                                  t("cases.tab.estimate")])


def choice(name: str, column, key: str, optional: bool = False) -> str | None:
    prefix, codes, _required = CHOICE_FIELDS[name]
    options = ([None] if optional else []) + list(codes)
    return column.selectbox(t(f"cases.field.{name}"), options, key=key,
                            format_func=lambda c: "—" if c is None else t(f"{prefix}.{c}"))


def moment(column, name: str, now_local: datetime) -> datetime:
    day = column.date_input(f"{t(f'cases.field.{name}')} · {t('cases.date')}", value=now_local.date(),
                            format="YYYY-MM-DD", key=f"in_{name}_date")
    at = column.time_input(f"{t(f'cases.field.{name}')} · {t('cases.time')}", value=now_local.time(), step=60, key=f"in_{name}_time")
    return datetime.combine(day, at)  # naive: the service reads it as Beijing time


with register_tab:
    with db_session() as session:
        options = intake_options(session, actor)
    sub_names = dict(options.sub_branches)
    sub_branch = st.selectbox(t("cases.field.sub_branch"), list(sub_names), format_func=sub_names.get,
                              key="in_sub_branch", help=t("cases.pick_sub_branch_first"))
    surveyors = dict(options.surveyors.get(sub_branch, []))
    # One default for the session, so a rerun a minute later does not move what was typed.
    now_local = st.session_state.setdefault("in_now", clock.business_now().replace(second=0, microsecond=0))
    with st.form("register_case", clear_on_submit=False):
        st.subheader(t("cases.section.report"))
        c1, c2, c3 = st.columns(3)
        case_no = c1.text_input(t("cases.field.case_no"), key="in_case_no")
        report_time = moment(c2, "report_time", now_local)
        accident_time = moment(c3, "accident_time", now_local)
        c1, c2, c3 = st.columns(3)
        business_line = choice("business_line", c1, "in_business_line")
        accident_type = choice("accident_type", c2, "in_accident_type")
        policy_no = c3.text_input(t("cases.field.policy_no"), key="in_policy_no")
        c1, c2, c3 = st.columns(3)
        province = c1.text_input(t("cases.field.province"), key="in_province")
        city = c2.text_input(t("cases.field.city"), key="in_city")
        address = c3.text_input(t("cases.field.address"), key="in_address")
        c1, c2, c3, c4 = st.columns(4)
        insured = c1.text_input(t("cases.field.insured_name"), key="in_insured")
        driver = c2.text_input(t("cases.field.driver_name"), key="in_driver")
        reporter = c3.text_input(t("cases.field.reporter_name"), key="in_reporter")
        phone = c4.text_input(t("cases.field.reporter_phone"), key="in_phone")
        policy_start = st.date_input(t("cases.field.policy_start_date"), value=None, format="YYYY-MM-DD",
                                     key="in_policy_start")
        st.subheader(t("cases.section.vehicle"))
        c1, c2, c3, c4 = st.columns(4)
        plate = c1.text_input(t("cases.field.plate_no"), key="in_plate")
        model = c2.text_input(t("cases.field.vehicle_model"), key="in_model")
        age = c3.number_input(t("cases.field.vehicle_age_years"), min_value=0, max_value=100, value=None, step=1,
                              key="in_age")
        use = choice("vehicle_use", c4, "in_use", optional=True)
        c1, c2, c3 = st.columns(3)
        sum_insured = c1.text_input(t("cases.field.vehicle_sum_insured"), key="in_sum_insured")
        imported = c2.checkbox(t("cases.field.vehicle_imported"), key="in_imported")
        compulsory = c3.checkbox(t("cases.field.compulsory_only"), key="in_compulsory")
        st.subheader(t("cases.section.assignment"))
        c1, c2 = st.columns(2)
        surveyor = c1.selectbox(t("cases.field.surveyor"), list(surveyors), format_func=surveyors.get,
                                key="in_surveyor")
        estimate = c2.text_input(t("cases.field.initial_estimate"), key="in_estimate")
        description = st.text_area(t("cases.field.description"), key="in_description")
        st.caption(t("cases.time_hint"))
        submitted = st.form_submit_button(t("cases.submit_register"), type="primary")
    if submitted:
        data = CaseInput(
            case_no=case_no, report_time=report_time, accident_time=accident_time, province=province, city=city,
            address=address, business_line=business_line, policy_no=policy_no, policy_start_date=policy_start,
            insured_name=insured, driver_name=driver, reporter_name=reporter, reporter_phone=phone, plate_no=plate,
            vehicle_model=model, vehicle_age_years=None if age is None else int(age), vehicle_imported=imported,
            vehicle_sum_insured=sum_insured, vehicle_use=use, accident_type=accident_type,
            compulsory_only=compulsory, sub_branch=sub_branch, surveyor=surveyor, description=description,
            initial_estimate=estimate)
        try:
            with db_session() as session:
                result = register_case(session, actor, data)
        except UserError as err:
            show_error(err)
        else:
            st.success(t("cases.registered", case_no=result.case_no))
            if result.estimate_recorded:
                st.info(t("cases.registered_tier", tier=tier_label(result.tier)))

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
    upload = st.file_uploader(t("cases.import.upload", rows=f"{MAX_IMPORT_ROWS:,}"), type=["csv", "xlsx"],
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
                problems = pd.DataFrame([{t("cases.field.row"): p.row_number, t("cases.field.case_no"): p.case_no or "",
                                          t("cases.field.reasons"): "；".join(error_line(e) for e in p.errors)}
                                         for p in report.problems])
                st.subheader(t("cases.import.bad_rows"))
                st.dataframe(problems, hide_index=True, width="stretch")
                download_buttons(problems, "导入错误行", key="import_problems")
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

with estimate_tab:
    with st.form("record_estimate"):
        c1, c2 = st.columns(2)
        est_case_no = c1.text_input(t("cases.estimate.case_no"), key="est_case_no")
        est_amount = c2.text_input(t("cases.estimate.amount"), key="est_amount")
        est_note = st.text_input(t("cases.estimate.note"), key="est_note")
        est_submit = st.form_submit_button(t("cases.estimate.submit"), type="primary")
    if est_submit:
        try:
            with db_session() as session:
                case_id = find_case_id(session, actor, est_case_no or "")
                outcome = record_estimate(session, actor, case_id, (est_amount or "").strip(), note=est_note or None,
                                          now=clock.now())
        except UserError as err:
            show_error(err)
        else:
            st.success(t("cases.estimate.done", amount=money(outcome.amount), tier=tier_label(outcome.tier_after)))
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
