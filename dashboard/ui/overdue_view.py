"""Presentation of the overdue tracker: localized frames and the two Altair charts."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import altair as alt
import pandas as pd
import streamlit as st

from dashboard.i18n import t
from dashboard.rules.deadlines import OVERDUE_AGE_BUCKETS
from dashboard.services.clocks.overdue import OverdueRow
from dashboard.ui.charts import COUNT_AXIS, UNIT_AXIS, Chart, short_unit
from dashboard.ui.format import local_time, point_label, time_left
from dashboard.ui.risk_view import badge_text, colour_tones
from dashboard.ui.tones import AMBER, RED, Tone

# Colour carries meaning only: red late (overdue, or done late), amber due soon.
OVERDUE_RED = "#d62728"  # the ageing chart's bars
STATUS_TONES: dict[str, Tone] = {"overdue": RED, "due_soon": AMBER, "met_late": RED}


def status_label(status: str, soon_hours: float) -> str:
    """A status in words; "due soon" says how soon, as the rule settings have it."""
    return t(f"deadlines.status.{status}", hours=f"{soon_hours:g}")


def rows_frame(rows: Sequence[OverdueRow], now: datetime, soon_hours: float) -> pd.DataFrame:
    """The list as people read it (Asia/Shanghai times, Chinese names), with case_id kept for links."""
    records = []
    for r in rows:
        records.append({
            "case_id": r.case_id,
            t("deadlines.col.status"): status_label(r.status, soon_hours),
            t("deadlines.col.case_no"): r.case_no or t("deadlines.no_case"),
            t("risk.col"): badge_text(r.risk_colour) if r.case_no else "",
            t("deadlines.col.kind"): t(f"deadlines.kind.{r.kind}"),
            t("deadlines.col.point"): point_label(r.point_seq, r.round_no),
            t("deadlines.col.responsible"): "、".join(n for n in (r.responsible, r.also_charged) if n) or "—",
            t("deadlines.col.due"): local_time(r.due_at),
            t("deadlines.col.left"): time_left(r.due_at, r.met_at or now),
            # Hours past the due time; a clock not yet due shows its time left in the column before.
            t("deadlines.col.overdue_hours"): round(r.hours_late, 1) if r.hours_late > 0 else None,
            t("deadlines.col.met_at"): local_time(r.met_at) if r.met_at else "",
            t("deadlines.col.branch"): r.branch or "—",
            t("deadlines.col.sub_branch"): r.sub_branch or "—",
            t("deadlines.col.tier"): r.tier or "—",
        })
    columns = ["case_id"] + [t(k) for k in (
        "deadlines.col.status", "deadlines.col.case_no", "risk.col", "deadlines.col.kind", "deadlines.col.point",
        "deadlines.col.responsible",
        "deadlines.col.due", "deadlines.col.left", "deadlines.col.overdue_hours", "deadlines.col.met_at",
        "deadlines.col.branch", "deadlines.col.sub_branch", "deadlines.col.tier")]
    return pd.DataFrame.from_records(records, columns=columns)


def row_tones(rows: Sequence[OverdueRow]) -> dict[str, list[Tone]]:
    """Red for late (overdue, or done late: a violation all the same, and red on the case detail
    too), amber for due soon; on the status and on the time left alike."""
    tones = [STATUS_TONES.get(r.status) for r in rows]
    return {t("deadlines.col.status"): tones, t("deadlines.col.left"): tones,
            t("risk.col"): colour_tones(r.risk_colour for r in rows)}


def for_display(frame: pd.DataFrame) -> pd.DataFrame:
    """The list as shown: hours late as text, "22,644.1", blank when not late (a table shows a
    missing number as "None"); the download keeps them numbers."""
    column = t("deadlines.col.overdue_hours")
    return frame.assign(**{column: [f"{h:,.1f}" if pd.notna(h) else "" for h in frame[column]]})


def list_columns() -> dict:
    """Column settings of the list: hours late right-aligned as numbers are, and widths that show
    a whole case number and time."""
    return {t("deadlines.col.overdue_hours"): st.column_config.TextColumn(alignment="right"),
            t("deadlines.col.case_no"): st.column_config.TextColumn(width=160),
            t("deadlines.col.point"): st.column_config.TextColumn(width=150),
            t("deadlines.col.due"): st.column_config.TextColumn(width=130),
            t("deadlines.col.met_at"): st.column_config.TextColumn(width=130)}


CHART_HEIGHT = 260  # px of plot area, legends come on top of it


def violations_chart(data: Sequence[tuple[str, str, int]]) -> alt.Chart:
    # The short deadline names (without the time limit), so the legend beside the bars is not cut off.
    frame = pd.DataFrame([{"branch": b, "branch_short": short_unit(b), "kind": t(f"detail.deadline.{k}"), "count": n}
                          for b, k, n in data], columns=["branch", "branch_short", "kind", "count"])
    # Legend beside the bars: below them, its seven lines squeezed the bars to a strip.
    return Chart(frame, title=t("deadlines.chart.by_branch"), height=CHART_HEIGHT).mark_bar().encode(
        x=alt.X("branch_short:N", title=t("deadlines.chart.axis.branch"), sort="-y", axis=UNIT_AXIS),
        y=alt.Y("count:Q", title=t("deadlines.chart.axis.count"), axis=COUNT_AXIS),
        # Deadline types in neutral blues: red is kept for "overdue" alone.
        color=alt.Color("kind:N", title=t("deadlines.chart.axis.kind"), scale=alt.Scale(scheme="blues"),
                        legend=alt.Legend(orient="right", columns=1, labelLimit=240)),
        tooltip=[alt.Tooltip("branch:N", title=t("deadlines.chart.axis.branch")),
                 alt.Tooltip("kind:N", title=t("deadlines.chart.axis.kind")),
                 alt.Tooltip("count:Q", title=t("deadlines.chart.axis.count"))],
    )


def ageing_chart(buckets: Sequence[tuple[str, int]]) -> alt.Chart:
    order = [t(f"deadlines.bucket.{key}") for key, _lo, _hi in OVERDUE_AGE_BUCKETS]
    frame = pd.DataFrame([{"bucket": t(f"deadlines.bucket.{k}"), "count": n} for k, n in buckets],
                         columns=["bucket", "count"])
    return Chart(frame, title=t("deadlines.chart.ageing"), height=CHART_HEIGHT).mark_bar(color=OVERDUE_RED).encode(
        x=alt.X("bucket:N", title=t("deadlines.chart.axis.bucket"), sort=order,
                axis=alt.Axis(labelAngle=0, labelOverlap=False)),
        y=alt.Y("count:Q", title=t("deadlines.chart.axis.count"), axis=COUNT_AXIS),
        tooltip=[alt.Tooltip("bucket:N", title=t("deadlines.chart.axis.bucket")),
                 alt.Tooltip("count:Q", title=t("deadlines.chart.axis.count"))],
    )
