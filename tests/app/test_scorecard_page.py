"""The scorecard page (issue 21): the ranking, a branch's card with formulas, trend and the cases
behind a computed indicator, HQ entering the financial figures (with a colleague's save refused),
the weights; a branch sees its own card only."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo


from dashboard import clock
from dashboard.rules.scorecard import period_start
from db.models import BranchFinancials
from tests.app.helpers import signed_in_app
from tests.factories import make_case

SH = ZoneInfo("Asia/Shanghai")


def _ok(at) -> None:
    assert not at.exception, at.exception


def _button(at, label: str):
    return next(b for b in at.button if b.label == label)


def _month() -> date:
    return period_start("month", clock.now().astimezone(SH).date())


def _seed(session, org) -> None:
    start = datetime.combine(_month(), datetime.min.time(), SH)
    for n, sub in enumerate(("gz", "sz", "hz")):
        reported = start + timedelta(hours=2 + n)
        make_case(session, org, sub, report_time=reported, accident_time=reported - timedelta(hours=1),
                  state="closed", closed_at=reported + timedelta(hours=5), paid_amount=D(5000 + 1000 * n),
                  first_estimate=D(6000), first_estimated_at=reported + timedelta(hours=1), current_estimate=D(5000))
    old = start - timedelta(days=300)
    make_case(session, org, "gz", report_time=old, accident_time=old - timedelta(hours=1), state="investigating",
              current_estimate=D(80000))


def test_hq_ranks_the_branches_and_opens_the_cases_behind_an_indicator(db_url, session, org):
    _seed(session, org)
    at = signed_in_app(db_url, "executive", "scorecard")
    _ok(at)
    ranking = next(d for d in at.dataframe if "总分" in d.value.columns)
    assert len(ranking.value) == 4 and list(ranking.value["名次"])[0] == 1
    columns = json.loads(ranking.proto.columns)
    formats = {name: columns.get(name, {}).get("type_config", {}).get("format")
               for name in ("总分", "理赔成本", "理赔管理", "理赔服务和效率", "专项工作成效")}
    assert set(formats.values()) == {"%.2f"}, \
        "points in two decimals throughout (the grid drew 10 beside 9.68)"
    at.selectbox(key="sc_branch").set_value(org.branch("gd").id)
    at.selectbox(key="sc_indicator").set_value("stale_pending_rate")
    at.run()
    _ok(at)
    card = next(d for d in at.dataframe if "指标" in d.value.columns and "得分率" in d.value.columns)
    columns = list(card.value.columns)
    assert columns[-1] == "目标 / 评分标准", columns  # the long rule last, the points in sight
    values = dict(zip(card.value["指标"], card.value["本期值"]))
    assert values["未决滞案率"] == "100.00%" and values["综合赔付率"] == "无数据"
    assert any("报案已超过 180 天" in c.value for c in at.caption)
    behind = next(d for d in at.dataframe if d.key == "sc_behind")
    assert len(behind.value) == 1
    assert "录入" not in [t.label for t in at.tabs][-1]  # an executive enters nothing
    today = clock.now().astimezone(SH).date()
    assert any(f"数据截至 {today.isoformat()}（今天）" in c.value for c in at.caption), "the open month says so"
    previous = _month() - timedelta(days=1)
    at.selectbox(key="sc_period_month").set_value(period_start("month", previous)).run()
    _ok(at)
    assert not any("数据截至" in c.value for c in at.caption), "a closed month has no such note"


def test_hq_admin_enters_the_figures_and_a_colleagues_older_form_is_refused(db_url, session, org):
    first, second = (signed_in_app(db_url, "admin", "scorecard") for _ in range(2))
    gd = org.branch("gd").id
    start = _month()
    for at in (first, second):
        at.selectbox(key="sc_enter_branch").set_value(gd)
        at.run()
        _ok(at)
    key = f"sc_fin_{gd}_month_{start}_0"
    for name, value in (("premium", "12,000,000"), ("ceded", "1000000"), ("assumed", "0"), ("unearned_change", "-500000"),
                        ("paid", "5500000"), ("reserve_change", "300000"), ("reinsurance_paid", "0"),
                        ("reinsurance_recovered", "200000"), ("subrogation", "100000"),
                        ("loss_ratio_budget_pct", "60")):
        first.text_input(key=f"{key}_{name}").input(value)
    _button(first, "保存财务数据").click()
    first.run()
    _ok(first)
    assert any("已保存" in s.value for s in first.success), [e.value for e in first.error]
    row = session.query(BranchFinancials).one()
    assert row.premium == D(12_000_000) and row.unearned_change == D(-500_000)
    # 5,500,000 / 10,500,000 = 52.38 %: 7.6 points better than the budget → 18 of 15.
    first.selectbox(key="sc_branch").set_value(gd)
    first.run()
    card = next(d for d in first.dataframe if "指标" in d.value.columns and "得分率" in d.value.columns)
    assert dict(zip(card.value["指标"], card.value["得分"]))["综合赔付率"] == "18.00"
    second.text_input(key=f"{key}_premium").input("9000000")
    _button(second, "保存财务数据").click()
    second.run()
    _ok(second)
    # The demo's one HQ admin in two windows: told the figures were saved from their other window.
    assert any("该记录已在您的另一个窗口或标签页中被修改" in e.value for e in second.error)
    session.expire_all()
    assert session.query(BranchFinancials).one().premium == D(12_000_000)


def test_weights_that_do_not_sum_to_100_are_refused_with_the_total(db_url, session, org):
    at = signed_in_app(db_url, "admin", "scorecard")
    _ok(at)
    box = next(b for b in at.text_input if b.label == "综合赔付率")
    box.input("20")
    _button(at, "保存权重").click()
    at.run()
    _ok(at)
    assert any("各项权重合计须为 100%，当前为 105%" in e.value for e in at.error), [e.value for e in at.error]


def test_a_branch_sees_its_own_card_only(db_url, session, org):
    _seed(session, org)
    at = signed_in_app(db_url, "gd_manager", "scorecard")
    _ok(at)
    ranking = next(d for d in at.dataframe if "总分" in d.value.columns)
    assert list(ranking.value["分公司"]) == ["广东分公司"]


def test_the_weights_form_shows_a_save_made_on_another_server_at_once(db_url, session, org):
    """The ranking may show another server's save up to a minute late (the rules are kept); the form,
    whose save is checked against the versions it shows, shows the weights as they are now."""
    from sqlalchemy import text

    at = signed_in_app(db_url, "admin", "scorecard")  # the rules read, and now kept
    _ok(at)
    box = next(b for b in at.text_input if b.label == "综合赔付率")
    assert box.value == "15"
    # Another server's save: the rows change; nothing in this process is forgotten.
    session.execute(text("UPDATE scorecard_indicator SET weight_pct = CASE key WHEN 'loss_ratio' THEN 20 ELSE 5 END, "
                         "version = version + 1 WHERE key IN ('loss_ratio', 'reserve_adequacy')"))
    session.commit()
    at.run()
    _ok(at)
    assert next(b for b in at.text_input if b.label == "综合赔付率").value == "20"
    assert next(b for b in at.text_input if b.label == "估损充足率").value == "5"
