"""Altair charts of the executive overview: Chinese titles and axes, colour only where it means something."""
from __future__ import annotations

import altair as alt
import pandas as pd

from dashboard.i18n import t
from dashboard.rules.deadlines import DEADLINE_KINDS
from dashboard.ui.format import tier_label

PICK_UNIT = "pick_unit"  # selection parameter: clicking a unit's bar drills down to it
PICK_RANKED_UNIT = "pick_ranked_unit"  # clicking a ranking bar lists that unit's clocks
PICK_BUCKET = "pick_bucket"  # clicking an ageing bar lists its pending cases


# Altair's debug mode checks every axis, tooltip and selection against the Vega-Lite JSON schema
# as it is made, only for a clearer traceback when one is wrong: ~10 ms of jsonschema a run on the
# overview. The charts' structure is the code's, not the data's; tests/unit/test_chart_specs.py
# builds every chart and validates its whole spec, where a wrong one would be caught.
alt.utils.schemapi.disable_debug_mode()


class Chart(alt.Chart):
    """An `alt.Chart` whose spec is not checked against the Vega-Lite JSON schema on every page run.

    Streamlit turns a chart into its spec with `to_dict()`, which validates it by default: ~4 ms of
    jsonschema per chart on every run, most of the overview's drawing time. Validated in the tests
    instead (above).
    """

    def to_dict(self, validate: bool = False, **kwargs):  # noqa: ANN003, ANN201 - altair's signature
        return super().to_dict(validate=validate, **kwargs)


# Counts are whole numbers: integer ticks only (an all-zero chart labelled its axis 0.000000).
# Every chart of counts uses it (overview, overdue tracker).
COUNT_AXIS = alt.Axis(format="d", tickMinStep=1)
# Up to 30 branches side by side: level labels overlapped and Vega kept only the first and last.
# Slanted short names fit every one where the chart is wide; where it is narrow, as many as fit.
UNIT_AXIS = alt.Axis(labelAngle=-45, labelOverlap="greedy", labelLimit=110)


def short_unit(name: str) -> str:
    """A branch's name on a crowded axis: 广东分公司 -> 广东 (tooltips keep the full name)."""
    return name[:-3] if name.endswith("分公司") and len(name) > 3 else name


def pending_by_unit_chart(frame: pd.DataFrame) -> alt.Chart:
    """Stacked bars: pending tiered cases per unit, split by tier (tier shades are neutral greys/blues)."""
    pick = alt.selection_point(name=PICK_UNIT, fields=["unit_id"])
    codes = sorted(frame["tier"].unique()) if len(frame) else []
    frame = frame.assign(tier=frame["tier"].map(tier_label), unit_short=frame["unit"].map(short_unit))
    return Chart(frame, title=t("overview.chart.pending")).mark_bar().add_params(pick).encode(
        x=alt.X("unit_short:N", title=t("overview.axis.unit"), sort="-y", axis=UNIT_AXIS),
        y=alt.Y("cases:Q", title=t("overview.axis.cases"), axis=COUNT_AXIS),
        color=alt.Color("tier:N", title=t("overview.axis.tier"), sort=[tier_label(c) for c in codes],
                        scale=alt.Scale(scheme="blues")),
        tooltip=[alt.Tooltip("unit:N", title=t("overview.axis.unit")),
                 alt.Tooltip("tier:N", title=t("overview.axis.tier")),
                 alt.Tooltip("cases:Q", title=t("overview.axis.cases")),
                 alt.Tooltip("amount_wan:Q", title=t("overview.axis.amount"), format=",.1f")],
    )


def with_quiet_weeks(frame: pd.DataFrame) -> pd.DataFrame:
    """Weeks without a violation of a type as 0 for that type: a line drawn straight from one
    week's count to a count weeks later read as violations in every week between.
    (Plain dictionaries: a pandas MultiIndex reindex of the same ~100 cells took ~3 ms a run.)"""
    if frame.empty:
        return frame
    counts = {(week, kind): n for week, kind, n in zip(frame["week"], frame["kind"], frame["violations"])}
    weeks = pd.date_range(frame["week"].min(), frame["week"].max(), freq="7D")
    kinds = sorted(set(frame["kind"]))
    return pd.DataFrame({"week": [w for w in weeks for _ in kinds], "kind": kinds * len(weeks),
                         "violations": [counts.get((w, k), 0) for w in weeks for k in kinds]})


