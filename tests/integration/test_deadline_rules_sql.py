"""The deadline rules that run are the rules that are tested (issue 17).

rules/deadlines.py states each rule twice: in Python for one clock, and as the SQL the tracker,
the overview and the violation job run. Here both are evaluated on real PostgreSQL over the same
clocks — at every boundary (met exactly at the due time, a microsecond after, due exactly at the
end of the due-soon window, exactly 24/72/168 hours overdue) — and must agree. Then the services
themselves: the violation job flags exactly the clocks `is_violation` names, and the tracker lists
each clock with the status `deadline_status` gives it."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import DateTime, bindparam, select, text

from dashboard.rules.deadlines import (
    OVERDUE_AGE_BUCKETS, STATUS_RANK, deadline_status, hours_late, is_violation, overdue_age_bucket,
    sql_deadline_status, sql_decided, sql_hours_late, sql_is_violation, sql_on_time, sql_overdue_age_bucket,
    sql_status_is, sql_status_rank,
)
from dashboard.services.clocks.overdue import OverdueFilters, overdue_export
from dashboard.services.clocks.violations import record_violations
from db.models import Deadline, Violation
from tests.factories import make_case

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=timezone.utc)
SOON_HOURS = 24
US, H = timedelta(microseconds=1), timedelta(hours=1)
# (due, met) pairs around every boundary the rules draw.
OFFSETS = [-200 * H, -168 * H - US, -168 * H, -72 * H - US, -72 * H, -24 * H - US, -24 * H, -H, -US, 0 * H, US, H,
           24 * H - US, 24 * H, 24 * H + US, 30 * H]
CLOCKS = [(NOW + due, None) for due in OFFSETS] + \
         [(NOW + due, NOW + due + met) for due in (-30 * H, -US, 0 * H, 5 * H) for met in (-H, -US, 0 * H, US, H)
          if NOW + due + met <= NOW]

TS = DateTime(timezone=True)


def _sql_values(session, due, met):
    d, m = bindparam("due", due, type_=TS), bindparam("met", met, type_=TS)
    now, soon = bindparam("now", NOW, type_=TS), bindparam("soon", NOW + timedelta(hours=SOON_HOURS), type_=TS)
    statuses = {s: sql_status_is(s, d, m, now, soon) for s in STATUS_RANK}
    row = session.execute(select(sql_is_violation(d, m, now), sql_deadline_status(d, m, now, soon),
                                 sql_status_rank(d, m, now), sql_hours_late(d, m, now), sql_decided(d, m, now),
                                 sql_on_time(d, m), sql_overdue_age_bucket(d, now), *statuses.values())).one()
    return row[:7], dict(zip(statuses, row[7:]))


@pytest.mark.parametrize("due,met", CLOCKS, ids=lambda v: "-" if v is None else v.strftime("%m%d-%H%M%S.%f"))
def test_sql_and_python_agree_on_every_clock(session, due, met):
    (violation, status, rank, late, decided, on_time, bucket), conditions = _sql_values(session, due, met)
    python_status = deadline_status(due, met, NOW, SOON_HOURS)
    assert violation is is_violation(due, met, NOW)
    assert status == python_status
    assert rank == STATUS_RANK[python_status]
    assert late == pytest.approx(hours_late(due, met, NOW), abs=1e-9)
    assert decided is (met is not None or NOW > due)
    assert on_time is (met is not None and met <= due)
    # Each status condition holds for exactly the status the rule gives.
    assert [s for s, holds in conditions.items() if holds] == [python_status]
    if python_status == "overdue":
        assert bucket == overdue_age_bucket(hours_late(due, met, NOW))


def test_the_boundaries_are_the_ones_the_rules_state():
    """Met exactly at the due time is on time, a microsecond later is late; exactly 24 h overdue is
    still under a day; due exactly at the end of the window is due soon."""
    assert not is_violation(NOW, NOW, NOW) and is_violation(NOW, NOW + US, NOW + H)
    assert not is_violation(NOW, None, NOW) and is_violation(NOW - US, None, NOW)
    assert overdue_age_bucket(24) == "lt1d" and overdue_age_bucket(24.0001) == "1to3d"
    assert deadline_status(NOW + 24 * H, None, NOW, 24) == "due_soon"
    assert deadline_status(NOW + 24 * H + US, None, NOW, 24) == "open"
    assert [key for key, _low, _high in OVERDUE_AGE_BUCKETS] == ["lt1d", "1to3d", "3to7d", "gt7d"]


def test_the_job_and_the_tracker_run_the_same_rules(session, org, actor_for):
    """Each clock on a case of its own, then the services: the job flags the clocks is_violation
    names, once; the tracker lists overdue, due-soon and met-late clocks with deadline_status's word."""
    person = org.person("gz_claims")
    clocks = []
    for n, (due, met) in enumerate(CLOCKS):
        case = make_case(session, org, "gz", commit=False)
        clock = Deadline(case_id=case.id, branch_id=case.branch_id, kind="D2", subject_key=f"rule-agreement:{n}", responsible_person_id=person,
                         started_at=due - 24 * H, due_at=due, met_at=met)
        session.add(clock)
        clocks.append(clock)
    session.flush()
    record_violations(session, NOW)
    session.commit()
    flagged = set(session.scalars(select(Violation.deadline_id)))
    assert flagged == {c.id for c in clocks if is_violation(c.due_at, c.met_at, NOW)}
    listed = {row.deadline_id: row.status for row in overdue_export(session, actor_for("admin"), OverdueFilters(),
                                                                    now=NOW)}
    expected = {c.id: deadline_status(c.due_at, c.met_at, NOW, SOON_HOURS) for c in clocks}
    assert listed == {i: s for i, s in expected.items() if s in ("overdue", "due_soon", "met_late")}

    # The counts the database keeps by trigger (case_figures, late_count; migrations 0019/0020) state
    # the on-time and met-late rules a third time, in PL/pgSQL: they agree with the rule too.
    from sqlalchemy import func as func_

    from db.models import CaseFigures, LateCount

    kept = {row.case_id: (row.d2_clocks, row.d2_met, row.d2_on_time)
            for row in session.execute(select(CaseFigures.case_id, CaseFigures.d2_clocks, CaseFigures.d2_met,
                                              CaseFigures.d2_on_time))}
    for c in clocks:
        met = c.met_at is not None
        assert kept[c.case_id] == (1, int(met), int(met and not is_violation(c.due_at, c.met_at, NOW))), c.due_at
    met_late = session.scalar(select(func_.coalesce(func_.sum(LateCount.clocks_met_late), 0))
                              .where(LateCount.kind == "D2"))
    assert met_late == sum(1 for c in clocks if c.met_at is not None and is_violation(c.due_at, c.met_at, NOW))


