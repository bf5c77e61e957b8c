"""The review demo rows: queue, opinions, answers (on time, late, open), send-backs, supervision and
weekly summaries, all through the services."""
from __future__ import annotations

import random
import time
from datetime import timedelta

from sqlalchemy import func, select

from dashboard import clock
from dashboard.services.dispatching.dispatch import record_estimate
from dashboard.demo import review as demo_review
from db.models import (
    Opinion, OpinionPoint, PointAnswer, PointVerdict, ProgressNote, ReviewQueueEntry, Violation, WeeklySummary,
)
from tests.factories import make_case


def _count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_demo_review_rows_give_every_page_a_realistic_mix(session, org, actor_for):
    now = clock.now()
    call = actor_for("callcenter")
    rng = random.Random(5)
    for _ in range(80):
        sub = rng.choice(["gz", "sz", "hz", "nb", "nj", "cd"])
        at = now - timedelta(hours=rng.uniform(2, 24 * 40))
        case = make_case(session, org, sub, report_time=at - timedelta(hours=1), accident_time=at - timedelta(hours=2))
        record_estimate(session, call, case.id, rng.choice([80000, 300000, 700000]), now=at)
    started = time.monotonic()
    demo_review.populate(session, org, random.Random(2), now)
    elapsed = time.monotonic() - started
    session.expire_all()
    queued = _count(session, ReviewQueueEntry)
    assert 70 <= queued <= 80  # cases tiered since last night's run wait for tonight's
    assert 0 < _count(session, ReviewQueueEntry, ReviewQueueEntry.reviewed_at.is_not(None)) < queued
    assert _count(session, Opinion, Opinion.kind == "supervision") > 0
    assert _count(session, PointAnswer, PointAnswer.late.is_(True)) > 0
    assert _count(session, PointAnswer, PointAnswer.late.is_(False)) > _count(session, PointAnswer,
                                                                             PointAnswer.late.is_(True))
    assert _count(session, PointVerdict, PointVerdict.verdict == "sent_back") > 0
    assert _count(session, OpinionPoint, OpinionPoint.status == "open") > 0
    assert _count(session, Opinion, Opinion.closed_at.is_not(None)) > 0
    assert _count(session, ProgressNote) > 0
    weekly = session.scalars(select(WeeklySummary)).all()
    assert len(weekly) == 10 * len(org.branches)  # 9 past weeks and this one
    on_time = [s for s in weekly if s.submitted_at and s.submitted_at <= s.due_at]
    late = [s for s in weekly if s.submitted_at and s.submitted_at > s.due_at]
    assert len(on_time) > len(late) > 0
    assert _count(session, Violation, Violation.kind.in_(["D4", "D5", "D6", "D7"])) > 0
    print(f"demo_review.populate: {elapsed:.1f} s for 80 cases")
    assert elapsed < 60, f"demo_review.populate took {elapsed:.1f} s for 80 cases"
