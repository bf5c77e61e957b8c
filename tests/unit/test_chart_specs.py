"""Every chart the pages draw is a valid Vega-Lite spec.

Pages skip Altair's schema checks (dashboard/ui/charts.py: they cost more than the figures'
SQL on every run), so this is where a wrong encoding, axis or selection is caught: each chart is
built with data like the pages' and its whole spec validated against the Vega-Lite schema, with
and without rows.
"""
from __future__ import annotations

from datetime import date

import altair as alt
import pandas as pd
import pytest

from dashboard.i18n import set_language
from dashboard.ui import charts, overdue_view


def _overview_frames(empty: bool) -> dict[str, pd.DataFrame]:
    pending = pd.DataFrame([{"unit_id": 1, "unit": "广东分公司", "tier": "T1", "cases": 3, "amount": 250000.0},
                            {"unit_id": 2, "unit": "浙江分公司", "tier": "T2", "cases": 1, "amount": 600000.0}])
    pending["amount_wan"] = pending["amount"] / 10000
    trend = pd.DataFrame([{"week": pd.Timestamp(date(2026, 11, 2)), "kind": "D2", "violations": 2},
                          {"week": pd.Timestamp(date(2026, 11, 16)), "kind": "D5", "violations": 1}])
    ranking = pd.DataFrame([{"unit_id": 1, "unit": "广东分公司", "on_time": 3, "decided": 5, "rate": 0.6}])
    ageing = pd.DataFrame([{"label": "0-7天", "cases": 2, "amount": 1.0, "amount_wan": 0.0001},
                           {"label": "8-30天", "cases": 0, "amount": 0.0, "amount_wan": 0.0}])
    frames = {"pending": pending, "trend": trend, "ranking": ranking, "ageing": ageing}
    return {k: v.iloc[0:0] for k, v in frames.items()} if empty else frames


def _built_charts(empty: bool) -> list[alt.Chart]:
    frames = _overview_frames(empty)
    by_branch = [] if empty else [("广东分公司", "D2", 3), ("浙江分公司", "D5", 1)]
    return [charts.pending_by_unit_chart(frames["pending"]), charts.violation_trend_chart(frames["trend"]),
            charts.on_time_ranking_chart(frames["ranking"]), charts.ageing_chart(frames["ageing"]),
            overdue_view.violations_chart(by_branch), overdue_view.ageing_chart([("lt1d", 2), ("1to3d", 0)]),
            charts.special_extra_chart(_empty_or(empty, pd.DataFrame(
                [{"unit": "广州中心支公司", "extra_wan": 1.5, "approved": 2}]))),
            charts.complaint_trend_chart(_empty_or(empty, pd.DataFrame(
                [{"month": "2026-11", "label": "投诉", "items": 3}])), "类别"),
            charts.scorecard_ranking_chart(_empty_or(empty, pd.DataFrame(
                [{"branch": "广东分公司", "group": "理赔成本", "points": 30.5, "total": 80.0}]))),
            charts.scorecard_trend_chart(_empty_or(empty, pd.DataFrame(
                [{"period": "2026-11", "value": 12.5, "score": 80.0}])), "值")]


def _empty_or(empty: bool, frame: pd.DataFrame) -> pd.DataFrame:
    return frame.iloc[0:0] if empty else frame


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("empty", [False, True])
def test_every_chart_is_a_valid_vega_lite_spec(language, empty):
    set_language(language)
    try:
        for chart in _built_charts(empty):
            spec = chart.to_dict(validate=True)  # raises SchemaValidationError when the spec is wrong
            assert spec["mark"] and spec["encoding"]
    finally:
        set_language("zh")


def test_a_wrong_spec_is_caught_here_though_pages_draw_without_the_check():
    """The page path (to_dict() as Streamlit calls it) does not validate; the test path does."""
    wrong = charts.Chart(pd.DataFrame({"x": [1]})).mark_bar().encode(x=alt.X("x:Q", axis=alt.Axis(labelAngle="steep")))
    assert wrong.to_dict()["encoding"]["x"]["axis"]["labelAngle"] == "steep"
    with pytest.raises(alt.utils.schemapi.SchemaValidationError):
        wrong.to_dict(validate=True)


def test_the_scorecard_legend_keeps_the_groups_in_the_schemes_order():
    """Not by name: 专项工作成效 sorts before 理赔成本 in Unicode, and the legend read backwards."""
    groups = ["理赔成本", "理赔管理", "理赔服务和效率", "专项工作成效"]
    frame = pd.DataFrame([{"branch": b, "group": g, "points": 5.0, "total": 20.0}
                          for b in ("广东分公司", "浙江分公司") for g in groups])
    spec = charts.scorecard_ranking_chart(frame).to_dict(validate=True)
    assert spec["encoding"]["color"]["sort"] == groups