def test_each_clocks_subject_key_is_written_alike_in_python_and_sql(session):
    """The services find a clock by its subject in SQL (the review queue's D4, the D7 of a supervision
    opinion, a point's current D5): the SQL form must write what the Python form wrote at its start."""
    import re
    from datetime import date

    from sqlalchemy import literal

    from dashboard.rules.deadlines import (
        D5_SUBJECT_FORMAT, dispatch_subject, initial_review_subject, point_subject, sql_d5_part, sql_dispatch_subject,
        sql_initial_review_subject, sql_point_subject, sql_supervision_subject, supervision_subject, survey_subject,
        weekly_subject,
    )

    sql = session.execute(select(sql_initial_review_subject(literal(7)), sql_supervision_subject(literal(9)),
                                 sql_point_subject(literal(12), literal(1)), sql_dispatch_subject(literal(5)))).one()
    assert tuple(sql) == (initial_review_subject(7), supervision_subject(9), point_subject(12, 2), dispatch_subject(5))
    # The D5 parts: the point and the round of a D5 clock's subject, NULL (never an error) otherwise.
    parts = [tuple(session.execute(select(sql_d5_part(literal(kind), literal(subject), 2),
                                          sql_d5_part(literal(kind), literal(subject), 4))).one())
             for kind, subject in (("D5", point_subject(12, 3)), ("D4", point_subject(12, 3)),
                                   ("D5", "point:x:round:1"), ("D5", "point:99999999999:round:1"),
                                   ("D5", initial_review_subject(7)))]
    assert parts == [(12, 3), (None, None), (None, None), (None, None), (None, None)]
    # LEAKPROOF where the migrating user could declare it (a superuser here): the planner may then
    # find a clock by these keys through its index under row-level security.
    assert set(session.scalars(text("SELECT proname FROM pg_proc WHERE proleakproof AND proname LIKE 'claims\\_%'"))) \
        == {"claims_subject", "claims_point_subject", "claims_d5_part"}
    assert re.match(D5_SUBJECT_FORMAT, point_subject(12, 2))
    keys = [survey_subject(1), dispatch_subject(1), initial_review_subject(1), point_subject(1, 1),
            weekly_subject(1, date(2026, 11, 23)), supervision_subject(1)]
    assert len(set(keys)) == len(keys) and not any(re.match(D5_SUBJECT_FORMAT, k) for k in keys if k != keys[3])
