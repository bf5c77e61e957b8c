"""Executive overview: headline figures, charts, and the cases behind them (HQ only)."""
from datetime import timedelta
from functools import partial

import pandas as pd
import streamlit as st

from dashboard import clock
from dashboard.i18n import t
from dashboard.services.errors import UserError
from dashboard.services.figures.overview import (
    MAX_EXPORT_ROWS, Drill, OverviewFilter, drill_figure_count, overview_cases,
    overview_drill_rows,
    overview_figures, overview_tiers, overview_units,
)
from dashboard.ui import charts
from dashboard.ui.db import read_session
from dashboard.ui.read_cache import cached_figures, figures_freshness
from dashboard.ui.format import plain, tier_label, wan
from dashboard.ui.forms import keep_choice_offered
from dashboard.ui.overview_lists import (
    STATUS_KEY, close_list, colour_tones, current_drill, drill_title, export_sheet, open_list, overview_workbook,
    screen_frame,
)
from dashboard.ui.risk_view import colour_filter, colour_filter_label
from dashboard.ui.segmented import segmented_choice
from dashboard.ui.session import require_page
from dashboard.ui.tables import case_table, download_buttons, pager

actor = require_page("overview")
st.title(t("overview.title"))
PAGE_SIZE = 50

with read_session() as session:
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


def _list_button(where, figure: str, n: int, value=None) -> None:
    """Under each figure, row and bar: open the list of what it counts, below."""
    where.button(t("overview.open_list", n=f"{n:,}"), key=f"ov_open_{figure}_{value or ''}", type="tertiary",
                 on_click=open_list, args=(figure, value), icon=":material/list:")


row1 = st.columns(4)
for col, (figure, label, shown, n) in zip(row1, (
        ("reported", t("overview.kpi.reported"), f"{figures.tiered_reported:,}", figures.tiered_reported),
        ("pending", t("overview.kpi.pending"), f"{figures.pending:,}", figures.pending),
        ("closed", t("overview.kpi.closed"), f"{figures.closed:,}", figures.closed),
        ("pending_amount", t("overview.kpi.pending_amount"), wan(figures.pending_amount), figures.pending))):
    col.metric(label, shown)
    _list_button(col, figure, n)
st.caption(t("overview.scope_note", start=flt.report_from, end=flt.report_to))
figures_freshness(read_at, key="ov_refresh")
row2 = st.columns(5)
hours = f"{figures.dispatch_within_hours:g}"
shares = ((row2[0], t("overview.kpi.dispatched_within", h=hours), figures.dispatched_within, "dispatch_help", None,
           "dispatch"),
          (row2[1], t("overview.kpi.d2"), figures.d2_on_time, "clock_help", "D2", "d2"),
          (row2[2], t("overview.kpi.d3"), figures.d3_on_time, "clock_help", "D3", "d3"))
for col, label, share, help_key, kind, figure in shares:
    col.metric(label, _share(share), help=t(f"overview.kpi.{help_key}", h=hours, num=f"{share.numerator:,}",
                                           den=f"{share.denominator:,}",
                                           kind=t(f"deadlines.kind.{kind}") if kind else ""))
    _list_button(col, figure, share.denominator)
row2[3].metric(t("overview.kpi.open_points"), f"{figures.open_review_points:,}")
_list_button(row2[3], "open_points", figures.open_review_points)
row2[4].metric(t("overview.kpi.avg_answer"),
               "—" if figures.avg_answer_hours is None else t("overview.kpi.hours", h=figures.avg_answer_hours))
_list_button(row2[4], "avg_answer", figures.answered_cases)

st.markdown(f"**{t('overview.violations')}**")
if not figures.violations_by_type:
    st.caption(t("overview.no_violations"))
for kind, n in figures.violations_by_type.items():  # one row per deadline type, its list a click away
    left, middle, right = st.columns([3, 1, 2], vertical_alignment="center")
    left.write(t(f"detail.deadline.{kind}"))
    middle.write(f"{n:,}")
    _list_button(right, "violations", n, kind)

