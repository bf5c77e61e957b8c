"""Estimate → tier → dispatch of first responsible persons (分级管理办法 第二章 一).

Each public function is one transaction: permission check first, then the change, its
notifications (outbox), its deadline clocks and its history rows, committed together.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard import clock
from dashboard.rules.notifications import (
    NoticeFacts, render_copy, render_dispatch, render_go_instead, render_name_person,
)
from dashboard.rules.amounts import AmountProblem, needs_confirmation, parse_amount
from dashboard.rules.case_input import ESTIMATE_NOTE_MAX_CHARS, problem_error
from dashboard.rules.intake_fields import FieldProblem, clean_text
from dashboard.rules.contact_reasons import reason_from_words, reason_problem
from dashboard.rules.tiers import NOT_TIERED, TierBand, lower_bands, next_band, rank_of, tier_for
from dashboard.services.actor import Actor
from dashboard.services.cases.major import flag_over_authority
from dashboard.services.cases.access import load_visible_case
from dashboard.rules.deadlines import dispatch_subject, survey_subject
from dashboard.services.clocks.deadlines import start_deadline
from dashboard.services.errors import (
    FieldError, NeedsConfirmation, NotFound, PermissionDenied, UserError, ValidationFailed,
)
from dashboard.services.cases.history import record_event
from dashboard.services.outbox import queue_notification
from dashboard.services.reference import all_settings, get_setting
from dashboard.services.stale import stale_case, stale_write
from dashboard.services.dispatching.tiers import TierTable, active_tier_table, tier_table_by_id
from dashboard.services.capability import requires
from dashboard.settings import COMPULSORY_ONLY_TIER, SUB_BRANCH_POSITIONS
from db.models import (
    CaseEvent, ClaimCase, ContactAttempt, Dispatch, Estimate, OrgUnit, Person, RoleAssignment,
)

CONTACT_OUTCOMES = ("reached", "unreachable", "unavailable")


@dataclass(frozen=True)
class DispatchedPerson:
    dispatch_id: int
    person_id: int
    full_name: str
    position: str
    tier: str


@dataclass
class EstimateResult:
    case_id: int
    estimate_id: int
    amount: Decimal
    tier_before: str
    tier_after: str
    escalated: bool
    dispatched: list[DispatchedPerson] = field(default_factory=list)
    copied_person_ids: list[int] = field(default_factory=list)
    vacant_positions: list[str] = field(default_factory=list)
    case_no: str = ""  # so that a page's message names the case it wrote to


@dataclass(frozen=True)
class NotifiedPerson:
    person_id: int
    full_name: str
    position: str


@dataclass
class ContactResult:
    """What a logged call did, so that the page can say what happens next (issue 26: it said 「已保存。」)."""

    attempt_id: int
    dispatch_id: int
    outcome: str
    case_no: str = ""
    person_name: str = ""
    position: str = ""
    reason_code: str | None = None
    notified_person_ids: list[int] = field(default_factory=list)
    notified: list[NotifiedPerson] = field(default_factory=list)
    # The persons told to go instead (two-person tier), or told to name who goes (next tier up).
    next_step: str = "none"  # none | others_go | upper_names | name_delegate | delegate_named | nobody_to_notify
    awaiting_delegate: bool = False
    delegate_name: str | None = None


@dataclass(frozen=True)
class DelegateResult:
    case_no: str
    dispatch_id: int
    absent_name: str
    delegate_name: str
    delegate_title: str | None


def _facts(case: ClaimCase, amount: Decimal) -> NoticeFacts:
    return NoticeFacts(case.case_no, case.insured_name, case.plate_no, case.province, case.city, case.address,
                     case.accident_time, case.accident_type, amount)


def position_holder(session: Session, case: ClaimCase, position: str) -> Person | None:
    """The person holding `position` in the case's own sub-branch (or its branch)."""
    unit_id = case.sub_branch_id if position in SUB_BRANCH_POSITIONS else case.branch_id
    return session.scalars(
        select(Person).join(RoleAssignment, RoleAssignment.person_id == Person.id)
        .where(RoleAssignment.role == "first_responsible", RoleAssignment.position == position,
               RoleAssignment.unit_id == unit_id, Person.active.is_(True))
        .order_by(RoleAssignment.id).limit(1)
    ).first()


