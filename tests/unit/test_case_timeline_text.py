"""Timeline entries read as sentences in the reader's language, whatever the source wrote."""
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from dashboard.i18n import set_language
from dashboard.services.case_detail import TimelineEntry
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