def violation_trend_chart(frame: pd.DataFrame) -> alt.Chart:
    # The short deadline names (without the time limit): the long ones were cut off in the legend.
    frame = with_quiet_weeks(frame)
    # Weeks as their Monday's date on a category axis: a time axis put its ticks on whatever days
    # it found round (11-03, 11-11), under a title that says 周一, and in the browser's time zone.
    frame = frame.assign(kind=frame["kind"].map(lambda k: t(f"detail.deadline.{k}")),
                         monday=frame["week"].map(lambda w: w.strftime("%Y-%m-%d")))
    # Every type keeps its colour whatever the filter shows (a colour per type present moved D2
    # from light to dark blue when a branch was chosen).
    kinds = [t(f"detail.deadline.{k}") for k in DEADLINE_KINDS]
    return Chart(frame, title=t("overview.chart.trend")).mark_line(point=True).encode(
        x=alt.X("monday:O", title=t("overview.axis.week"), sort="ascending",
                axis=alt.Axis(labelAngle=-45, labelOverlap="greedy")),
        y=alt.Y("violations:Q", title=t("overview.axis.violations"), axis=COUNT_AXIS),
        # Short names, wide enough not to be cut off (below the lines, the legend squeezed them flat).
        color=alt.Color("kind:N", title=t("overview.axis.deadline"), legend=alt.Legend(labelLimit=220),
                        scale=alt.Scale(domain=kinds, scheme="category10")),
        tooltip=[alt.Tooltip("monday:O", title=t("overview.axis.week")),
                 alt.Tooltip("kind:N", title=t("overview.axis.deadline")),
                 alt.Tooltip("violations:Q", title=t("overview.axis.violations"))],
    )


def on_time_ranking_chart(frame: pd.DataFrame) -> alt.Chart:
    pick = alt.selection_point(name=PICK_RANKED_UNIT, fields=["unit_id"])
    return Chart(frame, title=t("overview.chart.on_time")).mark_bar(color="#4c78a8").add_params(pick).encode(
        # Sub-branch names run to ten characters and more ("四川第4中心支公司"): shown whole.
        y=alt.Y("unit:N", title=t("overview.axis.unit"), sort="-x", axis=alt.Axis(labelLimit=220)),
        x=alt.X("rate:Q", title=t("overview.axis.rate"), axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("unit:N", title=t("overview.axis.unit")),
                 alt.Tooltip("rate:Q", title=t("overview.axis.rate"), format=".1%"),
                 alt.Tooltip("on_time:Q", title=t("overview.col.on_time")),
                 alt.Tooltip("decided:Q", title=t("overview.col.decided"))],
    )


def ageing_chart(frame: pd.DataFrame) -> alt.Chart:
    order = list(frame["label"])
    pick = alt.selection_point(name=PICK_BUCKET, fields=["bucket"])
    return Chart(frame, title=t("overview.chart.ageing")).mark_bar(color="#4c78a8").add_params(pick).encode(
        x=alt.X("label:N", title=t("overview.axis.ageing"), sort=order),
        y=alt.Y("cases:Q", title=t("overview.axis.cases"), axis=COUNT_AXIS),
        tooltip=[alt.Tooltip("label:N", title=t("overview.axis.ageing")),
                 alt.Tooltip("cases:Q", title=t("overview.axis.cases")),
                 alt.Tooltip("amount_wan:Q", title=t("overview.axis.amount"), format=",.1f")],
    )


# The colours of red / yellow / blue mean what they say (docs/DOMAIN.md §6): the one chart where
# red is not "late".
RISK_COLOURS = {"red": "#cf1322", "yellow": "#d48806", "blue": "#1d39c4"}