def case_tier_table(session: Session, case: ClaimCase) -> TierTable:
    """The tier table a case follows: the rule version it was tiered under; an untiered case, today's."""
    if case.tier_rule_set_id is not None:
        return tier_table_by_id(session, case.tier_rule_set_id)
    return active_tier_table(session, case.branch_id)


_table_for = case_tier_table


def _band(table: TierTable, code: str) -> TierBand:
    for band in table.bands:
        if band.code == code:
            return band
    raise LookupError(f"tier {code} is not in rule set {table.rule_set_id}")


def _check_amount(raw: object) -> Decimal:
    try:
        return parse_amount(raw)
    except AmountProblem as problem:
        raise ValidationFailed([FieldError("estimate", f"amount.{problem.reason}", {"value": problem.text})]) from None


def _check_note(note: object) -> str | None:
    """The note beside an estimate, read as every typed text is: a NUL or another control character
    is refused by name (the dispatch board passed one on and the driver raised; issue 18)."""
    try:
        return clean_text(note, max_len=ESTIMATE_NOTE_MAX_CHARS)
    except FieldProblem as problem:
        raise ValidationFailed([problem_error("estimate_note", problem)]) from None


@requires("case.estimate")
def record_estimate(session: Session, actor: Actor, case_id: int, amount: object, *, note: str | None = None,
                    now: datetime | None = None, expected_version: int | None = None,
                    confirmed: bool = False) -> EstimateResult:
    """Record the surveyor's whole-case estimate; tier the case and dispatch when it moves up.

    An amount above the plausibility limit (rule setting estimate.confirm_above) is refused with
    NeedsConfirmation until the person confirms it (`confirmed=True`): 1e9 typed for 1e5 once
    multiplied a branch's pending estimate by eleven.

    Raising past the tier's upper bound moves the case up and dispatches the new tier's persons
    (the earlier dispatches stay on record); lowering never removes a dispatch, so the case keeps
    the highest tier it reached.
    """
    now = clock.or_now(now)
    if not actor.may("case.estimate"):
        raise PermissionDenied()
    problems: list[FieldError] = []  # both fields are named when both are wrong
    try:
        value = _check_amount(amount)
    except ValidationFailed as refusal:
        problems.extend(refusal.errors)
    try:
        note = _check_note(note)
    except ValidationFailed as refusal:
        problems.extend(refusal.errors)
    if problems:
        raise ValidationFailed(problems)
    limit = Decimal(str(get_setting(session, "estimate.confirm_above")))
    if needs_confirmation(value, limit) and not confirmed:
        raise NeedsConfirmation("amount.confirm_large", field="estimate", amount=value, limit=limit)
    case = load_visible_case(session, actor, case_id, for_update=True, expected_version=expected_version)
    if not actor.may("case.estimate_any") and case.surveyor_id != actor.person_id:
        raise PermissionDenied()
    if case.state == "closed":
        raise UserError("dispatch.error.case_closed", field="estimate")
    table = _table_for(session, case)
    band = tier_for(value, table.bands, compulsory_only=case.compulsory_only,
                    compulsory_tier=COMPULSORY_ONLY_TIER)
    new_code = band.code if band else NOT_TIERED
    tier_before = case.tier
    escalated = rank_of(new_code, table.bands) > rank_of(tier_before, table.bands)
    tier_after = new_code if escalated else tier_before

    estimate = Estimate(case_id=case.id, amount=value, tier_before=tier_before, tier_after=tier_after,
                        tier_rule_set_id=table.rule_set_id, recorded_at=now, recorded_by=actor.person_id,
                        reported_by=case.surveyor_id, note=note)
    session.add(estimate)
    previous = case.current_estimate
    case.current_estimate = value
    if case.state == "reported":
        case.state = "surveyed"
    case.version += 1
    session.flush()
    record_event(session, case_id=case.id, actor_id=actor.person_id, kind="estimate_recorded", at=now,
                 before=previous, after=value, tier_before=tier_before, tier_after=tier_after, note=note)
    result = EstimateResult(case.id, estimate.id, value, tier_before, tier_after, escalated, case_no=case.case_no)
    if escalated and band is not None:
        _dispatch_band(session, actor, case, table, band, first=tier_before == NOT_TIERED, now=now, result=result)
    flag_over_authority(session, case, actor_id=actor.person_id, now=now)  # 重大案件 (docs/DOMAIN.md §8)
    session.commit()
    return result


