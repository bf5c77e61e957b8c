"""Executive overview: headline figures, charts, and the cases behind them (HQ only)."""
from datetime import timedelta

import pandas as pd
import streamlit as st

from dashboard import clock
from dashboard.i18n import t
from dashboard.services.errors import UserError
from dashboard.services.overview import (
    MAX_EXPORT_ROWS, OverviewFilter, overview_cases, overview_figures, overview_tiers, overview_units,
)
from dashboard.ui import charts
from dashboard.ui.db import db_session
from dashboard.ui.read_cache import cached_figures, figures_freshness
from dashboard.ui.format import tier_label, local_time, money, wan
from dashboard.ui.forms import keep_choice_offered
from dashboard.ui.session import require_page
from dashboard.ui.tables import case_table, download_buttons, pager, to_excel_bytes

actor = require_page("overview")
st.title(t("overview.title"))
PAGE_SIZE = 50

with db_session() as session:
    branches, subs = overview_units(session, actor)
    tiers = overview_tiers(session, actor)
today = clock.business_today()  # the business day, not the server's
c1, c2, c3, c4 = st.columns([2, 2, 2, 1.4])  # the tier box holds "二级（12–50万）" whole
period = c1.date_input(t("overview.period"), value=(today - timedelta(days=90), today), format="YYYY-MM-DD",
                      key="ov_period")
branch_names = {b.id: b.name for b in branches}
branch_id = c2.selectbox(t("overview.branch"), [None, *branch_names], key="ov_branch", placeholder=t("overview.scope_all"),
                         format_func=lambda b: t("overview.scope_all") if b is None else branch_names[b])
sub_names = {s.id: s.name for s in subs if s.parent_id == branch_id}
keep_choice_offered("ov_sub", [None, *sub_names])
sub_id = c3.selectbox(t("overview.sub_branch"), [None, *sub_names], key="ov_sub", disabled=branch_id is None,
                      placeholder=t("overview.all"),
                      format_func=lambda s: t("overview.all") if s is None else sub_names[s])
tier = c4.selectbox(t("overview.tier"), [None, *tiers], key="ov_tier", placeholder=t("overview.all"),
                    format_func=lambda x: t("overview.all") if x is None else tier_label(x))
start, end = (tuple(period) + (None, None))[:2] if isinstance(period, (tuple, list)) else (period, period)
flt = OverviewFilter(report_from=start, report_to=end or start, branch_id=branch_id,
                     sub_branch_id=sub_id if sub_id in sub_names else None, tier=tier)

try:
    # Aggregates over months of cases: read at most a minute ago (ui/read_cache); the case list stays live.
    everything, read_at = cached_figures(actor, overview_figures, flt)
    figures = everything.headline
except UserError as err:
    st.error(t(err.key))
    st.stop()


def _share(share) -> str:
    return "—" if share.rate is None else f"{share.rate:.1%}"


row1 = st.columns(4)
row1[0].metric(t("overview.kpi.reported"), f"{figures.tiered_reported:,}")
row1[1].metric(t("overview.kpi.pending"), f"{figures.pending:,}")
row1[2].metric(t("overview.kpi.closed"), f"{figures.closed:,}")
row1[3].metric(t("overview.kpi.pending_amount"), wan(figures.pending_amount))
st.caption(t("overview.scope_note", start=flt.report_from, end=flt.report_to))
figures_freshness(read_at, key="ov_refresh")
row2 = st.columns(5)
hours = f"{figures.dispatch_within_hours:g}"
shares = ((row2[0], t("overview.kpi.dispatched_within", h=hours), figures.dispatched_within, "dispatch_help", None),
          (row2[1], t("overview.kpi.d2"), figures.d2_on_time, "clock_help", "D2"),
          (row2[2], t("overview.kpi.d3"), figures.d3_on_time, "clock_help", "D3"))
for col, label, share, help_key, kind in shares:
    col.metric(label, _share(share), help=t(f"overview.kpi.{help_key}", h=hours, num=f"{share.numerator:,}",
                                           den=f"{share.denominator:,}",
                                           kind=t(f"deadlines.kind.{kind}") if kind else ""))
row2[3].metric(t("overview.kpi.open_points"), f"{figures.open_review_points:,}")
row2[4].metric(t("overview.kpi.avg_answer"),
               "—" if figures.avg_answer_hours is None else t("overview.kpi.hours", h=figures.avg_answer_hours))

violations = pd.DataFrame([{t("overview.axis.deadline"): t(f"detail.deadline.{k}"), t("overview.col.count"): n}
                           for k, n in figures.violations_by_type.items()])
st.markdown(f"**{t('overview.violations')}**")
if violations.empty:
    st.caption(t("overview.no_violations"))
else:
    st.dataframe(violations, hide_index=True,
                 column_config={t("overview.col.count"): st.column_config.NumberColumn(format="localized")})

pending_df = pd.DataFrame(everything.pending_by_unit, columns=["unit_id", "unit", "tier", "cases", "amount"])
pending_df["amount_wan"] = pending_df["amount"].map(lambda a: float(a) / 10000)
trend_df = pd.DataFrame(everything.violations_by_week, columns=["week", "kind", "violations"])
trend_df["week"] = pd.to_datetime(trend_df["week"])
ranking_df = pd.DataFrame(everything.on_time_by_unit, columns=["unit_id", "unit", "on_time", "decided", "rate"])
ageing_df = pd.DataFrame(everything.ageing, columns=["bucket", "cases", "amount"])
ageing_df["label"] = ageing_df["bucket"].map(lambda b: t(f"overview.ageing.{b}"))
ageing_df["amount_wan"] = ageing_df["amount"].map(lambda a: float(a) / 10000)

