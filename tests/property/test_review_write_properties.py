"""The HQ review loop's typed texts end to end, against PostgreSQL (issue 18, "Bad input"): an
opinion, a branch's answer, a reviewer's verdict and reason, a supervision opinion and a progress
note are written whole or refused with a Chinese message; never a driver's error (a NUL in a
point, an answer or a reason passed the checks and PostgreSQL refused it).

Examples share the test's database (one function-scoped fixture for all): each posts an opinion of
its own on the tiered case and compares row counts before and after each step.
"""
from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st
from sqlalchemy import func, select

from dashboard.rules.review import split_points
from dashboard.services.errors import UserError, ValidationFailed
from dashboard.services.review.opinions import answer_points, decide_point, post_review_opinion
from db.models import Opinion, OpinionPoint, PointAnswer, PointVerdict
from tests.factories import T0
from tests.property.strategies import chinese_message, hostile_text, long_text
from tests.review_support import tiered_case

_rounds = itertools.count(1)
review_text = st.one_of(hostile_text, long_text, st.sampled_from(("已处理", "收到，已落实", "调取监控三段，追尾属实")))


def counts(session) -> tuple[int, ...]:
    return tuple(session.scalar(select(func.count()).select_from(model))
                 for model in (Opinion, OpinionPoint, PointAnswer, PointVerdict))


def refused_in_words(err: UserError) -> None:
    for error in (err.errors if isinstance(err, ValidationFailed) else [err]):
        chinese_message(error.key, error.params)


@pytest.fixture
def review_case(session, org, actor_for):
    return tiered_case(session, org).id, actor_for("reviewer"), actor_for("gd_manager")


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(review_text, review_text, st.sampled_from(("accepted", "sent_back", "???")), st.one_of(st.none(), review_text))
@example("核实驾驶员\x00身份", "", "accepted", None)
@example("核实驾驶员身份", "已电话\x00核实", "accepted", None)
@example("核实驾驶员身份", "已电话核实驾驶员为被保险人之子", "accepted", "好\x00")
def test_each_step_of_a_review_is_written_whole_or_refused_in_words(session, review_case, opinion_text, answer,
                                                                    verdict, reason):
    case_id, reviewer, manager = review_case
    at = T0 + timedelta(hours=1, seconds=next(_rounds))
    before = counts(session)
    try:  # the opinion: the same points as typed, or nothing
        opinion_id = post_review_opinion(session, reviewer, case_id, split_points(opinion_text), now=at)
    except UserError as err:
        refused_in_words(err)
        assert counts(session) == before
        opinion_id = post_review_opinion(session, reviewer, case_id, [f"核实损失范围 {at:%H%M%S}"], now=at)
    else:
        assert counts(session)[:2] == (before[0] + 1, before[1] + len(split_points(opinion_text)))
    point = session.scalars(select(OpinionPoint).where(OpinionPoint.opinion_id == opinion_id)
                            .order_by(OpinionPoint.seq)).first()

    before = counts(session)
    try:  # the branch's answer to the first point
        answer_points(session, manager, {point.id: answer}, now=at)
    except UserError as err:
        refused_in_words(err)
        assert counts(session) == before
        return
    assert counts(session)[2] == before[2] + 1

    before = counts(session)
    try:  # HQ's verdict, with or without a reason
        decide_point(session, reviewer, point.id, verdict, reason, now=at)
    except UserError as err:
        refused_in_words(err)
        assert counts(session) == before
        return
    assert counts(session)[3] == before[3] + 1