def _dispatch_band(session: Session, actor: Actor, case: ClaimCase, table: TierTable, band: TierBand, *,
                   first: bool, now: datetime, result: EstimateResult) -> None:
    settings = all_settings(session)
    case.tier = band.code
    case.tier_rule_set_id = table.rule_set_id
    if case.tiered_at is None:
        case.tiered_at = now
    if band.hq_notice:
        case.is_major = True
    if case.state in ("reported", "surveyed"):
        case.state = "dispatched"
    record_event(session, case_id=case.id, actor_id=actor.person_id, kind="case_tiered" if first else "case_escalated",
                 at=now, tier=band.code, rule_set_id=table.rule_set_id, rule_version=table.version)
    facts = _facts(case, result.amount)
    # D1: the surveyor's uploads, 24 h after the case is first dispatched.
    start_deadline(session, kind="D1", subject_key=survey_subject(case.id), started_at=now,
                   responsible_person_id=case.surveyor_id, case_id=case.id, branch_id=case.branch_id)
    for position in band.positions:
        holder = position_holder(session, case, position)
        if holder is None:
            result.vacant_positions.append(position)
            record_event(session, case_id=case.id, actor_id=actor.person_id, kind="dispatch_position_vacant",
                         at=now, tier=band.code, position=position)
            continue
        dispatch = Dispatch(case_id=case.id, tier=band.code, position=position, person_id=holder.id,
                            reason="initial" if first else "escalation", dispatched_at=now,
                            dispatched_by=actor.person_id)
        session.add(dispatch)
        session.flush()
        result.dispatched.append(DispatchedPerson(dispatch.id, holder.id, holder.full_name, position, band.code))
        for kind in ("D2", "D3"):
            start_deadline(session, kind=kind, subject_key=dispatch_subject(dispatch.id), started_at=now,
                           responsible_person_id=holder.id, case_id=case.id, branch_id=case.branch_id)
        queue_notification(session, case_id=case.id, recipient_id=holder.id, kind="dispatch",
                           body=render_dispatch(facts, int(settings["deadline.D2.hours"]),
                                                int(settings["deadline.D3.hours"])),
                           dedupe_key=f"dispatch:{dispatch.id}", now=now)
        record_event(session, case_id=case.id, actor_id=actor.person_id, kind="dispatched", at=now,
                     dispatch_id=dispatch.id, person_id=holder.id, person=holder.full_name, position=position,
                     tier=band.code)
    names = [d.full_name for d in result.dispatched if d.tier == band.code]
    dispatched_ids = {d.person_id for d in result.dispatched}
    # 抄送: every leader of a lower tier of the same case gets the copy template.
    for lower in lower_bands(band, table.bands):
        for position in lower.positions:
            holder = position_holder(session, case, position)
            if holder is None or holder.id in dispatched_ids or holder.id in result.copied_person_ids:
                continue
            result.copied_person_ids.append(holder.id)
            queue_notification(session, case_id=case.id, recipient_id=holder.id, kind="copy",
                               body=render_copy(facts, names), dedupe_key=f"copy:{case.id}:{band.code}:{holder.id}",
                               now=now)
    if result.copied_person_ids:
        record_event(session, case_id=case.id, actor_id=actor.person_id, kind="copied", at=now, tier=band.code,
                     person_ids=result.copied_person_ids)
    if band.hq_notice:
        _notify_hq_major(session, case, facts, names, now)


