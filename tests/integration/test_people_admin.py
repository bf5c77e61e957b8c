"""HQ admin disables a person (issue 18): their access ends at their next action everywhere, they
cannot sign in, their cases stay; two admins at once, self-disabling and other roles are refused;
phone numbers are whole only for roles that call people."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from dashboard.demo.org import DEMO_PASSWORD
from dashboard.services.actor import load_actor
from dashboard.services.admin.people import open_cases, people, set_person_active
from dashboard.services.auth import authenticate
from dashboard.services.cases.detail import case_detail
from dashboard.services.dispatching.board import dispatch_phones
from dashboard.services.dispatching.dispatch import record_estimate
from dashboard.services.errors import PermissionDenied, StaleWrite, UserError
from dashboard.services.web_sessions import check, open_web_session
from db.models import CaseEvent, Person, RoleAssignment
from tests.factories import T0, make_case


def _version(session, person_id: int) -> int:
    session.expire_all()
    return session.get(Person, person_id).version


def test_the_list_finds_people_by_name_or_user_name_with_their_roles(session, org, actor_for):
    admin = actor_for("admin")
    page = people(session, admin, search="gz_", limit=50)
    assert page.total == len(page.rows) > 0
    assert all("gz_" in r.username for r in page.rows)
    everyone = people(session, admin, limit=0).total
    assert everyone == session.scalar(select(func.count()).select_from(Person))
    head = next(r for r in people(session, admin, search="gd_manager").rows)
    assert [role for role, _unit in head.roles] == ["branch_manager"]
    # A % or _ typed is a character, not a wildcard.
    assert people(session, admin, search="%").total == 0


def test_only_the_hq_admin_may_list_or_disable_people(session, org, actor_for):
    for username in ("gd_manager", "reviewer", "executive", "callcenter"):
        with pytest.raises(PermissionDenied):
            people(session, actor_for(username))
        with pytest.raises(PermissionDenied):
            set_person_active(session, actor_for(username), org.person("gd_tracker"), False, expected_version=1)


def test_disabling_ends_every_live_session_and_the_next_action_finds_none(session, org, actor_for):
    target = org.person("gd_tracker")
    tabs = [open_web_session(session, target, "zh").id for _ in range(2)]
    session.commit()
    assert all(check(session, t).live for t in tabs)
    change = set_person_active(session, actor_for("admin"), target, False, expected_version=_version(session, target))
    session.commit()
    assert change.changed and change.sessions_ended == 2 and not change.active
    session.expire_all()
    for tab in tabs:
        state = check(session, tab)
        assert not state.live and state.end_reason == "disabled"
    assert load_actor(session, target) is None
    with pytest.raises(UserError) as refused:
        authenticate(session, "gd_tracker", DEMO_PASSWORD)
    assert refused.value.key == "auth.inactive"
    event = session.scalars(select(CaseEvent).where(CaseEvent.kind == "person_disabled")).one()
    assert event.actor_id == org.person("admin") and event.payload["person_id"] == target
    person = session.get(Person, target)
    assert person.status_changed_by == org.person("admin") and person.status_changed_at is not None


def test_restoring_lets_the_person_sign_in_again(session, org, actor_for):
    target = org.person("gd_tracker")
    admin = actor_for("admin")
    set_person_active(session, admin, target, False, expected_version=_version(session, target))
    session.commit()
    again = set_person_active(session, admin, target, False, expected_version=_version(session, target))
    assert not again.changed  # already disabled: nothing written, said so
    restored = set_person_active(session, admin, target, True, expected_version=_version(session, target))
    session.commit()
    assert restored.changed and restored.active
    assert authenticate(session, "gd_tracker", DEMO_PASSWORD).person_id == target


def test_an_admin_cannot_disable_themselves(session, org, actor_for):
    admin = actor_for("admin")
    with pytest.raises(UserError) as refused:
        set_person_active(session, admin, admin.person_id, False, expected_version=_version(session, admin.person_id))
    assert refused.value.key == "people.error.self"
    assert session.get(Person, admin.person_id).active


def test_the_later_of_two_admins_is_refused_naming_the_first(session, owner_session, org, actor_for):
    hq = owner_session.scalar(select(RoleAssignment.unit_id).where(RoleAssignment.person_id == org.person("admin")))
    owner_session.add(RoleAssignment(person_id=org.person("reviewer2"), role="hq_admin", unit_id=hq))
    owner_session.commit()
    target = org.person("gd_tracker")
    drawn = _version(session, target)  # both admins' screens show the account active, this version
    set_person_active(session, actor_for("admin"), target, False, expected_version=drawn)
    session.commit()
    with pytest.raises(StaleWrite) as refused:
        set_person_active(session, actor_for("reviewer2"), target, True, expected_version=drawn)
    admin_name = session.get(Person, org.person("admin")).full_name
    assert refused.value.params["who"] == admin_name and refused.value.params["at"]
    session.rollback()
    assert not session.get(Person, target).active  # the later, stale write changed nothing


def test_the_admin_is_told_how_many_pending_cases_the_person_still_answers_for(session, org, actor_for):
    sub = org.sub_branch("gz")
    surveyor = sub.surveyors[0]
    before = open_cases(session, actor_for("admin"), surveyor)
    make_case(session, org, "gz")
    make_case(session, org, "gz", state="closed")
    assert open_cases(session, actor_for("admin"), surveyor) == before + 1


# ---------------------------------------------------------------- personal data


def test_the_reporters_and_surveyors_numbers_are_whole_only_for_roles_that_call_people(session, org, actor_for):
    case = make_case(session, org, "gz", reporter_phone="13912345678")
    surveyor_phone = session.get(Person, case.surveyor_id).phone
    assert surveyor_phone
    whole = case_detail(session, actor_for("callcenter"), case.id).facts
    assert (whole.reporter_phone, whole.surveyor_phone) == ("13912345678", surveyor_phone)
    assert case_detail(session, actor_for("gd_manager"), case.id).facts.reporter_phone == "13912345678"
    for username in ("executive", "reviewer", "supervisor"):
        facts = case_detail(session, actor_for(username), case.id).facts
        assert facts.reporter_phone == "139****5678", username
        assert facts.surveyor_phone != surveyor_phone and facts.surveyor_phone.endswith(surveyor_phone[-4:])


def test_the_board_gives_the_call_center_the_dispatched_persons_number(session, org, actor_for):
    case = make_case(session, org, "gz")
    record_estimate(session, actor_for("callcenter"), case.id, 300000, now=T0 + timedelta(hours=1))
    session.commit()
    phones = dispatch_phones(session, actor_for("callcenter"), case.id)
    assert phones
    for dispatch_id, (person_phone, _delegate) in phones.items():
        assert person_phone and "*" not in person_phone
    masked = dispatch_phones(session, actor_for("executive"), case.id)
    assert all("*" in p for p, _ in masked.values())
