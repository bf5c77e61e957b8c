"""The overdue tracker page through the real app: list, counts, filters, branch limits, charts."""
from __future__ import annotations

from datetime import timedelta

import pytest

from dashboard import clock
from dashboard.services.dispatching.dispatch import record_estimate
from dashboard.services.clocks.violations import record_violations
from dashboard.ui.tones import AMBER, FILLS, RED
from tests.app.helpers import cell_fills, shown_frame, signed_in_app
from tests.factories import make_case


@pytest.fixture
def overdue_cases(session, org, actor_for):
    """Two gd cases and one zj case dispatched 50 h ago (D1/D2 overdue, D3 due in 22 h), one gd case 10 h ago (due soon)."""
    now = clock.now()
    call = actor_for("callcenter")
    made = {}
    for key, sub, amount, hours_ago in (("gz", "gz", 80000, 50), ("sz", "sz", 300000, 50),
                                        ("hz", "hz", 90000, 50), ("fs", "fs", 60000, 10)):
        case = make_case(session, org, sub, report_time=now - timedelta(hours=hours_ago + 1),
                         accident_time=now - timedelta(hours=hours_ago + 2))
        record_estimate(session, call, case.id, amount, now=now - timedelta(hours=hours_ago))
        made[key] = case
    record_violations(session, now)
    session.commit()
    return made


def _table_text(at) -> str:
    return shown_frame(at.dataframe[0]).to_string()


def test_hq_reviewer_sees_every_branch_most_overdue_first(db_url, org, overdue_cases):
    at = signed_in_app(db_url, "reviewer", "overdue")
    assert not at.exception, at.exception
    table = shown_frame(at.dataframe[0])
    text = table.to_string()
    for key in ("gz", "sz", "hz", "fs"):
        assert overdue_cases[key].case_no in text
    status_col = table.columns[0]
    assert "超时" in table.iloc[0][status_col]  # overdue rows first
    assert any("24小时内到期" in v for v in table[status_col])
    # Colour carries meaning: the status and the time left red when overdue, amber when due soon.
    expected = [FILLS[RED] if "超时" in s else FILLS[AMBER] for s in table[status_col]]
    assert cell_fills(at.dataframe[0], status_col) == expected
    assert cell_fills(at.dataframe[0], "剩余/超时") == expected
    metrics = {m.label: m.value for m in at.metric}
    # 50 h after dispatch: D1 of each case, D2 of each first responsible (gz 1, sz T2 2, hz 1) = 7.
    assert metrics["超时未完成"] == "7"
    assert metrics["24小时内到期"] == "6"  # the four D3 clocks (22 h left), fs D1 and D2 (14 h left)


def test_branch_manager_sees_only_the_branch(db_url, org, overdue_cases):
    at = signed_in_app(db_url, "gd_manager", "overdue")
    assert not at.exception, at.exception
    text = _table_text(at)
    assert overdue_cases["gz"].case_no in text and overdue_cases["hz"].case_no not in text
    assert at.selectbox(key="ov_branch").options == ["广东分公司"]


def test_filters_narrow_the_list(db_url, org, overdue_cases):
    at = signed_in_app(db_url, "admin", "overdue")
    at.multiselect(key="ov_kinds").select("D2")
    at.run()
    assert not at.exception, at.exception
    kinds = set(shown_frame(at.dataframe[0])["时效类型"])
    assert kinds == {"D2 第一责任人到场及人车合影（24小时）"}
    at.multiselect(key="ov_tiers").select("T2")
    at.run()
    assert set(shown_frame(at.dataframe[0])["报案号"]) == {overdue_cases["sz"].case_no}
    at.multiselect(key="ov_kinds").unselect("D2")
    at.run()
    everything = len(shown_frame(at.dataframe[0]))
    assert at.multiselect(key="ov_status").value == [] and at.multiselect(key="ov_status").placeholder == "全部"
    at.multiselect(key="ov_status").select("due_soon")
    at.run()
    assert not at.exception, at.exception
    table = shown_frame(at.dataframe[0])
    assert list(table["状态"]) == ["24小时内到期"] * 2  # sz's two D3 clocks, no overdue row left
    at.multiselect(key="ov_status").unselect("due_soon")  # none chosen again: every status, as at first
    at.run()
    assert len(shown_frame(at.dataframe[0])) == everything > 2