def _notify_hq_major(session: Session, case: ClaimCase, facts: NoticeFacts, names: list[str], now: datetime) -> None:
    hq_people = session.scalars(
        select(RoleAssignment.person_id).distinct()
        .where(RoleAssignment.role.in_(("hq_admin", "hq_reviewer")))
    ).all()
    for person_id in hq_people:
        queue_notification(session, case_id=case.id, recipient_id=person_id, kind="hq_major_notice",
                           body=render_copy(facts, names), dedupe_key=f"major:{case.id}:{person_id}", now=now)


def _load_dispatch(session: Session, actor: Actor, dispatch_id: int, *, expected_version: int | None = None,
                   expected_case_version: int | None = None) -> tuple[Dispatch, ClaimCase]:
    """The dispatch and its case, locked; refused as stale when either moved since the page drew them
    (the call center's colleague logged the same call, or the case was re-tiered meanwhile)."""
    dispatch = session.get(Dispatch, dispatch_id)
    if dispatch is None:
        raise NotFound()
    case = load_visible_case(session, actor, dispatch.case_id, for_update=True)
    session.refresh(dispatch, with_for_update=True)
    _check_versions(session, dispatch, case, expected_version, expected_case_version)
    return dispatch, case


def _check_versions(session: Session, dispatch: Dispatch, case: ClaimCase, expected_version: int | None,
                    expected_case_version: int | None) -> None:
    if expected_case_version is not None and case.version != expected_case_version:
        raise stale_case(session, case.id)
    if expected_version is not None and dispatch.version != expected_version:
        raise stale_dispatch(session, dispatch)


def stale_dispatch(session: Session, dispatch: Dispatch) -> UserError:
    """The refusal naming who last changed this dispatch and when (its latest history line)."""
    last = session.execute(
        select(CaseEvent.actor_id, CaseEvent.at)
        .where(CaseEvent.case_id == dispatch.case_id, CaseEvent.payload["dispatch_id"].astext == str(dispatch.id))
        .order_by(CaseEvent.at.desc(), CaseEvent.id.desc()).limit(1)).first()
    return stale_write(session, last.actor_id, last.at) if last else stale_case(session, dispatch.case_id)


def _others_go(session: Session, case: ClaimCase, dispatch: Dispatch, reason: str, now: datetime,
               result: ContactResult, absent_name: str) -> None:
    """Two-person tier: the other person is notified to go (第二章 一.3.2 / 4.2)."""
    settings = all_settings(session)
    others = session.scalars(select(Dispatch).where(
        Dispatch.case_id == case.id, Dispatch.tier == dispatch.tier, Dispatch.id != dispatch.id,
        Dispatch.contact_state.not_in(("unreachable", "unavailable")))).all()
    for other in others:
        other.goes_to_scene = True
        result.notified_person_ids.append(other.person_id)
        result.notified.append(NotifiedPerson(other.person_id, session.get(Person, other.person_id).full_name,
                                              other.position))
        queue_notification(session, case_id=case.id, recipient_id=other.person_id, kind="go_instead",
                           body=render_go_instead(case.case_no, absent_name, reason,
                                                  int(settings["deadline.D2.hours"])),
                           dedupe_key=f"go_instead:{dispatch.id}:{other.person_id}", now=now)


def _upper_names_person(session: Session, actor: Actor, case: ClaimCase, dispatch: Dispatch, now: datetime,
                        result: ContactResult, absent_name: str) -> None:
    """One-person tier unreachable: the next tier's persons are notified and one of them names who goes."""
    table = _table_for(session, case)
    upper = next_band(_band(table, dispatch.tier), table.bands)
    if upper is None:
        return
    settings = all_settings(session)
    for position in upper.positions:
        holder = position_holder(session, case, position)
        if holder is None:
            continue
        exists = session.scalar(select(Dispatch.id).where(Dispatch.case_id == case.id, Dispatch.person_id == holder.id,
                                                          Dispatch.tier == upper.code))
        if exists is None:
            session.add(Dispatch(case_id=case.id, tier=upper.code, position=position, person_id=holder.id,
                                 reason="unreachable_next_tier", goes_to_scene=False, dispatched_at=now,
                                 dispatched_by=actor.person_id))
        result.notified_person_ids.append(holder.id)
        result.notified.append(NotifiedPerson(holder.id, holder.full_name, position))
        queue_notification(session, case_id=case.id, recipient_id=holder.id, kind="name_person",
                           body=render_name_person(case.case_no, absent_name, int(settings["deadline.D2.hours"])),
                           dedupe_key=f"name_person:{dispatch.id}:{holder.id}", now=now)
    result.awaiting_delegate = True


