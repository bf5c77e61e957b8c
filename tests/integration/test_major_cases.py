"""Major cases (issue 19; docs/DOMAIN.md §8): flagged over the branch's authority by the estimate,
by a person for social impact, or by a catastrophe event tagging many cases; each with a named
owner; listed for HQ and the branch; every flag in the history."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from dashboard.services.cases.major import (
    catastrophes, create_catastrophe, flag_major, major_cases, owner_choices, tag_catastrophe,
)
from dashboard.services.dispatching.dispatch import record_estimate
from dashboard.services.errors import NotFound, PermissionDenied, StaleWrite, ValidationFailed
from db.models import CaseEvent, ClaimCase, OrgUnit
from tests.factories import T0, make_case


def _case(session, case_id: int) -> ClaimCase:
    session.expire_all()
    return session.get(ClaimCase, case_id)


def test_an_estimate_above_the_branchs_authority_makes_the_case_major_with_the_claims_head_as_owner(
        session, owner_session, org, actor_for):
    below = make_case(session, org, "gz")
    record_estimate(session, actor_for("callcenter"), below.id, 500000, now=T0 + timedelta(hours=1))
    assert not _case(session, below.id).is_major  # 500,000 is the authority itself, not above it
    above = make_case(session, org, "gz")
    record_estimate(session, actor_for("callcenter"), above.id, Decimal("500000.01"), now=T0 + timedelta(hours=1))
    case = _case(session, above.id)
    assert case.is_major and case.major_reason == "over_authority"
    assert case.major_owner_id == org.person("gd_claims")
    flagged = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                      CaseEvent.kind == "major_flagged")).one()
    assert flagged.payload["reason"] == "over_authority"
    # A branch with a higher authority of its own: the same estimate is not major there.
    owner_session.execute(OrgUnit.__table__.update().where(OrgUnit.id == org.branch("zj").id)
                          .values(claim_authority=2_000_000))
    owner_session.commit()
    other = make_case(session, org, "hz")
    record_estimate(session, actor_for("callcenter"), other.id, 800000, now=T0 + timedelta(hours=1))
    assert not _case(session, other.id).is_major


def test_a_person_flags_a_pile_up_with_its_owner_and_hq_may_name_another(session, org, actor_for):
    case = make_case(session, org, "gz")
    manager = actor_for("gd_manager")
    owners = dict(owner_choices(session, manager, case.id))
    assert org.person("gd_claims") in owners and org.person("reviewer") in owners
    assert org.person("zj_claims") not in owners  # another branch's head cannot own it
    with pytest.raises(ValidationFailed) as refused:
        flag_major(session, manager, case.id, "social_impact", org.person("zj_claims"),
                   expected_version=case.version)
    assert refused.value.errors[0].key == "major.error.owner_unknown"
    flagged = flag_major(session, manager, case.id, "social_impact", org.person("gd_gm"),
                         expected_version=_case(session, case.id).version)
    assert (flagged.is_major, flagged.major_reason, flagged.major_owner_id) == (True, "social_impact",
                                                                               org.person("gd_gm"))
    drawn = _case(session, case.id).version
    flag_major(session, actor_for("reviewer"), case.id, "", org.person("reviewer"), expected_version=drawn)
    assert _case(session, case.id).major_owner_id == org.person("reviewer")
    with pytest.raises(StaleWrite):  # the manager's page drawn before HQ's change
        flag_major(session, manager, case.id, "", org.person("gd_claims"), expected_version=drawn)
    kinds = list(session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case.id,
                                                              CaseEvent.kind.like("major%")).order_by(CaseEvent.id)))
    assert kinds == ["major_flagged", "major_owner_changed"]


def test_who_may_flag_and_on_which_cases(session, org, actor_for):
    case = make_case(session, org, "gz")
    with pytest.raises(PermissionDenied):
        flag_major(session, actor_for("executive"), case.id, "social_impact", org.person("gd_gm"),
                   expected_version=case.version)
    with pytest.raises(NotFound):
        flag_major(session, actor_for("zj_manager"), case.id, "social_impact", org.person("gd_gm"),
                   expected_version=case.version)
    assert not _case(session, case.id).is_major


def test_a_typhoon_tags_many_cases_at_once_and_hq_lists_them(session, org, actor_for):
    reviewer = actor_for("reviewer")
    event = create_catastrophe(session, reviewer, "2026年第18号台风", "typhoon", date(2026, 11, 19), "广东沿海")
    with pytest.raises(ValidationFailed) as refused:  # the same name twice
        create_catastrophe(session, reviewer, "2026年第18号台风", "typhoon", date(2026, 11, 19))
    assert refused.value.errors[0].key == "major.error.name_taken"
    cases = [make_case(session, org, "gz") for _ in range(3)]
    other_branch = make_case(session, org, "hz")
    text = "\n".join(c.case_no for c in cases) + f", {cases[0].case_no}，NOPE-1"
    result = tag_catastrophe(session, reviewer, event.id, text)
    assert sorted(result.tagged) == sorted(c.case_no for c in cases) and result.not_found == ["NOPE-1"]
    again = tag_catastrophe(session, reviewer, event.id, cases[0].case_no)
    assert again.already == [cases[0].case_no] and not again.tagged
    for c in cases:
        tagged = _case(session, c.id)
        assert (tagged.is_major, tagged.major_reason, tagged.catastrophe_event_id) == (True, "catastrophe", event.id)
    total, rows = major_cases(session, reviewer, event_id=event.id)
    assert total == 3 and {r.case_no for r in rows} == {c.case_no for c in cases}
    assert all(r.catastrophe == "2026年第18号台风" for r in rows)
    assert [e.cases for e in catastrophes(session, reviewer) if e.id == event.id] == [3]
    # A branch sees its own major cases only; another branch's number is "not found" to it.
    assert major_cases(session, actor_for("zj_manager"), event_id=event.id)[0] == 0
    assert not _case(session, other_branch.id).is_major


def test_only_hq_creates_catastrophes(session, org, actor_for):
    with pytest.raises(PermissionDenied):
        create_catastrophe(session, actor_for("gd_manager"), "暴雨", "rainstorm", date(2026, 11, 19))
    with pytest.raises(ValidationFailed) as refused:
        create_catastrophe(session, actor_for("admin"), " ", "volcano", None)
    assert {e.field for e in refused.value.errors} == {"catastrophe_name", "catastrophe_kind", "catastrophe_on"}
