"""The case timeline says who acted (issue 27) and which review point a D5 line is for (issue 26),
read through the case detail service and the page's sentence builder on a real PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest

from dashboard.i18n import set_language
from dashboard.services.cases.detail import case_detail
from dashboard.services.review.opinions import answer_points, post_review_opinion
from dashboard.services.evidence.uploads import record_upload
from dashboard.services.clocks.violations import record_violations
from dashboard.ui.case_timeline import describe, who
from db.models import OpinionPoint, Person
from tests import sample_files
from tests.factories import T0
from tests.review_support import tiered_case


@pytest.fixture(autouse=True)
def _chinese_and_evidence_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("EVIDENCE_DIR", str(tmp_path / "evidence"))
    set_language("zh")


def _lines(session, actor, case_id):
    detail = case_detail(session, actor, case_id, now=T0 + timedelta(days=10))
    return [(who(e)[0], describe(e), e) for e in detail.timeline]


def _name(session, username):
    return session.query(Person).filter_by(username=username).one().full_name


def test_the_surveyors_photo_for_the_first_responsible_says_who_uploaded_it_and_for_whom(session, org, actor_for):
    case = tiered_case(session, org, "gz")
    surveyor, head = _name(session, "gz_surveyor1"), _name(session, "gz_claims")
    record_upload(session, actor_for("gz_surveyor1"), case.id, "person_vehicle_photo", "合影.jpg", sample_files.jpeg(),
                  on_behalf_of_person_id=org.person("gz_claims"), now=T0 + timedelta(hours=5))
    lines = _lines(session, actor_for("reviewer"), case.id)
    arrival = [(name, text) for name, text, e in lines if e.kind == "arrival"]
    assert arrival == [(surveyor, f"{head} 到达现场（以人车合影为证，由 {surveyor} 代为上传）")]
    upload = [(name, text) for name, text, e in lines if e.kind == "upload"]
    assert upload == [(surveyor, f"上传资料：人车合影（合影.jpg），代 {head} 上传")]


def test_the_first_responsibles_own_photo_is_their_arrival(session, org, actor_for):
    case = tiered_case(session, org, "gz")
    head = _name(session, "gz_claims")
    record_upload(session, actor_for("gz_claims"), case.id, "person_vehicle_photo", "合影.jpg", sample_files.jpeg(),
                  now=T0 + timedelta(hours=5))
    (line,) = [(name, text) for name, text, e in _lines(session, actor_for("reviewer"), case.id) if e.kind == "arrival"]
    assert line == (head, f"{head} 到达现场（以本人上传的人车合影为证）")


def test_each_d5_line_names_its_review_point(session, org, actor_for):
    case = tiered_case(session, org, "gz")
    posted = T0 + timedelta(hours=3)
    opinion_id = post_review_opinion(session, actor_for("reviewer"), case.id, ["核实驾驶员", "调取监控", "核对报价"],
                                     now=posted)
    points = session.query(OpinionPoint).filter_by(opinion_id=opinion_id).order_by(OpinionPoint.seq).all()
    answer_points(session, actor_for("gd_manager"), {points[0].id: "已电话联系被保险人，确认驾驶员为其本人。"}, now=posted + timedelta(hours=5))
    record_violations(session, posted + timedelta(hours=49))
    session.commit()
    lines = _lines(session, actor_for("reviewer"), case.id)
    met = [text for _, text, e in lines if e.kind == "deadline_met" and e.details.get("deadline") == "D5"]
    missed = sorted(text for _, text, e in lines if e.kind == "violation" and e.details.get("deadline") == "D5")
    assert len(met) == 1 and "（第 1 条意见）" in met[0]
    assert len(missed) == 2 and "（第 2 条意见）" in missed[0] and "（第 3 条意见）" in missed[1]