def test_the_page_is_refused_to_a_surveyor(db_url, org, overdue_cases):
    at = signed_in_app(db_url, "gz_surveyor1")
    assert "overdue" not in at.session_state["nav_pages"]


def test_the_counts_above_the_list_are_live_and_the_lists_own(db_url, session, org, actor_for, overdue_cases):
    """A clock that falls overdue between two clicks is counted at once, as the list shows it
    (the counts are not kept a minute like the charts: the list pages by them)."""
    at = signed_in_app(db_url, "reviewer", "overdue")
    assert {m.label: m.value for m in at.metric}["超时未完成"] == "7"
    now = clock.now()
    late = make_case(session, org, "gz", report_time=now - timedelta(hours=51), accident_time=now - timedelta(hours=52))
    record_estimate(session, actor_for("callcenter"), late.id, 70000, now=now - timedelta(hours=50))
    session.commit()
    at.run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["超时未完成"] == "9"  # its D1 and its first responsible's D2
    table = shown_frame(at.dataframe[0])
    assert late.case_no in table.to_string()
    assert (table[table.columns[0]].str.contains("超时")).sum() == 9


def test_the_due_soon_status_is_named_with_the_hours_in_force(db_url, session, org, actor_for, overdue_cases):
    """An administrator widens the due-soon window to 48 h: the count, its heading, the status
    filter and the list all say 48, never the 24 of the default (D3 falls due in ~22 h)."""
    from dashboard.services.admin.tier_admin import update_rule_settings

    at = signed_in_app(db_url, "reviewer", "overdue")
    assert any(m.label == "24小时内到期" for m in at.metric)
    update_rule_settings(session, actor_for("admin"), {"deadline.due_soon_hours": 48})
    at.run()
    assert not at.exception, at.exception
    assert any(m.label == "48小时内到期" for m in at.metric)
    assert "48小时内到期" in at.multiselect(key="ov_status").options
    table = shown_frame(at.dataframe[0])
    assert "48小时内到期" in set(table["状态"]) and "24小时内到期" not in set(table["状态"])
    soon = table["状态"] == "48小时内到期"
    assert {fill for fill, s in zip(cell_fills(at.dataframe[0], "剩余/超时"), soon) if s} == {FILLS[AMBER]}
    assert any("48 小时内到期" in c.value for c in at.caption)


def test_violation_figures_are_live_like_the_list(db_url, session, org, actor_for, overdue_cases):
    """The violations by branch come from the counts the database keeps (national view): a
    violation recorded since the last run shows on the next one, with the list and its counts;
    nothing on the page is an older copy (no "read at" caption)."""
    at = signed_in_app(db_url, "reviewer", "overdue")
    before = int({m.label: m.value for m in at.metric}["违规记录"].replace(",", ""))
    assert not any("读取于" in c.value for c in at.caption)
    now = clock.now()
    late = make_case(session, org, "gz", report_time=now - timedelta(hours=51), accident_time=now - timedelta(hours=52))
    record_estimate(session, actor_for("callcenter"), late.id, 70000, now=now - timedelta(hours=50))
    added = record_violations(session, now).violations
    session.commit()
    at.run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["超时未完成"] == "9"
    assert int(metrics["违规记录"].replace(",", "")) == before + added > before


def test_hours_late_read_as_numbers_and_stay_blank_for_clocks_not_yet_due(db_url, org, overdue_cases):
    at = signed_in_app(db_url, "reviewer", "overdue")
    table = shown_frame(at.dataframe[0])
    late = table["状态"] == "已超时未完成"
    assert all(h and float(h.replace(",", "")) > 0 for h in table.loc[late, "超时小时数"])
    assert set(table.loc[~late & (table["状态"] != "超时后完成"), "超时小时数"]) == {""}  # not "None"