@requires("dispatch.act")
def record_contact_attempt(session: Session, actor: Actor, dispatch_id: int, outcome: str, *,
                           reason_code: str | None = None, reason: str | None = None,
                           delegate_person_id: int | None = None, expected_version: int | None = None,
                           expected_case_version: int | None = None, now: datetime | None = None) -> ContactResult:
    """The call center logs a call to a dispatched person; the docs/DOMAIN.md §3 fallback rule follows.

    `reason_code`: which of 关机 / 无法接通 / 无人接听 (unreachable) or 出差 / 开会 (unavailable), required
    when the person was not reached (rules/contact_reasons.py); `reason` is a free note beside it. A
    caller that wrote the reason only in words ("电话关机") has it read from them.
    `expected_version` / `expected_case_version`: the dispatch's and the case's versions the page drew;
    a colleague's call logged meanwhile, or a re-tier, refuses this one as stale.
    """
    now = clock.or_now(now)
    if outcome not in CONTACT_OUTCOMES:
        raise ValidationFailed([FieldError("outcome", "dispatch.error.bad_outcome")])
    reason = (reason or "").strip() or None
    if reason_code is None:
        reason_code = reason_from_words(outcome, reason)
    problem = reason_problem(outcome, reason_code)
    if problem:
        raise ValidationFailed([FieldError("reason_code", problem)])
    dispatch, case = _load_dispatch(session, actor, dispatch_id, expected_version=expected_version,
                                    expected_case_version=expected_case_version)
    person = session.get(Person, dispatch.person_id)
    table = _table_for(session, case)
    one_person = _band(table, dispatch.tier).person_count == 1
    names_delegate = delegate_person_id is not None and outcome == "unavailable" and one_person
    if names_delegate:
        _check_delegate(session, case, dispatch, delegate_person_id)
    # The call that names the delegate says so; a contact attempt is a record, never changed after.
    attempt = ContactAttempt(case_id=case.id, dispatch_id=dispatch.id, outcome=outcome, reason_code=reason_code,
                             reason=reason, recorded_at=now, recorded_by=actor.person_id,
                             delegate_person_id=delegate_person_id if names_delegate else None)
    session.add(attempt)
    session.flush()
    result = ContactResult(attempt.id, dispatch.id, outcome, case_no=case.case_no, person_name=person.full_name,
                           position=dispatch.position, reason_code=reason_code)
    dispatch.contact_state = outcome
    dispatch.version += 1
    record_event(session, case_id=case.id, actor_id=actor.person_id, kind="contact_attempt", at=now,
                 dispatch_id=dispatch.id, person=person.full_name, outcome=outcome, reason_code=reason_code,
                 reason=reason)
    if outcome != "reached":
        dispatch.goes_to_scene = False
        if one_person and outcome == "unreachable":
            _upper_names_person(session, actor, case, dispatch, now, result, person.full_name)
            result.next_step = "upper_names" if result.notified else "nobody_to_notify"
        elif one_person:  # unavailable: the first responsible names a delegate
            result.awaiting_delegate = delegate_person_id is None
            result.next_step = "name_delegate"
        else:
            _others_go(session, case, dispatch, reason or _REASON_WORDS.get(reason_code or "", outcome), now, result,
                       person.full_name)
            result.next_step = "others_go" if result.notified else "nobody_to_notify"
    session.flush()
    if names_delegate:
        delegate = _set_delegate(session, actor, case, dispatch, delegate_person_id, now)
        result.awaiting_delegate, result.next_step, result.delegate_name = False, "delegate_named", delegate.full_name
    session.commit()
    return result