pending_df = pd.DataFrame(everything.pending_by_unit, columns=["unit_id", "unit", "tier", "cases", "amount"])
pending_df["amount_wan"] = pending_df["amount"].map(lambda a: float(a) / 10000)
trend_df = pd.DataFrame(everything.violations_by_week, columns=["week", "kind", "violations"])
trend_df["week"] = pd.to_datetime(trend_df["week"])
ranking_df = pd.DataFrame(everything.on_time_by_unit, columns=["unit_id", "unit", "on_time", "decided", "rate"])
ageing_df = pd.DataFrame(everything.ageing, columns=["bucket", "cases", "amount"])
ageing_df["label"] = ageing_df["bucket"].map(lambda b: t(f"overview.ageing.{b}"))
ageing_df["amount_wan"] = ageing_df["amount"].map(lambda a: float(a) / 10000)
unit_names = dict(zip(ranking_df["unit_id"], ranking_df["unit"]))


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


def _bar_opens_list(chart_key: str, param: str, field: str, figure: str) -> None:
    """Clicking a bar of the ranking or the ageing chart lists what the bar counts."""
    event = st.session_state.get(chart_key)
    picked = (event.selection.get(param) if event else None) or []
    if picked and field in picked[0]:
        value = picked[0][field]
        open_list(figure, int(value) if figure == "unit" else str(value))


def _menu_widget(menu_key: str) -> tuple[str, int]:
    """The menu's widget key now, and its generation: each pick draws a new, empty menu (the one
    after the last generation a pick was opened from)."""
    opened = st.session_state.get(f"{menu_key}_opened")
    generation = max(opened) + 1 if opened else 0
    return f"{menu_key}_{generation}", generation


def _picked_from_menu(menu_key: str, generation: int, figure: str) -> None:
    """The same from the menu under the chart (a bar is small on a phone); the menu empties again.

    It empties by being drawn anew under the next key, not by setting its value to None here: a
    browser that has not yet drawn the emptied menu (a click during the rerun) sends the old choice
    again, and an emptied value would take it for a new pick and reopen that list over the one just
    chosen. The old menu's choice already opened is therefore ignored; another choice in it is a
    person's new pick."""
    value = st.session_state.get(f"{menu_key}_{generation}")
    opened = st.session_state.setdefault(f"{menu_key}_opened", {})
    if value is None or opened.get(generation) == value:
        return
    opened[generation] = value  # the next run draws the menu of the next generation, empty
    open_list(figure, value)


CLICKABLE = {charts.on_time_ranking_chart: ("ov_chart_rank", charts.PICK_RANKED_UNIT, "unit_id", "unit"),
             charts.ageing_chart: ("ov_chart_ageing", charts.PICK_BUCKET, "bucket", "ageing")}
MENUS = {charts.on_time_ranking_chart: ("ov_pick_unit", "overview.pick_unit", list(ranking_df.dropna(subset=["rate"])
                                         ["unit_id"].map(int)), lambda u: unit_names.get(u, "—"),
                                        lambda u: drill_figure_count(everything, Drill("unit", u))),
         charts.ageing_chart: ("ov_pick_ageing", "overview.pick_ageing", list(ageing_df["bucket"]),
                               lambda b: t(f"overview.ageing.{b}"),
                               lambda b: drill_figure_count(everything, Drill("ageing", b)))}
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
            elif chart in CLICKABLE:
                key, param, field, figure = CLICKABLE[chart]
                st.altair_chart(chart(frame), width="stretch", key=key, selection_mode=param,
                                on_select=partial(_bar_opens_list, key, param, field, figure))
                menu_key, label, options, name, count = MENUS[chart]
                widget, generation = _menu_widget(menu_key)
                st.selectbox(t(label), options, index=None, key=widget, placeholder=t("overview.pick_placeholder"),
                             format_func=lambda v, name=name, count=count: t(
                                 "overview.pick_option", label=name(v), n=f"{count(v):,}"),
                             on_change=_picked_from_menu, args=(menu_key, generation, figure))
            else:
                st.altair_chart(chart(frame), width="stretch")