def colour_share_chart(frame: pd.DataFrame) -> alt.Chart:
    """100 % stacked bars: each unit's tiered motor cases split red / yellow / blue."""
    order = list(RISK_COLOURS)
    labels = [t(f"risk.badge.{c}") for c in order]
    frame = frame.assign(label=frame["colour"].map(lambda c: t(f"risk.badge.{c}")),
                         unit_short=frame["unit"].map(short_unit),
                         rank=frame["colour"].map(order.index))
    return Chart(frame, title=t("overview.chart.colour_share")).mark_bar().encode(
        x=alt.X("unit_short:N", title=t("overview.axis.unit"), axis=UNIT_AXIS),
        y=alt.Y("cases:Q", stack="normalize", title=t("overview.axis.share"), axis=alt.Axis(format="%")),
        color=alt.Color("label:N", title=t("overview.axis.colour"), sort=labels,
                        scale=alt.Scale(domain=labels, range=[RISK_COLOURS[c] for c in order])),
        order=alt.Order("rank:Q"),
        tooltip=[alt.Tooltip("unit:N", title=t("overview.axis.unit")),
                 alt.Tooltip("label:N", title=t("overview.axis.colour")),
                 alt.Tooltip("cases:Q", title=t("overview.axis.cases")),
                 alt.Tooltip("share:Q", title=t("overview.axis.share"), format=".0%")],
    )


def special_extra_chart(frame: pd.DataFrame) -> alt.Chart:
    """Special cases: the extra amount approved per business unit over the report's dates (wan yuan),
    largest first; the count approved in the tooltip. Columns: unit, extra_wan, approved."""
    return Chart(frame).mark_bar().encode(
        x=alt.X("unit:N", sort="-y", title=None, axis=UNIT_AXIS),
        y=alt.Y("extra_wan:Q", title=t("special.report.chart")),
        tooltip=[alt.Tooltip("unit:N", title=t("special.col.unit")),
                 alt.Tooltip("extra_wan:Q", title=t("special.report.chart"), format=",.2f"),
                 alt.Tooltip("approved:Q", title=t("special.col.approved"), format="d")],
    ).properties(height=260)


def complaint_trend_chart(frame: pd.DataFrame, dimension_title: str) -> alt.Chart:
    """Complaints / disputes registered per month, stacked by the chosen dimension. Columns: month
    (text, 2026-11: Vega's own month names are English), label, items."""
    return Chart(frame).mark_bar().encode(
        x=alt.X("month:O", title=t("complaints.col.month"), sort="ascending"),
        y=alt.Y("sum(items):Q", title=t("complaints.col.items"), axis=COUNT_AXIS),
        color=alt.Color("label:N", title=dimension_title),
        tooltip=[alt.Tooltip("month:O", title=t("complaints.col.month")),
                 alt.Tooltip("label:N", title=dimension_title),
                 alt.Tooltip("sum(items):Q", title=t("complaints.col.items"), format="d")],
    ).properties(height=280)


def scorecard_ranking_chart(frame: pd.DataFrame) -> alt.Chart:
    """Each branch's total, stacked by the four groups, best first. Columns: branch, group, points, total;
    the groups' rows in the scheme's order."""
    return Chart(frame).mark_bar().encode(
        x=alt.X("branch:N", sort=alt.EncodingSortField("total", order="descending"), title=None, axis=UNIT_AXIS),
        y=alt.Y("sum(points):Q", title=t("scorecard.col.points")),
        # The groups in the scheme's order (成本, 管理, 服务和效率, 专项), as the table's columns: sorted by
        # name the legend and the stacks read 专项工作成效 first.
        color=alt.Color("group:N", title=t("scorecard.col.group"), sort=list(dict.fromkeys(frame["group"]))),
        tooltip=[alt.Tooltip("branch:N", title=t("scorecard.col.branch")),
                 alt.Tooltip("group:N", title=t("scorecard.col.group")),
                 alt.Tooltip("points:Q", title=t("scorecard.col.points"), format=".2f"),
                 alt.Tooltip("total:Q", title=t("scorecard.col.total"), format=".2f")],
    ).properties(height=280)


def scorecard_trend_chart(frame: pd.DataFrame, value_title: str) -> alt.Chart:
    """One indicator's value over the last periods. Columns: period (label), value, score."""
    return Chart(frame).mark_line(point=True).encode(
        x=alt.X("period:O", title=None, sort=None),
        y=alt.Y("value:Q", title=value_title),
        tooltip=[alt.Tooltip("period:O", title=t("scorecard.period")),
                 alt.Tooltip("value:Q", title=value_title, format=",.2f"),
                 alt.Tooltip("score:Q", title=t("scorecard.col.score"), format=".1f")],
    ).properties(height=220)
