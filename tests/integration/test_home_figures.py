"""Landing-page figures: counted within the person's scope, pending and tiered-pending apart."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from dashboard.services.figures.home import home_figures
from tests.factories import make_case


def _book(session, org) -> None:
    make_case(session, org, "gz", state="closed", tier="T1", current_estimate=Decimal("80000"))
    make_case(session, org, "gz", state="surveyed", current_estimate=Decimal("3000"))
    make_case(session, org, "gz", state="dispatched", tier="T2", current_estimate=Decimal("200000"))
    make_case(session, org, "sz", state="investigating", tier="T1", current_estimate=Decimal("60000.50"))
    make_case(session, org, "hz", state="dispatched", tier="T3", current_estimate=Decimal("700000"))


def test_national_figures_count_every_case_and_only_pending_tiered_amounts(session, org, actor_for):
    _book(session, org)
    figures = home_figures(session, actor_for("executive"))
    assert (figures.cases_visible, figures.pending, figures.pending_tiered) == (5, 4, 3)
    assert figures.pending_tiered_amount == Decimal("960000.50")


def test_branch_figures_leave_out_other_branches_cases(session, org, actor_for):
    _book(session, org)
    figures = home_figures(session, actor_for("gd_manager"))
    assert (figures.cases_visible, figures.pending, figures.pending_tiered) == (4, 3, 2)
    assert figures.pending_tiered_amount == Decimal("260000.50")


def test_my_open_tasks_lists_the_persons_own_clocks_most_urgent_first(session, org, actor_for):
    from dashboard.services.dispatching.dispatch import record_contact_attempt, record_estimate
    from dashboard.services.figures.home import my_open_tasks
    from tests.factories import T0, make_case

    cc = actor_for("callcenter")
    early = make_case(session, org, "gz")
    late = make_case(session, org, "gz")
    first = record_estimate(session, cc, early.id, "86000", now=T0)
    record_estimate(session, cc, late.id, "90000", now=T0 + timedelta(hours=3))

    total, tasks = my_open_tasks(session, actor_for("gz_claims"))
    assert total == 4
    assert [(task.case_no, task.kind) for task in tasks] == [
        (early.case_no, "D2"), (late.case_no, "D2"), (early.case_no, "D3"), (late.case_no, "D3")]
    surveyor_total, surveyor_tasks = my_open_tasks(session, actor_for("gz_surveyor1"))
    assert surveyor_total == 2 and {task.kind for task in surveyor_tasks} == {"D1"}
    assert my_open_tasks(session, actor_for("hz_claims"))[0] == 0
    # The count is of every open clock, not of the page shown.
    total, tasks = my_open_tasks(session, actor_for("gz_claims"), limit=3)
    assert total == 4 and len(tasks) == 3

    # a named delegate sees the clocks they now go for
    delegate = org.sub_branch("gz").surveyors[1]
    record_contact_attempt(session, cc, first.dispatched[0].dispatch_id, "unavailable", reason_code="meeting",
                           delegate_person_id=delegate, now=T0)
    delegate_actor = actor_for("gz_surveyor2")
    assert delegate_actor.person_id == delegate
    assert {(task.case_no, task.kind) for task in my_open_tasks(session, delegate_actor)[1]} == {
        (early.case_no, "D2"), (early.case_no, "D3")}


def test_a_branch_heads_review_point_clocks_say_which_point_and_which_answer_round(session, org, actor_for):
    """Four open points on one case are four D5 clocks: each names its point (else the landing
    table shows the same case and deadline type four times)."""
    from sqlalchemy import select

    from dashboard.services.figures.home import my_open_tasks
    from dashboard.services.review.opinions import answer_points, decide_point, post_review_opinion
    from db.models import OpinionPoint
    from tests.review_support import tiered_case

    case = tiered_case(session, org, "gz")
    opinion = post_review_opinion(session, actor_for("reviewer"), case.id, ["核实损失", "补充照片", "说明估损"],
                                  now=_hours_after_t0(1))
    points = session.scalars(select(OpinionPoint).where(OpinionPoint.opinion_id == opinion)
                             .order_by(OpinionPoint.seq)).all()
    manager = actor_for("gd_manager")
    answer_points(session, manager, {points[1].id: "已补充"}, now=_hours_after_t0(2))
    decide_point(session, actor_for("reviewer"), points[1].id, "sent_back", "照片不清晰", now=_hours_after_t0(3))
    session.commit()
    d5 = [task for task in my_open_tasks(session, manager)[1] if task.kind == "D5"]
    assert sorted((task.point_seq, task.answer_round) for task in d5) == [(1, 1), (2, 2), (3, 1)]
    assert {task.case_no for task in d5} == {case.case_no}
    assert all(task.point_seq is None for task in my_open_tasks(session, manager)[1] if task.kind != "D5")


def _hours_after_t0(hours: int):
    from tests.factories import T0

    return T0 + timedelta(hours=hours)


def test_every_persons_open_clocks_share_one_prepared_statement(session, org, actor_for):
    """The landing page's own clocks bind the person at execution: one prepared statement on a
    connection however many people sign in, where one per person piled up (and churned the
    connection's bound of prepared statements)."""
    from sqlalchemy import text

    from dashboard.services.figures.home import my_open_tasks

    def prepared() -> set[str]:
        return set(session.execute(text("SELECT name FROM pg_prepared_statements WHERE statement ILIKE "
                                        "'%FROM deadline%'")).scalars())
    before = prepared()
    for username in ("gz_claims", "gz_surveyor1", "hz_claims", "gd_manager"):
        my_open_tasks(session, actor_for(username))
    assert len(prepared() - before) == 1