colour_df = pd.DataFrame(everything.colour_share, columns=["unit_id", "unit", "colour", "cases", "share"])
if colour_df.empty:
    st.markdown(f"**{t('overview.chart.colour_share')}**")
    st.caption(t("overview.no_data"))
else:
    st.altair_chart(charts.colour_share_chart(colour_df), width="stretch")

st.subheader(t("overview.cases"))
drill = current_drill()
if drill is None:
    # Never empty: a click on the chosen segment keeps it (ui/segmented); the export says the same.
    left, right = st.columns([3, 2], vertical_alignment="bottom")
    with left:
        status = segmented_choice(t("overview.status"), ["pending", "closed", "all"], key=STATUS_KEY,
                                  default="pending", format_func=lambda s: t(f"overview.status.{s}"))
    colour = colour_filter(right, "ov_list_colour")
    listed = (flt, status, colour)
else:
    status, colour = None, None
    left, right = st.columns([4, 1], vertical_alignment="center")
    left.markdown(f"**{plain(drill_title(drill, everything, hours, unit_names))}**")
    right.button(t("overview.list_back"), key="ov_list_back", on_click=close_list, icon=":material/arrow_back:")
    listed = (flt, drill)


def _list_rows(limit: int, offset: int = 0, total: int | None = None) -> tuple[int, list[dict]]:
    with read_session() as session:
        if drill is None:
            return overview_cases(session, actor, flt, status=status, limit=limit, offset=offset, total=total,
                                  colour=colour)
        return overview_drill_rows(session, actor, flt, drill, limit=limit, offset=offset, total=total)


# A list counts what its figure counts (the same set, tests/integration/test_overview.py), so its
# count is the figure's, as on its button: no second count. Only a colour-filtered status list,
# which no figure counts, is counted in SQL.
if drill is not None:
    total = drill_figure_count(everything, drill)
else:
    total = figures.cases_with_status(status) if not colour else _list_rows(0)[0]
offset = pager(total, PAGE_SIZE, key="ov_page", filters=listed)
_, page_rows = _list_rows(PAGE_SIZE, offset, total)
page_frame = screen_frame(page_rows, drill)
case_table(page_frame, key="ov_cases", tones=colour_tones(page_rows, drill))
download_buttons(page_frame.drop(columns=["case_id"]), "overview_cases_page", key="ov_cases_dl", page_only=True)

# One workbook, several sheets: the figures and the list on screen (up to MAX_EXPORT_ROWS rows).
if st.button(t("overview.export_prepare"), key="ov_export_prepare"):
    with st.status(t("overview.export"), expanded=False) as progress:
        _, all_rows = _list_rows(MAX_EXPORT_ROWS, 0, total)
        listed_as = (drill_title(drill, everything, hours, unit_names) if drill is not None
                     else t(f"overview.status.{status}") + (f" · {colour_filter_label(colour)}" if colour else ""))
        about = [(t("overview.about.period"), f"{flt.report_from} – {flt.report_to}"),
                 (t("overview.about.branch"), branch_names.get(branch_id, t("overview.scope_all"))),
                 (t("overview.about.sub_branch"), sub_names.get(sub_id, t("overview.all"))),
                 (t("overview.about.tier"), tier_label(tier) if tier else t("overview.all")),
                 (t("overview.about.list"), listed_as), (t("overview.about.exported"), clock.now()),
                 (t("overview.about.by"), actor.full_name)]
        book = overview_workbook(everything, hours, export_sheet(all_rows, drill), about)
        st.session_state["ov_workbook"] = (repr(listed), book)
        progress.update(label=t("overview.export_done", n=f"{len(all_rows):,}", sheets=8), state="complete")
workbook = st.session_state.get("ov_workbook")
if workbook and workbook[0] == repr(listed):  # only the workbook of the list on screen
    st.download_button(t("overview.export"), workbook[1], file_name="overview.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="ov_export",
                       on_click="ignore")