def _drill_into_unit() -> None:
    """Clicking a bar of the pending chart chooses that branch, then that sub-branch."""
    event = st.session_state.get("ov_chart_pending")
    picked = (event.selection.get(charts.PICK_UNIT) if event else None) or []
    if not picked or "unit_id" not in picked[0]:
        return
    unit_id = int(picked[0]["unit_id"])
    if st.session_state.get("ov_branch") is None:
        st.session_state["ov_branch"] = unit_id
        st.session_state.pop("ov_sub", None)  # back to "all sub-branches" of the chosen branch
    elif unit_id in sub_names:
        st.session_state["ov_sub"] = unit_id


for pair in (((pending_df, charts.pending_by_unit_chart, "overview.chart.pending"),
              (trend_df, charts.violation_trend_chart, "overview.chart.trend")),
             ((ranking_df.dropna(subset=["rate"]), charts.on_time_ranking_chart, "overview.chart.on_time"),
              (ageing_df, charts.ageing_chart, "overview.chart.ageing"))):
    for column, (frame, chart, title) in zip(st.columns(2), pair):
        with column:
            if frame.empty:
                st.markdown(f"**{t(title)}**")
                st.caption(t("overview.no_data"))
            elif chart is charts.pending_by_unit_chart:
                st.altair_chart(chart(frame), width="stretch", key="ov_chart_pending", on_select=_drill_into_unit,
                                selection_mode=charts.PICK_UNIT)
            else:
                st.altair_chart(chart(frame), width="stretch")

st.subheader(t("overview.cases"))
status = st.segmented_control(t("overview.status"), ["pending", "closed", "all"], default="pending",
                              format_func=lambda s: t(f"overview.status.{s}"), key="ov_status") or "pending"


def _case_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{
        "case_id": r["case_id"], t("overview.col.case_no"): r["case_no"], t("overview.col.branch"): r["branch"],
        t("overview.col.sub_branch"): r["sub_branch"], t("overview.col.tier"): tier_label(r["tier"]),
        t("overview.col.state"): t(f"state.{r['state']}"), t("overview.col.estimate"): money(r["estimate"]),
        t("overview.col.report_time"): local_time(r["report_time"]), t("overview.col.tiered_at"): local_time(r["tiered_at"]),
        t("overview.col.surveyor"): r["surveyor"], t("overview.col.closed_at"): local_time(r["closed_at"]),
    } for r in rows], columns=["case_id", *(t(f"overview.col.{c}") for c in (
        "case_no", "branch", "sub_branch", "tier", "state", "estimate", "report_time", "tiered_at", "surveyor",
        "closed_at"))])


total = figures.cases_with_status(status)  # the headline counts the same cases: no second count
offset = pager(total, PAGE_SIZE, key="ov_page", filters=(flt, status))
with db_session() as session:
    _, page_rows = overview_cases(session, actor, flt, status=status, limit=PAGE_SIZE, offset=offset, total=total)
page_frame = _case_frame(page_rows)
case_table(page_frame, key="ov_cases")
download_buttons(page_frame.drop(columns=["case_id"]), "overview_cases_page", key="ov_cases_dl", page_only=True)

# One workbook, several sheets: the figures and every list of this selection (up to MAX_EXPORT_ROWS cases).
if st.button(t("overview.export_prepare"), key="ov_export_prepare"):
    with st.status(t("overview.export"), expanded=False) as progress:
        with db_session() as session:
            _, all_rows = overview_cases(session, actor, flt, status=status, limit=MAX_EXPORT_ROWS)
        figures_sheet = pd.DataFrame({t("overview.col.metric"): [
            t("overview.kpi.reported"), t("overview.kpi.pending"), t("overview.kpi.closed"),
            t("overview.kpi.pending_amount"), t("overview.kpi.dispatched_within", h=hours), t("overview.kpi.d2"),
            t("overview.kpi.d3"), t("overview.kpi.open_points"), t("overview.kpi.avg_answer")],
            t("overview.col.value"): [
            figures.tiered_reported, figures.pending, figures.closed, wan(figures.pending_amount),
            _share(figures.dispatched_within), _share(figures.d2_on_time), _share(figures.d3_on_time),
            figures.open_review_points,
            "—" if figures.avg_answer_hours is None else t("overview.kpi.hours", h=figures.avg_answer_hours)]})
        sheets = {
            t("overview.sheet.figures"): figures_sheet,
            t("overview.sheet.violations"): violations,
            t("overview.sheet.pending"): pending_df.drop(columns=["unit_id", "amount_wan"]),
            t("overview.sheet.trend"): trend_df.assign(week=trend_df["week"].dt.date),
            t("overview.sheet.on_time"): ranking_df.drop(columns=["unit_id"]),
            t("overview.sheet.ageing"): ageing_df[["label", "cases", "amount"]],
            t("overview.sheet.cases"): _case_frame(all_rows).drop(columns=["case_id"]),
        }
        st.session_state["ov_workbook"] = (repr((flt, status)), to_excel_bytes(sheets))
        progress.update(label=t("overview.export_done", n=f"{len(all_rows):,}", sheets=len(sheets)), state="complete")
workbook = st.session_state.get("ov_workbook")
if workbook and workbook[0] == repr((flt, status)):  # only the workbook of the selection on screen
    st.download_button(t("overview.export"), workbook[1], file_name="overview.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="ov_export",
                       on_click="ignore")
