"""The deadline demo rows: uploads through the service, a mix of on time, late and missing."""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, select

from dashboard import clock
from dashboard.services.dispatching.dispatch import record_estimate
from dashboard.demo import deadlines as demo_deadlines
from db.models import Deadline, Upload, Violation
from tests.factories import make_case


def test_demo_material_gives_the_tracker_a_mix_of_met_late_and_missing(session, org, actor_for):
    now = clock.now()
    call = actor_for("callcenter")
    rng = random.Random(3)
    for n in range(40):
        sub = rng.choice(["gz", "sz", "hz", "nj", "cd"])
        at = now - timedelta(hours=rng.uniform(1, 24 * 10))
        case = make_case(session, org, sub, report_time=at - timedelta(hours=1), accident_time=at - timedelta(hours=2))
        record_estimate(session, call, case.id, rng.choice([80000, 300000, 700000]), now=at)
    demo_deadlines.populate(session, org, random.Random(1), now)
    session.expire_all()
    met_on_time = session.scalar(select(func.count()).select_from(Deadline).where(Deadline.met_at <= Deadline.due_at))
    met_late = session.scalar(select(func.count()).select_from(Deadline).where(Deadline.met_at > Deadline.due_at))
    missing = session.scalar(select(func.count()).select_from(Deadline)
                             .where(Deadline.met_at.is_(None), Deadline.due_at < now))
    assert met_on_time > met_late > 0 and missing > 0
    assert session.scalar(select(func.count()).select_from(Upload)) > 0
    also = session.scalar(select(func.count()).select_from(Violation).where(Violation.charge == "also_charged"))
    assert also > 0  # late surveyor uploads charged both (第三章 五)
    flagged = session.scalar(select(func.count(func.distinct(Violation.deadline_id))))
    assert flagged == met_late + missing
