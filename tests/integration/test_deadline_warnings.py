"""Early warnings (issue 22): an open clock warns its responsible person at 50 % and at 80 % of its
time, once each — under reruns and two runs at the same moment — never after it is met or due,
and a run that finds it past both thresholds sends the later one only."""
from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from dashboard.services.admin.rule_settings import update_rule_settings
from dashboard.services.clocks.warnings import queue_warnings
from db.engine import JOB_ROLE, get_engine
from db.models import Deadline, Notification
from tests.factories import T0, make_case


def _clock(session, org, *, hours: int = 24, kind: str = "D1", person: str = "gz_surveyor1") -> Deadline:
    case = make_case(session, org, "gz")
    clock = Deadline(case_id=case.id, branch_id=case.branch_id, kind=kind, subject_key=f"test:{case.id}",
                     responsible_person_id=org.person(person), started_at=T0, due_at=T0 + timedelta(hours=hours))
    session.add(clock)
    session.commit()
    return clock


def _warnings(session) -> list[tuple[str, int, str]]:
    session.expire_all()
    return [(n.dedupe_key, n.recipient_person_id, n.body) for n in session.scalars(
        select(Notification).where(Notification.kind == "deadline_warning").order_by(Notification.id))]


def _run(session, hours: float) -> int:
    warned = queue_warnings(session, T0 + timedelta(hours=hours)).warned
    session.commit()
    return warned


def test_a_clock_warns_at_half_and_at_four_fifths_of_its_time_once_each(session, org):
    clock = _clock(session, org)
    assert _run(session, 11.9) == 0
    assert _run(session, 12) == 1
    assert _run(session, 12.5) == 0 and _run(session, 19) == 0
    assert _run(session, 19.2) == 1
    assert _run(session, 23.9) == 0
    sent = _warnings(session)
    assert [key for key, _, _ in sent] == [f"warn:{clock.id}:50:to:{org.person('gz_surveyor1')}",
                                           f"warn:{clock.id}:80:to:{org.person('gz_surveyor1')}"]
    assert "已用去50%的时限" in sent[0][2] and "2026-11-21 10:00" in sent[0][2]
    assert _run(session, 30) == 0  # due: the breach is the violation job's message


def test_a_clock_found_past_both_thresholds_sends_the_later_warning_only(session, org):
    clock = _clock(session, org)
    assert _run(session, 21) == 1
    assert _run(session, 22) == 0
    assert [key.split(":")[2] for key, _, _ in _warnings(session)] == ["80"]
    assert clock.id


def test_a_met_clock_warns_no_more_and_the_thresholds_are_configuration(session, org, actor_for):
    met = _clock(session, org)
    met.met_at = T0 + timedelta(hours=1)
    session.commit()
    update_rule_settings(session, actor_for("admin"), {"deadline.warn_first_pct": "25"})
    other = _clock(session, org, hours=8)
    assert _run(session, 2) == 1  # 25 % of 8 hours
    assert [key.split(":")[1:3] for key, _, _ in _warnings(session)] == [[str(other.id), "25"]]


def test_two_runs_at_the_same_moment_send_each_warning_once(session, org, db_url):
    clocks = [_clock(session, org) for _ in range(30)]
    engine = get_engine(db_url, role=JOB_ROLE)  # as the job connects
    barrier = threading.Barrier(2)
    counts: list[int] = []

    def run() -> None:
        with Session(engine) as own:
            own.execute(text("SELECT 1"))
            barrier.wait()
            counts.append(queue_warnings(own, T0 + timedelta(hours=13)).warned)
            own.commit()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == len(clocks)
    assert len(_warnings(session)) == len(clocks)
