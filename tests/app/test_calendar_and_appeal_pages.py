"""The working calendar tab and the appeals page in AppTest (issue 22): HQ admin sees next year's
warning, enters a holiday (a bad date named, what was typed kept) and confirms the year; a surveyor
appeals a violation, HQ admin finds it and accepts it, the surveyor sees the outcome; two admins
deciding the same appeal: the second is refused naming the first."""
from __future__ import annotations

from sqlalchemy import select

from dashboard import clock
from db.models import Violation, ViolationAppeal, WorkCalendarYear
from tests.app.helpers import signed_in_app
from tests.factories import make_violation


def test_hq_admin_is_warned_of_next_year_and_enters_it(db_url, session, org):
    at = signed_in_app(db_url, "admin", "admin_rules")
    next_year = clock.business_today().year + 1
    if next_year > 2026:  # the seed covers up to 2026: the year after is not known
        assert any(f"{next_year} 年的节假日与调休尚未录入" in w.value for w in at.warning)
    at.selectbox(key="cal_year").set_value(next_year)
    at.run()
    at.text_input(key="cal_day").input(f"{next_year}-02-30")
    at.selectbox(key="cal_kind").set_value("holiday")
    at.text_input(key="cal_name").input("春节")
    next(b for b in at.button if b.label == "保存这一天").click()
    at.run()
    assert not at.exception, at.exception
    assert any("日期（年-月-日）" in e.value and "不是有效日期" in e.value for e in at.error), [e.value for e in at.error]
    assert at.text_input(key="cal_name").value == "春节"  # nothing typed is lost
    at.text_input(key="cal_day").input(f"{next_year}-02-08")
    next(b for b in at.button if b.label == "保存这一天").click()
    at.run()
    assert any(f"{next_year}-02-08" in s.value and "节假日" in s.value for s in at.success), [e.value for e in at.error]
    days = next(d for d in at.dataframe if "名称" in d.value.columns).value
    assert list(days["名称"]) == ["春节"]
    next(b for b in at.button if b.label == f"确认 {next_year} 年的节假日与调休已全部录入").click()
    at.run()
    assert not at.exception, at.exception
    session.expire_all()
    assert session.get(WorkCalendarYear, next_year).source == "admin"
    assert not any(f"{next_year} 年的节假日与调休尚未录入" in w.value for w in at.warning)


def _violation(session, org) -> Violation:
    return make_violation(session, org, clock.now())


def test_a_surveyor_appeals_and_two_admins_decide_it(db_url, session, org):
    violation = _violation(session, org)
    surveyor = signed_in_app(db_url, "gz_surveyor1", "appeals")
    assert not surveyor.exception, surveyor.exception
    mine = surveyor.dataframe[0].value
    assert list(mine["申诉"]) == ["未申诉"]
    key = violation.id
    next(b for b in surveyor.button if b.label == "提交申诉").click()
    surveyor.run()
    assert any("申诉理由" in e.value for e in surveyor.error)  # a reason is required
    surveyor.text_area(key=f"ap_reason_{key}").input("核心系统故障，无法上传")
    surveyor.text_area(key=f"ap_evidence_{key}").input("运维工单 OPS-1234")
    next(b for b in surveyor.button if b.label == "提交申诉").click()
    surveyor.run()
    assert any("申诉已提交" in s.value for s in surveyor.success), [e.value for e in surveyor.error]
    assert list(surveyor.dataframe[0].value["申诉"]) == ["审核中"]

    first, second = signed_in_app(db_url, "admin", "appeals"), signed_in_app(db_url, "admin", "appeals")
    for at in (first, second):
        pending = next(d for d in at.dataframe if "申诉人" in d.value.columns).value
        assert list(pending["申诉理由"]) == ["核心系统故障，无法上传"]
    appeal = session.scalars(select(ViolationAppeal)).one()
    first.text_area(key=f"ap_comment_{appeal.id}_1").input("故障属实，予以豁免")
    next(b for b in first.button if b.label == "同意申诉（豁免）").click()
    first.run()
    assert any("已同意申诉" in s.value for s in first.success), [e.value for e in first.error]
    second.text_area(key=f"ap_comment_{appeal.id}_1").input("理由不足")
    next(b for b in second.button if b.label == "驳回申诉").click()
    second.run()
    assert any("已在您的另一个窗口或标签页中被修改" in e.value for e in second.error), \
        [e.value for e in second.error]  # the demo's one HQ admin, in two windows
    session.expire_all()
    assert session.get(ViolationAppeal, appeal.id).status == "accepted"

    first.switch_page("pages/overdue.py")
    first.run()
    assert not first.exception, first.exception
    assert any("另有 1 条违规经申诉豁免" in c.value for c in first.caption)  # the tracker says what it left out

    surveyor.run()
    assert list(surveyor.dataframe[0].value["申诉"]) == ["已通过（豁免）"]
    assert list(surveyor.dataframe[0].value["审核意见"]) == ["故障属实，予以豁免"]


def test_the_appeals_page_decides_nothing_for_a_surveyor(db_url, session, org):
    _violation(session, org)
    at = signed_in_app(db_url, "gz_surveyor2", "appeals")
    assert not at.exception, at.exception
    assert any("没有被认定的超时违规" in i.value for i in at.info)
    assert not any(b.label == "同意申诉（豁免）" for b in at.button)


def test_with_more_than_one_waiting_each_appeal_decided_or_filed_gives_way_to_the_next(db_url, session, org):
    """The appeal just decided leaves the waiting list, and the next one opens: the page read the
    decided one from the list and failed (a browser walk on the demo data, two appeals waiting)."""
    first, second = _violation(session, org), _violation(session, org)
    surveyor = signed_in_app(db_url, "gz_surveyor1", "appeals")
    assert not surveyor.exception, surveyor.exception
    filed = []
    for reason in ("核心系统故障", "案件已转交他人"):
        violation_id = surveyor.selectbox(key="ap_pick").value
        assert violation_id in {first.id, second.id} - set(filed)  # one not appealed yet
        surveyor.text_area(key=f"ap_reason_{violation_id}").input(reason)
        next(b for b in surveyor.button if b.label == "提交申诉").click()
        surveyor.run()
        assert not surveyor.exception, surveyor.exception
        assert any("申诉已提交" in s.value for s in surveyor.success), [e.value for e in surveyor.error]
        filed.append(violation_id)
    assert not any(b.label == "提交申诉" for b in surveyor.button)  # nothing left to appeal

    admin = signed_in_app(db_url, "admin", "appeals")
    decided = []
    for _ in range(2):
        appeal_id = admin.selectbox(key="ap_decide_pick").value
        admin.text_area(key=f"ap_comment_{appeal_id}_1").input("已核实")
        next(b for b in admin.button if b.label == "驳回申诉").click()
        admin.run()
        assert not admin.exception, admin.exception
        assert not admin.error, [e.value for e in admin.error]
        assert any("已驳回申诉" in s.value for s in admin.success), [s.value for s in admin.success]
        decided.append(appeal_id)
    assert any("没有待审核的申诉" in i.value for i in admin.info), [i.value for i in admin.info]
    session.expire_all()
    assert sorted(decided) == sorted(session.scalars(select(ViolationAppeal.id)).all())
    assert {a.status for a in session.scalars(select(ViolationAppeal))} == {"rejected"}
