"""Red / yellow / blue on real cases (issue 19): coloured at intake (form and import), recomputed
when an input changes with the change in the history, each case keeping its rule version; a red
case is not closed before its investigation report."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from dashboard.services.admin.risk_rules import publish_risk_rules, risk_rule_versions
from dashboard.services.cases.import_file import import_cases
from dashboard.services.cases.intake import register_case
from dashboard.services.cases.risk import update_risk_facts
from dashboard.services.cases.state import advance_state
from dashboard.services.errors import NotFound, PermissionDenied, StaleWrite, UserError, ValidationFailed
from dashboard.services.evidence.uploads import record_upload
from db.models import CaseEvent, ClaimCase
from tests.integration.test_case_import import csv_bytes, row
from tests.integration.test_intake import NOW, good_input
from tests.sample_files import pdf

BLUE_FACTS = dict(vehicle_damage="3000", property_damage="500", loss_ratio_pct="20", claim_count="1",
                  accident_handling="police")


def _case(session, case_id: int) -> ClaimCase:
    session.expire_all()
    return session.get(ClaimCase, case_id)


def _events(session, case_id: int, kind: str) -> list[CaseEvent]:
    return list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == kind)
                                .order_by(CaseEvent.id)))


def test_a_case_is_coloured_when_registered_and_the_registration_says_so(session, org, actor_for):
    blue = register_case(session, actor_for("callcenter"), good_input(**BLUE_FACTS), now=NOW)
    case = _case(session, blue.case_id)
    assert case.risk_colour == "blue" and "handled_at_scene" in case.risk_criteria
    assert case.risk_rule_set_id is not None
    registered = _events(session, case.id, "case_registered")[0]
    assert registered.payload["risk_colour"] == "blue"
    night = register_case(session, actor_for("callcenter"), good_input(
        case_no="RPT20261120002", accident_time="2026-11-20 02:30", report_time="2026-11-20 03:00"), now=NOW)
    assert _case(session, night.case_id).risk_colour == "red"
    assert _case(session, night.case_id).risk_criteria == ["night_accident"]
    unknown = register_case(session, actor_for("callcenter"), good_input(case_no="RPT20261120003"), now=NOW)
    assert _case(session, unknown.case_id).risk_colour == "yellow"  # nothing red, blue unproven
    other = register_case(session, actor_for("callcenter"), good_input(
        case_no="RPT20261120004", business_line="property", vehicle_use=None), now=NOW)
    assert _case(session, other.case_id).risk_colour is None  # only motor claims are coloured


def test_a_doubt_without_its_reason_is_refused_naming_the_field(session, org, actor_for):
    with pytest.raises(ValidationFailed) as refused:
        register_case(session, actor_for("callcenter"), good_input(surveyor_doubts=["old_damage"]), now=NOW)
    assert {e.field: e.key for e in refused.value.errors} == {"doubt_reason": "cases.error.doubt_reason_required"}
    assert session.scalar(select(ClaimCase.id)) is None


def test_a_new_fact_recomputes_the_colour_and_the_history_says_why(session, org, actor_for):
    case_id = register_case(session, actor_for("callcenter"), good_input(**BLUE_FACTS), now=NOW).case_id
    surveyor = actor_for("gz_surveyor1")
    version = _case(session, case_id).version
    change = update_risk_facts(session, surveyor, case_id, {**BLUE_FACTS, "surveyor_doubts": ["old_damage"],
                                                            "doubt_reason": "左前门有旧凹痕"},
                               expected_version=version, now=NOW + timedelta(hours=1))
    assert change.changed and change.colour == "red" and change.criteria == ("surveyor_doubt",)
    case = _case(session, case_id)
    assert (case.risk_colour, case.surveyor_doubts, case.doubt_reason) == ("red", ["old_damage"], "左前门有旧凹痕")
    moved = _events(session, case_id, "risk_colour_changed")
    assert [(e.payload["before"], e.payload["after"], e.payload["criteria"]) for e in moved] == \
        [("blue", "red", ["surveyor_doubt"])]
    assert _events(session, case_id, "risk_facts_changed")[0].payload["fields"]["surveyor_doubts"]["after"] == \
        ["old_damage"]
    # The same facts again: nothing written, no new version.
    same = update_risk_facts(session, surveyor, case_id, {**BLUE_FACTS, "surveyor_doubts": ["old_damage"],
                                                          "doubt_reason": "左前门有旧凹痕"},
                             expected_version=case.version)
    assert not same.changed and _case(session, case_id).version == case.version
    # A form drawn before the change is refused, and writes nothing.
    with pytest.raises(StaleWrite):
        update_risk_facts(session, surveyor, case_id, BLUE_FACTS, expected_version=version)
    assert _case(session, case_id).risk_colour == "red"


def test_only_who_runs_the_claim_may_change_the_facts_and_only_on_their_cases(session, org, actor_for):
    case_id = register_case(session, actor_for("callcenter"), good_input(**BLUE_FACTS), now=NOW).case_id
    version = _case(session, case_id).version
    with pytest.raises(PermissionDenied):
        update_risk_facts(session, actor_for("executive"), case_id, BLUE_FACTS, expected_version=version)
    with pytest.raises(NotFound):
        update_risk_facts(session, actor_for("zj_manager"), case_id, {**BLUE_FACTS, "accident_handling": "private"},
                          expected_version=version)
    assert _case(session, case_id).risk_colour == "blue"


def test_a_case_keeps_its_rule_version_until_an_input_changes(session, org, actor_for):
    case_id = register_case(session, actor_for("callcenter"), good_input(**BLUE_FACTS), now=NOW).case_id
    first = _case(session, case_id).risk_rule_set_id
    active = risk_rule_versions(session, actor_for("admin"))[0]
    stricter = {**active.thresholds.as_mapping(), "old_vehicle_years": 3}
    published = publish_risk_rules(session, actor_for("admin"), stricter, expected_version=active.version)
    assert published.version == active.version + 1
    case = _case(session, case_id)
    assert (case.risk_colour, case.risk_rule_set_id) == ("blue", first)  # not repainted behind anyone's back
    update_risk_facts(session, actor_for("callcenter"), case_id, {**BLUE_FACTS, "claim_count": "2"},
                      expected_version=case.version)
    case = _case(session, case_id)
    assert case.risk_colour == "red" and case.risk_criteria == ["old_vehicle"] and case.risk_rule_set_id != first
    with pytest.raises(StaleWrite):  # a second admin's form drawn from the version before
        publish_risk_rules(session, actor_for("admin"), stricter, expected_version=active.version)


def test_thresholds_out_of_range_or_the_wrong_way_round_are_refused_naming_each(session, org, actor_for):
    active = risk_rule_versions(session, actor_for("admin"))[0]
    bad = {**active.thresholds.as_mapping(), "night_from_hour": "25", "blue_vehicle_damage": "60000",
           "red_claim_count": "三"}
    with pytest.raises(ValidationFailed) as refused:
        publish_risk_rules(session, actor_for("admin"), bad, expected_version=active.version)
    assert {e.field for e in refused.value.errors} == {"risk.night_from_hour", "risk.blue_vehicle_damage",
                                                       "risk.red_claim_count"}
    assert risk_rule_versions(session, actor_for("admin"))[0].version == active.version
    with pytest.raises(PermissionDenied):
        publish_risk_rules(session, actor_for("gd_manager"), active.thresholds.as_mapping(),
                           expected_version=active.version)


def test_the_import_colours_every_row(session, org, actor_for):
    rows = [row(1, **{**BLUE_FACTS, "accident_handling": "交警或派出所处理"}),
            row(2, accident_time="2026-11-19 23:10", report_time="2026-11-19 23:40"),
            row(3, surveyor_doubts="痕迹不符；驾驶员掉包", doubt_reason="碰撞痕迹高度不符")]
    report = import_cases(session, actor_for("callcenter"), "c.csv", csv_bytes(rows), now=NOW)
    assert report.imported == 3, report.problems
    colours = dict(session.execute(select(ClaimCase.case_no, ClaimCase.risk_colour)).tuples().all())
    assert colours == {"IMP000001": "blue", "IMP000002": "red", "IMP000003": "red"}
    doubted = session.scalars(select(ClaimCase).where(ClaimCase.case_no == "IMP000003")).one()
    assert doubted.surveyor_doubts == ["marks_mismatch", "driver_swapped"]
    registered = _events(session, doubted.id, "case_registered")[0]
    assert registered.payload["risk_colour"] == "red" and registered.payload["risk_criteria"] == ["surveyor_doubt"]


def test_a_red_case_is_closed_only_after_its_investigation_report(session, org, actor_for):
    case_id = register_case(session, actor_for("callcenter"), good_input(
        accident_time="2026-11-20 02:30", report_time="2026-11-20 03:00", initial_estimate="80000"),
        now=NOW).case_id
    manager = actor_for("gd_manager")
    for state in ("investigating", "assessed", "approved", "paid"):
        advance_state(session, manager, case_id, state, _case(session, case_id).version, now=NOW,
                      paid_amount="76000" if state == "paid" else None)
    with pytest.raises(UserError) as refused:
        advance_state(session, manager, case_id, "closed", _case(session, case_id).version, now=NOW)
    assert refused.value.key == "detail.state.red_needs_report"
    record_upload(session, actor_for("gz_surveyor1"), case_id, "investigation_report", "调查报告.pdf", pdf(),
                  on_behalf_of_person_id=org.person("gz_claims"), now=NOW + timedelta(hours=1))
    closed = advance_state(session, manager, case_id, "closed", _case(session, case_id).version, now=NOW)
    assert closed.state == "closed"
