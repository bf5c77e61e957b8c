"""The working calendar in the database and violation appeals (issue 22), on real PostgreSQL.

- The seed holds the real holidays and 调休; a clock started through the service crosses them.
- A year nobody entered is reported (the admin page warns); HQ admin enters its days and confirms it.
- A violation appealed and accepted stays on record and in the history, is exempt from the
  tracker's ranking (live and kept counts) and counted as exempted; a rejected one still counts.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from dashboard.services.clocks.appeals import (
    decide_appeal, exempted_count, file_appeal, my_violations, pending_appeals,
)
from dashboard.services.clocks.calendar import (
    calendar_days, calendar_years, confirm_year, load_calendar, set_calendar_day, unknown_years,
)
from dashboard.services.clocks.deadlines import start_deadline
from dashboard.services.clocks.overdue import OverdueFilters, tracker_summary, violations_by_branch_and_kind
from dashboard.services.errors import NotFound, PermissionDenied, StaleWrite, UserError, ValidationFailed
from dashboard.services.figures.overview import (
    Drill, OverviewFilter, headline_figures, overview_drill_rows, overview_figures,
)
from dashboard.settings import BUSINESS_TZ
from db.models import CaseEvent, Notification, Person, Violation, WorkCalendarDay
from tests.factories import make_case, make_violation

NOW = datetime(2026, 12, 4, 2, 0, tzinfo=timezone.utc)  # Friday 10:00 in Shanghai


def sh(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BUSINESS_TZ)


def test_the_seed_holds_the_real_holidays_and_make_up_days(session, org):
    calendar = load_calendar(session, sh(2026, 10, 1, 12, 0))
    assert not calendar.is_working_day(date(2026, 10, 1)) and calendar.names[date(2026, 10, 1)] == "国庆节"
    assert calendar.is_working_day(date(2026, 10, 10)) and calendar.names[date(2026, 10, 10)] == "国庆节调休"
    assert calendar.is_known(date(2026, 1, 1)) and not calendar.is_known(date(2027, 1, 1))


def test_a_d4_clock_started_before_national_day_is_due_after_it(session, org):
    case = make_case(session, org, "gz")
    clock = start_deadline(session, kind="D4", subject_key=f"case:{case.id}:initial_review",
                           started_at=sh(2026, 9, 30, 16, 0), responsible_person_id=None, case_id=case.id,
                           branch_id=case.branch_id)
    # Wednesday 30 Sep; 1–7 Oct are off (国庆节); Thursday 8 Oct is the next working day.
    assert clock.due_at == sh(2026, 10, 9, 0, 0)


def test_an_unentered_year_is_reported_until_hq_enters_and_confirms_it(session, org, actor_for):
    admin = actor_for("admin")
    today = date(2026, 12, 4)
    assert unknown_years(session, admin, today) == [2027]
    statuses = {s.year: s for s in calendar_years(session, admin, today)}
    assert statuses[2026].known and statuses[2026].source == "seed" and statuses[2026].holidays > 20

    with pytest.raises(ValidationFailed) as refused:
        set_calendar_day(session, admin, "2027-13-01", False, "", now=NOW)
    assert {e.field for e in refused.value.errors} == {"calendar.calendar_day", "calendar.calendar_name"}
    with pytest.raises(ValidationFailed) as refused:
        set_calendar_day(session, admin, "2027-01-01", False, " ", now=NOW)
    assert [e.key for e in refused.value.errors] == ["cases.error.required"]  # a holiday needs its name
    with pytest.raises(ValidationFailed):
        set_calendar_day(session, admin, "2031-01-01", False, "元旦", now=NOW)  # too far ahead
    assert session.scalar(select(func.count()).select_from(WorkCalendarDay)
                          .where(WorkCalendarDay.day >= date(2027, 1, 1))) == 0  # nothing half-written

    with pytest.raises(UserError) as empty:  # a year is not confirmed before its holidays are in
        confirm_year(session, admin, 2027, now=NOW)
    assert empty.value.key == "calendar.error.confirm_empty"

    set_calendar_day(session, admin, "2027-01-01", False, "元旦", now=NOW)
    set_calendar_day(session, admin, date(2027, 2, 7), True, "春节调休", now=NOW)  # a Sunday worked
    set_calendar_day(session, admin, "2027-01-04", False, "误录", now=NOW)
    set_calendar_day(session, admin, "2027-01-04", None, "", now=NOW)  # back to a plain Monday
    assert [(d.day, d.working, d.name, d.source) for d in calendar_days(session, admin, 2027)] == [
        (date(2027, 1, 1), False, "元旦", "admin"), (date(2027, 2, 7), True, "春节调休", "admin")]
    calendar = load_calendar(session, sh(2027, 1, 1, 9, 0))
    assert not calendar.is_working_day(date(2027, 1, 1)) and calendar.is_working_day(date(2027, 2, 7))
    assert unknown_years(session, admin, today) == [2027]  # entered, not yet confirmed
    confirm_year(session, admin, 2027, now=NOW)
    assert unknown_years(session, admin, today) == []
    history = session.scalars(select(CaseEvent.kind).where(CaseEvent.kind.like("calendar_%"))).all()
    assert history.count("calendar_day_set") == 4 and history.count("calendar_year_confirmed") == 1
    with pytest.raises(PermissionDenied):
        set_calendar_day(session, actor_for("reviewer"), "2027-01-02", False, "元旦", now=NOW)


def _violation(session, org) -> Violation:
    return make_violation(session, org, NOW, tier="T1")  # tiered: the overview counts tiered cases


def _ranking(session, actor) -> dict[tuple[str, str], int]:
    return {(branch, kind): n for branch, kind, n in violations_by_branch_and_kind(session, actor, OverdueFilters())}


def test_an_accepted_appeal_exempts_the_violation_but_keeps_it_on_record(session, org, actor_for):
    first, second = _violation(session, org), _violation(session, org)
    surveyor, admin = actor_for("gz_surveyor1"), actor_for("admin")
    branch = org.branch("gd").name
    assert _ranking(session, admin)[(branch, "D1")] == 2

    total, mine = my_violations(session, surveyor)
    assert total == 2 and {v.violation_id for v in mine} == {first.id, second.id}
    with pytest.raises(ValidationFailed) as refused:
        file_appeal(session, surveyor, first.id, "  ", "工单 OPS-1", now=NOW)
    assert [e.field for e in refused.value.errors] == ["appeals.reason"]
    with pytest.raises(NotFound):  # someone else's violation is not theirs to appeal
        file_appeal(session, actor_for("gz_surveyor2"), first.id, "系统故障", None, now=NOW)
    appeal_id = file_appeal(session, surveyor, first.id, "核心系统故障，无法上传", "运维工单 OPS-1234", now=NOW)
    with pytest.raises(UserError) as again:
        file_appeal(session, surveyor, first.id, "再次申诉", None, now=NOW)
    assert again.value.key == "appeals.error.already_appealed"
    rejected_id = file_appeal(session, surveyor, second.id, "案件转交途中", None, now=NOW)
    told = session.scalars(select(Notification.recipient_person_id).where(Notification.kind == "appeal_filed")).all()
    assert org.person("admin") in told

    waiting, pending = pending_appeals(session, admin)
    assert waiting == 2 and pending[0].reason == "核心系统故障，无法上传"
    with pytest.raises(PermissionDenied):
        decide_appeal(session, surveyor, appeal_id, True, "自批", expected_version=1, now=NOW)
    with pytest.raises(ValidationFailed):
        decide_appeal(session, admin, appeal_id, True, "", expected_version=1, now=NOW)  # a comment is required
    assert decide_appeal(session, admin, appeal_id, True, "故障属实，予以豁免", expected_version=1, now=NOW) == "accepted"
    with pytest.raises(StaleWrite):  # a second admin's screen drawn before the decision
        decide_appeal(session, admin, appeal_id, False, "驳回", expected_version=1, now=NOW)
    assert decide_appeal(session, admin, rejected_id, False, "转交不影响上传", expected_version=1, now=NOW) == "rejected"

    # The history: both violations still recorded, the appeal and its decision written beside them.
    assert session.scalar(select(func.count()).select_from(Violation).where(
        Violation.id.in_([first.id, second.id]))) == 2
    kinds = session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == first.case_id)).all()
    assert "violation_appealed" in kinds and "violation_appeal_decided" in kinds
    # The ranking counts only the non-exempt one, live and from the kept counts; the exempted are counted.
    assert _ranking(session, admin)[(branch, "D1")] == 1
    assert _ranking(session, actor_for("gd_manager"))[(branch, "D1")] == 1  # a branch's live count
    assert exempted_count(session, admin) == 1
    # Within each reader's scope, without a branch asked for (the appeal's row policy) or with one.
    assert exempted_count(session, actor_for("gd_manager")) == 1
    assert exempted_count(session, actor_for("zj_manager")) == 0  # another branch's appeal is not counted
    assert exempted_count(session, admin, branch_id=org.branch("zj").id) == 0
    assert exempted_count(session, admin, branch_id=org.branch("gd").id) == 1
    # The tracker reads the same count inside its one summary statement, in each reader's scope.
    for username, exempted in (("admin", 1), ("gd_manager", 1), ("zj_manager", 0)):
        assert tracker_summary(session, actor_for(username), OverdueFilters(), now=NOW).exempted == exempted
    # The overview's headline (case_figures) and its list of D1 violations agree, without the exempt one.
    executive = actor_for("executive")
    headline = headline_figures(session, executive, OverviewFilter(), now=NOW)
    assert headline.violations_by_type.get("D1") == 1
    # The weekly trend reads the violations themselves (a hash of accepted appeals): the same one.
    trend = overview_figures(session, executive, OverviewFilter(), now=NOW).violations_by_week
    assert sum(w["violations"] for w in trend if w["kind"] == "D1") == 1
    drill = Drill("violations", "D1")
    total, rows = overview_drill_rows(session, executive, OverviewFilter(), drill, limit=50, now=NOW)
    assert total == 1 and len(rows) == 1
    states = {v.violation_id: v.appeal_status for v in my_violations(session, surveyor)[1]}
    assert states == {first.id: "accepted", second.id: "rejected"}
    told = session.scalars(select(Notification.body).where(Notification.kind == "appeal_decided",
                                                           Notification.recipient_person_id ==
                                                           org.person("gz_surveyor1"))).all()
    assert len(told) == 2 and any("已通过" in body for body in told)


def test_a_surveyor_charged_for_two_peoples_reports_sees_whose_each_was(session, org, actor_for):
    """第三章 五: the surveyor who uploads a first responsible's report late is charged too. A case
    dispatched to two people gave the surveyor two D3 violations alike in every column shown."""
    from datetime import timedelta

    from dashboard.services.clocks.violations import record_violations
    from db.models import Deadline

    case = make_case(session, org, "gz")
    for person in ("gz_claims", "gz_head"):
        session.add(Deadline(case_id=case.id, branch_id=case.branch_id, kind="D3", subject_key=f"test:{person}",
                             responsible_person_id=org.person(person), also_charged_person_id=org.person("gz_surveyor1"),
                             started_at=NOW - timedelta(hours=80), due_at=NOW - timedelta(hours=8)))
    session.commit()
    record_violations(session, NOW)
    session.commit()
    names = dict(session.execute(select(Person.id, Person.full_name)).tuples().all())
    _, mine = my_violations(session, actor_for("gz_surveyor1"))
    assert sorted(v.also_for for v in mine) == sorted(names[org.person(p)] for p in ("gz_claims", "gz_head"))
    _, own = my_violations(session, actor_for("gz_claims"))
    assert [v.also_for for v in own] == [None]  # their own clock
    appeal_id = file_appeal(session, actor_for("gz_surveyor1"), mine[0].violation_id, "报告由第一责任人延迟提交", None,
                            now=NOW)
    [pending] = pending_appeals(session, actor_for("admin"))[1]
    assert (pending.appeal_id, pending.also_for) == (appeal_id, mine[0].also_for)