# The reason as the notification to the other person words it (the template takes text).
_REASON_WORDS = {"phone_off": "电话关机", "cannot_connect": "电话无法接通", "no_answer": "电话无人接听",
                 "business_trip": "出差", "meeting": "开会"}


def _check_delegate(session: Session, case: ClaimCase, dispatch: Dispatch, delegate_person_id: int) -> Person:
    """The delegate named for `dispatch`: an active person of the case's branch, not the one absent."""
    delegate = session.get(Person, delegate_person_id)
    in_branch = session.scalar(
        select(RoleAssignment.id).join(OrgUnit, OrgUnit.id == RoleAssignment.unit_id)
        .where(RoleAssignment.person_id == delegate_person_id,
               (OrgUnit.id == case.branch_id) | (OrgUnit.parent_id == case.branch_id)).limit(1))
    if delegate is None or not delegate.active or in_branch is None:
        raise ValidationFailed([FieldError("delegate", "dispatch.error.delegate_not_in_branch")])
    if delegate_person_id == dispatch.person_id:
        raise ValidationFailed([FieldError("delegate", "dispatch.error.delegate_is_self")])
    return delegate


def _set_delegate(session: Session, actor: Actor, case: ClaimCase, dispatch: Dispatch, delegate_person_id: int,
                  now: datetime) -> Person:
    delegate = _check_delegate(session, case, dispatch, delegate_person_id)
    settings = all_settings(session)
    dispatch.delegate_person_id = delegate_person_id
    dispatch.contact_state = "delegated"
    dispatch.goes_to_scene = True  # the delegate goes in the first responsible's place
    dispatch.version += 1
    queue_notification(session, case_id=case.id, recipient_id=delegate_person_id, kind="delegate",
                       body=render_dispatch(_facts(case, case.current_estimate or Decimal(0)),
                                            int(settings["deadline.D2.hours"]), int(settings["deadline.D3.hours"])),
                       dedupe_key=f"delegate:{dispatch.id}:{delegate_person_id}", now=now)
    record_event(session, case_id=case.id, actor_id=actor.person_id, kind="delegate_named", at=now,
                 dispatch_id=dispatch.id, delegate_id=delegate_person_id, delegate=delegate.full_name,
                 responsible_id=dispatch.person_id)
    return delegate


@requires("case.read")
def name_delegate(session: Session, actor: Actor, dispatch_id: int, delegate_person_id: int, *,
                  expected_version: int | None = None, expected_case_version: int | None = None,
                  now: datetime | None = None) -> DelegateResult:
    """Name who goes instead of a dispatched person (指定专人).

    The delegate's arrival counts for the 24-hour rule; responsibility (and any penalty) stays
    with the first responsible person, so the D2/D3 clocks keep their responsible person.
    Allowed: the call center recording it, the dispatched person, or an upper-tier leader
    notified for this case. `expected_version` / `expected_case_version` as for record_contact_attempt.
    """
    now = clock.or_now(now)
    dispatch, case = _load_dispatch(session, actor, dispatch_id)
    upper_ids = set(session.scalars(select(Dispatch.person_id).where(
        Dispatch.case_id == case.id, Dispatch.reason == "unreachable_next_tier")))
    allowed = actor.may("dispatch.act") or actor.person_id == dispatch.person_id or actor.person_id in upper_ids
    if not allowed:
        raise PermissionDenied()
    _check_versions(session, dispatch, case, expected_version, expected_case_version)
    if dispatch.contact_state not in ("unreachable", "unavailable", "delegated"):
        raise UserError("dispatch.error.delegate_needs_absence", field="delegate")
    delegate = _set_delegate(session, actor, case, dispatch, delegate_person_id, now)
    absent = session.get(Person, dispatch.person_id)
    result = DelegateResult(case.case_no, dispatch.id, absent.full_name, delegate.full_name, delegate.title)
    session.commit()
    return result
