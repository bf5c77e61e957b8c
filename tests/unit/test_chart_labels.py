"""Chart labels that must fit: 30 branches on one axis, seven deadline types in one legend."""
from __future__ import annotations

from dashboard.i18n import set_language
from dashboard.ui.charts import short_unit, violation_trend_chart
from dashboard.ui.overdue_view import violations_chart


def test_branch_names_are_shortened_on_crowded_axes_and_nothing_else_is():
    assert short_unit("广东分公司") == "广东"
    assert short_unit("黑龙江分公司") == "黑龙江"
    assert short_unit("广东第2中心支公司") == "广东第2中心支公司"  # a sub-branch keeps its name
    assert short_unit("分公司") == "分公司"


def test_violation_charts_name_deadline_types_without_their_time_limits():
    import pandas as pd

    set_language("zh")
    by_branch = violations_chart([("广东分公司", "D2", 3), ("浙江分公司", "D5", 1)]).to_dict()
    kinds = {row["kind"] for row in next(iter(by_branch["datasets"].values()))}
    assert kinds == {"D2 第一责任人到场及人车合影", "D5 分公司逐条反馈"}
    assert {row["branch_short"] for row in next(iter(by_branch["datasets"].values()))} == {"广东", "浙江"}
    trend = violation_trend_chart(pd.DataFrame([{"week": pd.Timestamp("2026-11-23"), "kind": "D3", "violations": 2}]))
    assert {row["kind"] for row in next(iter(trend.to_dict()["datasets"].values()))} == {"D3 调查报告上传"}
