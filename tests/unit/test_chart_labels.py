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


def test_the_violation_trend_shows_quiet_weeks_as_zero_instead_of_joining_across_them():
    import pandas as pd

    from dashboard.ui.charts import with_quiet_weeks

    weeks = [pd.Timestamp("2026-11-02"), pd.Timestamp("2026-11-23")]
    frame = pd.DataFrame([{"week": weeks[0], "kind": "D2", "violations": 4},
                          {"week": weeks[1], "kind": "D2", "violations": 1},
                          {"week": weeks[1], "kind": "D5", "violations": 2}])
    filled = with_quiet_weeks(frame)
    by_key = {(r.week, r.kind): r.violations for r in filled.itertuples()}
    assert len(filled) == 4 * 2  # four Mondays from the first to the last, two types
    assert by_key[(pd.Timestamp("2026-11-09"), "D2")] == 0 and by_key[(pd.Timestamp("2026-11-16"), "D5")] == 0
    assert by_key[(weeks[0], "D2")] == 4 and by_key[(weeks[1], "D5")] == 2
    assert sum(filled["violations"]) == 7
    assert with_quiet_weeks(frame.iloc[0:0]).empty


def test_each_deadline_type_keeps_its_colour_and_weeks_are_their_mondays():
    """A branch showing only D5 colours it as the national view does; the x axis names each week's
    Monday, not round dates of a time scale."""
    import pandas as pd

    set_language("zh")
    national = violation_trend_chart(pd.DataFrame([{"week": pd.Timestamp("2026-11-02"), "kind": k, "violations": 1}
                                                   for k in ("D1", "D2", "D5")])).to_dict()
    branch = violation_trend_chart(pd.DataFrame([{"week": pd.Timestamp("2026-11-09"), "kind": "D5",
                                                  "violations": 3}])).to_dict()
    domain = national["encoding"]["color"]["scale"]["domain"]
    assert domain == branch["encoding"]["color"]["scale"]["domain"] and len(domain) == 7
    assert domain.index("D5 分公司逐条反馈") == 4
    rows = next(iter(national["datasets"].values()))
    assert {r["monday"] for r in rows} == {"2026-11-02"} and national["encoding"]["x"]["type"] == "ordinal"
