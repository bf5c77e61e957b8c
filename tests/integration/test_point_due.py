"""A review point keeps the due time of its newest answer round (migration 0049): written by the
database as each D5 clock is started, whoever starts it, and by the upgrade for the clocks
already there. The branch inbox sorts its waiting points by it."""
from __future__ import annotations

from datetime import timedelta

from alembic import command
from sqlalchemy import select, text

from dashboard.rules.deadlines import point_subject
from dashboard.services.review.opinions import answer_points, decide_point, post_review_opinion
from db.models import OpinionPoint
from db.schema import alembic_config
from tests.factories import T0
from tests.review_support import tiered_case


def _kept(conn) -> dict[int, tuple]:
    return {pid: (due, rnd) for pid, due, rnd in conn.execute(text("SELECT id, due_at, due_round FROM opinion_point"))}


def _clocks(conn) -> dict[int, tuple]:
    """Each point's newest round's clock, read from the clocks themselves."""
    newest: dict[int, tuple] = {}
    for subject, due in conn.execute(text("SELECT subject_key, due_at FROM deadline WHERE kind = 'D5'")):
        _, pid, _, rnd = subject.split(":")
        if int(pid) not in newest or newest[int(pid)][1] < int(rnd):
            newest[int(pid)] = (due, int(rnd))
    return newest


def test_a_point_keeps_its_rounds_due_time_as_clocks_start_and_the_upgrade_writes_the_existing_ones(
        db_url, session, org, actor_for, owner):
    reviewer, manager = actor_for("reviewer"), actor_for("gd_manager")
    case = tiered_case(session, org, "gz")
    opinion = post_review_opinion(session, reviewer, case.id, ["核实驾驶证", "调取监控"], now=T0)
    first, second = session.scalars(select(OpinionPoint).where(OpinionPoint.opinion_id == opinion)
                                    .order_by(OpinionPoint.seq)).all()
    session.commit()
    assert (first.due_at, first.due_round) == (T0 + timedelta(hours=48), 1)
    answer_points(session, manager, {first.id: "驾驶证真实有效。"}, now=T0 + timedelta(hours=2))
    decide_point(session, reviewer, first.id, "sent_back", "请补充照片", now=T0 + timedelta(hours=5))
    session.commit()
    session.expire_all()
    assert (first.due_at, first.due_round) == (T0 + timedelta(hours=53), 2)  # the new round's clock
    assert (second.due_at, second.due_round) == (T0 + timedelta(hours=48), 1)

    # An older round's clock inserted late (an import, a data fix) leaves the newer round's due time.
    with owner.begin() as conn:
        conn.execute(text("UPDATE deadline SET due_at = due_at + interval '1 hour' WHERE subject_key = :s"),
                     {"s": point_subject(first.id, 1)})
        assert _kept(conn)[first.id] == (T0 + timedelta(hours=53), 2)
        conn.execute(text("UPDATE deadline SET due_at = due_at + interval '2 hours' WHERE subject_key = :s"),
                     {"s": point_subject(first.id, 2)})  # a data fix of the current round's clock
        assert _kept(conn)[first.id] == (T0 + timedelta(hours=55), 2)
        kept = _kept(conn)
        assert kept == {pid: _clocks(conn).get(pid, (None, None)) for pid in kept}

    session.close()
    command.downgrade(alembic_config(db_url), "0048")
    command.upgrade(alembic_config(db_url), "head")
    with owner.begin() as conn:
        assert _kept(conn) == kept  # written again from the clocks by the upgrade
        assert kept[first.id] == (T0 + timedelta(hours=55), 2)

