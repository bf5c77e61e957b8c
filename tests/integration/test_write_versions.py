"""Versioned writes in the services (issues 25 item 9, 26, 27): a write names the version its page drew,
a stale one is refused with who changed the record and when, and nothing is written."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from dashboard.services.dispatching.dispatch import name_delegate, record_contact_attempt, record_estimate
from dashboard.services.dispatching.board import board_case, delegate_candidates
from dashboard.services.errors import NotFound, StaleWrite, UserError, ValidationFailed
from dashboard.services.admin.rule_settings import EDITABLE_SETTINGS, editable_settings, update_rule_settings
from dashboard.services.review.supervision import (
    open_supervision_opinions, post_progress_note, post_supervision_opinion, thread_version, unassign_supervisor,
)
from dashboard.services.admin.tier_admin import (
    BandInput, branch_request_base, decide_branch_request, publish_national_table, request_branch_subtiers,
)
from dashboard.services.dispatching.tiers import active_tier_table
from db.models import (
    ContactAttempt, Dispatch, Estimate, Opinion, Person, ProgressNote, RoleAssignment, RuleSetting, TierRuleSet,
)
from tests.factories import T0, make_case

SPLIT = [BandInput("T1A", "50000", "80000", ["sub_claims_head"]), BandInput("T1B", "80000", "200000", ["sub_head"]),
         BandInput("T2", "200000", "500000", ["sub_head", "sub_finance_head"])]


def _own_change(err) -> bool:
    """The refusal when the record was last changed by the person writing now (another window of
    theirs, or a form drawn before their own save): it says so, and when, rather than naming them."""
    return err.value.key == "common.stale_write_self" and bool(err.value.params["at"]) and "who" not in err.value.params


def name(session, org, username: str) -> str:
    return session.scalar(select(Person.full_name).where(Person.id == org.person(username)))


def national_rows(table) -> list[BandInput]:
    return [BandInput(b.code, b.lower_exclusive, b.upper_inclusive, list(b.positions), b.hq_notice)
            for b in table.bands]


# ---------------------------------------------------------------- estimate, call, delegate


def test_an_estimate_on_a_case_that_moved_is_refused_naming_who_moved_it(session, org, actor_for):
    case = make_case(session, org)
    drawn = board_case(session, actor_for("admin"), case.id).version
    record_estimate(session, actor_for("callcenter"), case.id, "600000", now=T0)
    with pytest.raises(StaleWrite) as err:
        record_estimate(session, actor_for("admin"), case.id, "60000", expected_version=drawn, now=T0)
    assert err.value.params["who"] == name(session, org, "callcenter")
    session.rollback()
    assert session.scalars(select(Estimate.amount)).all() == [600000]


def _t2(session, org, actor_for):
    case = make_case(session, org)
    result = record_estimate(session, actor_for("callcenter"), case.id, "300000", now=T0)
    return case, [session.get(Dispatch, d.dispatch_id) for d in result.dispatched]


def test_a_call_logged_on_a_dispatch_that_changed_is_refused(session, org, actor_for):
    case, (head, _finance) = _t2(session, org, actor_for)
    drawn = head.version
    record_contact_attempt(session, actor_for("callcenter"), head.id, "unreachable", reason_code="no_answer",
                           expected_version=drawn, now=T0)
    with pytest.raises(StaleWrite) as err:
        record_contact_attempt(session, actor_for("admin"), head.id, "reached", expected_version=drawn, now=T0)
    assert err.value.params["who"] == name(session, org, "callcenter")
    session.rollback()
    assert session.scalar(select(func.count()).select_from(ContactAttempt)) == 1


def test_a_call_on_a_case_re_tiered_since_it_was_drawn_is_refused(session, org, actor_for):
    case, (head, _finance) = _t2(session, org, actor_for)
    drawn_case = board_case(session, actor_for("callcenter"), case.id).version
    record_estimate(session, actor_for("admin"), case.id, "700000", now=T0)  # up to T3
    with pytest.raises(StaleWrite) as err:
        record_contact_attempt(session, actor_for("callcenter"), head.id, "reached", expected_version=head.version,
                               expected_case_version=drawn_case, now=T0)
    assert err.value.params["who"] == name(session, org, "admin")


def test_a_delegate_named_on_a_dispatch_that_changed_is_refused(session, org, actor_for):
    case = make_case(session, org)
    result = record_estimate(session, actor_for("callcenter"), case.id, "80000", now=T0)
    dispatch_id = result.dispatched[0].dispatch_id
    record_contact_attempt(session, actor_for("callcenter"), dispatch_id, "unavailable", reason_code="meeting", now=T0)
    drawn = session.get(Dispatch, dispatch_id).version
    done = name_delegate(session, actor_for("callcenter"), dispatch_id, org.person("gz_head"), expected_version=drawn,
                         now=T0)
    assert (done.case_no, done.delegate_name) == (case.case_no, name(session, org, "gz_head"))
    with pytest.raises(StaleWrite):
        name_delegate(session, actor_for("admin"), dispatch_id, org.person("gz_finance"), expected_version=drawn, now=T0)
    session.rollback()
    assert session.get(Dispatch, dispatch_id).delegate_person_id == org.person("gz_head")


@pytest.mark.parametrize("outcome, reason_code, key", [
    ("unreachable", None, "dispatch.error.reason_required"),
    ("unavailable", None, "dispatch.error.reason_required"),
    ("unreachable", "meeting", "dispatch.error.reason_mismatch"),
    ("unavailable", "phone_off", "dispatch.error.reason_mismatch"),
    ("reached", "phone_off", "dispatch.error.reason_not_needed"),
])
def test_a_call_not_answered_needs_a_reason_of_its_outcome(session, org, actor_for, outcome, reason_code, key):
    _case, (head, _finance) = _t2(session, org, actor_for)
    with pytest.raises(ValidationFailed) as err:
        record_contact_attempt(session, actor_for("callcenter"), head.id, outcome, reason_code=reason_code, now=T0)
    assert (err.value.errors[0].field, err.value.errors[0].key) == ("reason_code", key)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(ContactAttempt)) == 0


def test_a_reason_written_in_words_is_read_as_its_choice(session, org, actor_for):
    _case, (head, _finance) = _t2(session, org, actor_for)
    record_contact_attempt(session, actor_for("callcenter"), head.id, "unreachable", reason="电话关机", now=T0)
    assert session.execute(select(ContactAttempt.reason_code, ContactAttempt.reason)).one() == ("phone_off", "电话关机")


def test_the_call_says_who_was_told_to_go_next(session, org, actor_for):
    case = make_case(session, org)
    one = record_estimate(session, actor_for("callcenter"), case.id, "80000", now=T0)  # T1: one person
    result = record_contact_attempt(session, actor_for("callcenter"), one.dispatched[0].dispatch_id, "unreachable",
                                    reason_code="cannot_connect", now=T0)
    # One-person tier unreachable: the next tier's persons (T2: sub-branch head and finance head) name who goes.
    assert result.next_step == "upper_names" and result.case_no == case.case_no
    assert [(p.full_name, p.position) for p in result.notified] == [
        (name(session, org, "gz_head"), "sub_head"), (name(session, org, "gz_finance"), "sub_finance_head")]


def test_delegates_are_offered_from_the_first_responsibles_rank_up_then_below_then_others(session, org, actor_for):
    case = make_case(session, org)
    t2 = record_estimate(session, actor_for("callcenter"), case.id, "300000", now=T0)
    head = next(d for d in t2.dispatched if d.position == "sub_head")  # rank 2: T2 is the first band naming it
    offered = [pid for pid, _label in delegate_candidates(session, actor_for("callcenter"), head.dispatch_id)]
    post_rank = {"sub_claims_head": 1, "sub_head": 2, "sub_finance_head": 2, "branch_claims_head": 3,
                 "branch_finance_head": 3, "branch_gm": 4}
    rank = {pid: post_rank.get(position or "", 0) for pid, position in session.execute(
        select(RoleAssignment.person_id, RoleAssignment.position).where(RoleAssignment.person_id.in_(offered)))}
    shown = [rank[pid] for pid in offered]
    # Rank 2 and above, going up; then rank 1; then people with no first-responsible post.
    assert shown == sorted(shown, key=lambda r: (0 if r >= 2 else 1 if r else 2, r if r >= 2 else -r))
    assert shown[0] == 2 and shown[-1] == 0
    # Within a rank, the case's own sub-branch first: 广州's finance head before 深圳's head.
    assert offered.index(org.person("gz_finance")) < offered.index(org.person("sz_head"))


# ---------------------------------------------------------------- rule settings


def test_settings_carry_a_version_and_every_editable_one_is_stored(session, org, actor_for):
    views = editable_settings(session, actor_for("admin"))
    assert set(views) == set(EDITABLE_SETTINGS) and "estimate.confirm_above" in views
    assert {v.version for v in views.values()} == {1}  # seeded by the migrations, each with a version


def test_a_setting_saved_since_the_form_was_drawn_is_refused_and_nothing_is_written(session, org, actor_for):
    drawn = {k: v.version for k, v in editable_settings(session, actor_for("admin")).items()}
    update_rule_settings(session, actor_for("admin"), {"deadline.D7.hours": "40"},
                         expected_versions={"deadline.D7.hours": drawn["deadline.D7.hours"]}, now=T0)
    with pytest.raises(StaleWrite) as err:
        update_rule_settings(session, actor_for("admin"), {"deadline.D7.hours": "36", "deadline.D5.hours": "36"},
                             expected_versions={"deadline.D7.hours": drawn["deadline.D7.hours"],
                                                "deadline.D5.hours": drawn["deadline.D5.hours"]}, now=T0)
    assert _own_change(err)  # the same admin, from a form drawn before their own save
    session.expire_all()
    assert session.get(RuleSetting, "deadline.D7.hours").value == 40
    assert session.get(RuleSetting, "deadline.D5.hours").value == 48  # all or nothing
    assert session.get(RuleSetting, "deadline.D7.hours").version == 2


def test_only_the_settings_sent_are_written(session, org, actor_for):
    update_rule_settings(session, actor_for("admin"), {"deadline.D7.hours": "40"}, now=T0)
    update_rule_settings(session, actor_for("admin"), {"deadline.D5.hours": "36"},
                         expected_versions={"deadline.D5.hours": 1}, now=T0)
    session.expire_all()
    assert session.get(RuleSetting, "deadline.D7.hours").value == 40


@pytest.mark.parametrize("key, typed", [
    ("deadline.D2.hours", "1e2"), ("deadline.D2.hours", "0.001"), ("deadline.D2.hours", "0.5"),
    ("deadline.D2.hours", "24.3"), ("deadline.D2.hours", "169"), ("deadline.D2.hours", "-24"),
    ("deadline.D2.hours", "inf"), ("session.idle_minutes", "0.01"), ("session.idle_minutes", "4"),
    ("session.idle_minutes", "481"), ("session.idle_minutes", "30.5"), ("deadline.D4.day_end_offset_days", "8"),
    ("estimate.confirm_above", "1e9"), ("estimate.confirm_above", "999999"),
    ("estimate.confirm_above", "2000000000"),
])
def test_a_setting_outside_its_range_is_refused_naming_the_range(session, org, actor_for, key, typed):
    with pytest.raises(ValidationFailed) as err:
        update_rule_settings(session, actor_for("admin"), {key: typed}, now=T0)
    error = err.value.errors[0]
    assert error.field == key and error.key.endswith("_range") and error.params["high"]


@pytest.mark.parametrize("key, typed, stored", [
    ("deadline.D2.hours", "24.5", 24.5), ("deadline.D2.hours", "１２", 12), ("deadline.D2.hours", "168", 168),
    ("session.idle_minutes", "5", 5), ("session.idle_minutes", "480", 480),
    ("estimate.confirm_above", "80,000,000", 80000000),
])
def test_a_setting_within_its_range_is_saved(session, org, actor_for, key, typed, stored):
    assert update_rule_settings(session, actor_for("admin"), {key: typed}, now=T0) == [key]
    session.expire_all()
    assert session.get(RuleSetting, key).value == stored


# ---------------------------------------------------------------- tier tables


def test_a_national_table_published_over_a_newer_one_is_refused(session, org, actor_for):
    rows = national_rows(active_tier_table(session, None))
    rows[0].lower_exclusive = "60000"
    publish_national_table(session, actor_for("admin"), rows, expected_version=1, now=T0)
    rows[0].lower_exclusive = "55000"
    with pytest.raises(StaleWrite) as err:
        publish_national_table(session, actor_for("admin"), rows, expected_version=1, now=T0)
    assert _own_change(err)
    session.rollback()
    assert active_tier_table(session, None).version == 2


def test_an_unchanged_national_table_is_refused(session, org, actor_for):
    with pytest.raises(UserError) as err:
        publish_national_table(session, actor_for("admin"), national_rows(active_tier_table(session, None)), now=T0)
    assert err.value.key == "admin.error.table_unchanged"
    session.rollback()
    assert session.scalar(select(func.count()).select_from(TierRuleSet)) == 1


def test_a_split_identical_to_the_national_table_is_refused(session, org, actor_for):
    same = [BandInput("T1", "50000", "120000", ["sub_claims_head"]),
            BandInput("T2", "120000", "500000", ["sub_head", "sub_finance_head"])]
    with pytest.raises(UserError) as err:
        request_branch_subtiers(session, actor_for("gd_manager"), org.branch("gd").id, same, now=T0)
    assert err.value.key == "admin.error.split_same_as_national"


def test_a_split_filed_over_a_newer_request_is_refused(session, org, actor_for):
    gd = org.branch("gd").id
    base = branch_request_base(session, actor_for("gd_manager"), gd)
    assert base == (1, 0)
    request_branch_subtiers(session, actor_for("gd_manager"), gd, SPLIT, expected_base=base, now=T0)
    with pytest.raises(StaleWrite) as err:
        request_branch_subtiers(session, actor_for("admin"), gd, SPLIT, expected_base=base, now=T0)
    assert err.value.params["who"] == name(session, org, "gd_manager")


def test_a_request_decided_twice_is_refused_the_second_time(session, org, actor_for):
    request_id = request_branch_subtiers(session, actor_for("gd_manager"), org.branch("gd").id, SPLIT, now=T0)
    assert decide_branch_request(session, actor_for("admin"), request_id, approve=True, now=T0) == ("广东分公司", 1)
    with pytest.raises(StaleWrite):
        decide_branch_request(session, actor_for("admin"), request_id, approve=False, note="不同意", now=T0)


# ---------------------------------------------------------------- supervision


def _followed(session, org, actor_for):
    case = make_case(session, org)
    record_estimate(session, actor_for("callcenter"), case.id, "80000", now=T0)
    return case


def test_an_opinion_from_an_older_thread_is_refused(session, org, actor_for):
    case = _followed(session, org, actor_for)
    seen = thread_version(session, case.id)
    post_supervision_opinion(session, actor_for("supervisor"), case.id, "请今日到现场", expected_thread=seen, now=T0)
    with pytest.raises(StaleWrite) as err:
        post_supervision_opinion(session, actor_for("supervisor"), case.id, "请尽快到现场", expected_thread=seen, now=T0)
    assert _own_change(err)
    assert session.scalar(select(func.count()).select_from(Opinion)) == 1


def test_a_reply_from_an_older_thread_is_refused(session, org, actor_for):
    case = _followed(session, org, actor_for)
    first = post_supervision_opinion(session, actor_for("supervisor"), case.id, "请今日到现场", now=T0)
    seen = thread_version(session, case.id)
    post_supervision_opinion(session, actor_for("supervisor"), case.id, "请补充照片", now=T0 + timedelta(minutes=5))
    with pytest.raises(StaleWrite):
        post_progress_note(session, actor_for("gz_claims"), case.id, "已到现场", opinion_id=first,
                           expected_thread=seen, now=T0 + timedelta(minutes=6))
    assert session.scalar(select(func.count()).select_from(ProgressNote)) == 0


def test_opinions_to_reply_list_those_awaiting_first_and_mark_those_answered(session, org, actor_for):
    case = _followed(session, org, actor_for)
    first = post_supervision_opinion(session, actor_for("supervisor"), case.id, "请今日到现场", now=T0)
    second = post_supervision_opinion(session, actor_for("supervisor"), case.id, "请补充照片",
                                      now=T0 + timedelta(hours=1))
    post_progress_note(session, actor_for("gz_claims"), case.id, "已到现场", opinion_id=first,
                       now=T0 + timedelta(hours=2))
    views = open_supervision_opinions(session, actor_for("gz_claims"), case.id)
    assert [(v.opinion_id, v.replied_at is not None) for v in views] == [(second, False), (first, True)]


def test_removing_an_assignment_someone_removed_is_refused_when_it_was_shown(session, org, actor_for):
    gd, person = org.branch("gd").id, org.person("supervisor")
    assert unassign_supervisor(session, actor_for("admin"), person, gd, now=T0, expected_assigned=True)
    with pytest.raises(StaleWrite) as err:
        unassign_supervisor(session, actor_for("admin"), person, gd, now=T0, expected_assigned=True)
    assert _own_change(err)
    assert unassign_supervisor(session, actor_for("admin"), person, gd, now=T0) is False


def test_the_board_case_is_read_by_id_only_within_the_actors_branches(session, org, actor_for):
    case = make_case(session, org, "gz")
    assert board_case(session, actor_for("gd_manager"), case.id).case_no == case.case_no
    with pytest.raises(NotFound):
        board_case(session, actor_for("zj_manager"), case.id)
