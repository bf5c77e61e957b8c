"""Timeline entries read as sentences in the reader's language, whatever the source wrote."""
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from dashboard.i18n import set_language
from dashboard.services.cases.detail import TimelineEntry
from dashboard.ui.case_timeline import describe, who

AT = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def chinese():
    set_language("zh")
    yield
    set_language("zh")


def _entry(kind, summary, actor=("张伟", "call_center"), **details):
    return TimelineEntry(at=AT, kind=kind, actor_name=actor[0] if actor else None,
                         actor_role=actor[1] if actor else None, summary=summary, details=details)


def test_estimate_reads_with_amount_in_yuan_and_tier_names():
    text = describe(_entry("estimate", "detail.ev.estimate", amount=Decimal("200000"), tier_before="T0",
                           tier_after="T2", note=None))
    assert text == "录入整案估损 ¥200,000.00（分级 非分级案件 → 二级（12–50万））"


def test_state_change_names_both_states_in_chinese():
    text = describe(_entry("event", "detail.ev.event.state_changed", before="dispatched", after="investigating",
                           event_kind="state_changed"))
    assert text == "案件状态：已调度 → 调查中"


def test_late_answer_and_met_late_deadline_say_so():
    assert describe(_entry("answer", "detail.ev.answer", seq=2, body="已核实", late=True)) == \
        "反馈第 2 条意见：已核实（逾期反馈）"
    assert "逾期" in describe(_entry("deadline_met", "detail.ev.deadline_met", deadline="D3", due_at=AT, late=True))


def test_due_times_are_shown_in_asia_shanghai():
    text = describe(_entry("violation", "detail.ev.violation", actor=None, deadline="D2", person="李娜",
                           due_at=AT, charge="also_charged"))
    assert "2026-11-20 10:00" in text and "连带责任" in text and "李娜" in text


def test_an_unknown_history_kind_is_still_shown_not_dropped():
    assert describe(_entry("event", "detail.ev.event.something_new", event_kind="something_new")) == \
        "记录：something_new"


def test_no_person_means_the_system_acted():
    assert who(_entry("notification", "detail.ev.notification", actor=None)) == ("系统", "")
    assert who(_entry("estimate", "detail.ev.estimate")) == ("张伟", "呼叫中心坐席")


def test_english_reader_gets_english():
    set_language("en")
    text = describe(_entry("event", "detail.ev.event.state_changed", before="paid", after="closed"))
    assert text == "State: Paid → Closed"


def test_an_arrival_shown_by_the_surveyors_photo_says_who_uploaded_it_for_whom():
    entry = _entry("arrival", "detail.ev.arrival", actor=("王强", "surveyor"), person="杨丽华", by_photo=True)
    assert who(entry)[0] == "王强"  # the one who acted: the surveyor, not the first responsible
    assert describe(entry) == "杨丽华 到达现场（以人车合影为证，由 王强 代为上传）"


def test_an_arrival_shown_by_ones_own_photo_or_recorded_by_someone_else():
    own = _entry("arrival", "detail.ev.arrival", actor=("杨丽华", "first_responsible"), person="杨丽华", by_photo=True)
    assert describe(own) == "杨丽华 到达现场（以本人上传的人车合影为证）"
    recorded = _entry("arrival", "detail.ev.arrival", actor=("张伟", "call_center"), person="杨丽华", by_photo=False)
    assert describe(recorded) == "张伟 登记 杨丽华 到达现场"
    itself = _entry("arrival", "detail.ev.arrival", actor=("杨丽华", "first_responsible"), person="杨丽华")
    assert describe(itself) == "杨丽华 到达现场"


def test_d5_lines_name_their_review_point_and_answer_round():
    met = describe(_entry("deadline_met", "detail.ev.deadline_met", deadline="D5", due_at=AT, late=False, seq=2,
                          round=1))
    assert met == "D5 分公司逐条反馈（第 2 条意见） 完成（按时；到期 2026-11-20 10:00）"
    again = describe(_entry("violation", "detail.ev.violation", actor=None, deadline="D5", person="李娜", due_at=AT,
                            charge="responsible", seq=3, round=2))
    assert again.startswith("D5 分公司逐条反馈（第 3 条意见，第 2 次反馈） 超时违规，责任人 李娜")
    d2 = describe(_entry("deadline_met", "detail.ev.deadline_met", deadline="D2", due_at=AT, late=False))
    assert d2 == "D2 第一责任人到场及人车合影 完成（按时；到期 2026-11-20 10:00）"
