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
    CaseFacts, render_copy, render_dispatch, render_go_instead, render_name_person,
)
from dashboard.rules.amounts import AmountProblem, needs_confirmation, parse_amount
from dashboard.rules.tiers import NOT_TIERED, TierBand, lower_bands, next_band, rank_of, tier_for
from dashboard.services.actor import Actor
from dashboard.services.case_access import load_visible_case
from dashboard.services.deadlines import start_deadline
from dashboard.services.errors import (
    FieldError, NeedsConfirmation, NotFound, PermissionDenied, UserError, ValidationFailed,
)
from dashboard.services.history import record_event
from dashboard.services.outbox import queue_notification
from dashboard.services.rule_settings import all_settings, get_setting
from dashboard.services.tiers import TierTable, active_tier_table, tier_table_by_id
from dashboard.settings import COMPULSORY_ONLY_TIER, SUB_BRANCH_POSITIONS
from db.models import (
    ClaimCase, ContactAttempt, Dispatch, Estimate, OrgUnit, Person, RoleAssignment,
)

DISPATCH_ROLES = ("call_center", "hq_admin")
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


@dataclass
class ContactResult:
    attempt_id: int
    dispatch_id: int
    outcome: str
    notified_person_ids: list[int] = field(default_factory=list)
    awaiting_delegate: bool = False


def _facts(case: ClaimCase, amount: Decimal) -> CaseFacts:
    return CaseFacts(case.case_no, case.insured_name, case.plate_no, case.province, case.city, case.address,
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


def _table_for(session: Session, case: ClaimCase) -> TierTable:
    # A case keeps the rule version it was tiered under; an untiered case takes today's table.
    if case.tier_rule_set_id is not None:
        return tier_table_by_id(session, case.tier_rule_set_id)
    return active_tier_table(session, case.branch_id)


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
    if not actor.has_role(*DISPATCH_ROLES, "surveyor"):
        raise PermissionDenied()
    value = _check_amount(amount)
    limit = Decimal(str(get_setting(session, "estimate.confirm_above")))
    if needs_confirmation(value, limit) and not confirmed:
        raise NeedsConfirmation("amount.confirm_large", field="estimate", amount=value, limit=limit)
    case = load_visible_case(session, actor, case_id, for_update=True, expected_version=expected_version)
    if not actor.has_role(*DISPATCH_ROLES) and case.surveyor_id != actor.person_id:
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
    result = EstimateResult(case.id, estimate.id, value, tier_before, tier_after, escalated)
    if escalated and band is not None:
        _dispatch_band(session, actor, case, table, band, first=tier_before == NOT_TIERED, now=now, result=result)
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
    start_deadline(session, kind="D1", subject_key=f"case:{case.id}:survey", started_at=now,
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
            start_deadline(session, kind=kind, subject_key=f"dispatch:{dispatch.id}", started_at=now,
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


def _notify_hq_major(session: Session, case: ClaimCase, facts: CaseFacts, names: list[str], now: datetime) -> None:
    hq_people = session.scalars(
        select(RoleAssignment.person_id).distinct()
        .where(RoleAssignment.role.in_(("hq_admin", "hq_reviewer")))
    ).all()
    for person_id in hq_people:
        queue_notification(session, case_id=case.id, recipient_id=person_id, kind="hq_major_notice",
                           body=render_copy(facts, names), dedupe_key=f"major:{case.id}:{person_id}", now=now)


def _load_dispatch(session: Session, actor: Actor, dispatch_id: int) -> tuple[Dispatch, ClaimCase]:
    dispatch = session.get(Dispatch, dispatch_id)
    if dispatch is None:
        raise NotFound()
    case = load_visible_case(session, actor, dispatch.case_id, for_update=True)
    session.refresh(dispatch, with_for_update=True)
    return dispatch, case


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
        queue_notification(session, case_id=case.id, recipient_id=holder.id, kind="name_person",
                           body=render_name_person(case.case_no, absent_name, int(settings["deadline.D2.hours"])),
                           dedupe_key=f"name_person:{dispatch.id}:{holder.id}", now=now)
    result.awaiting_delegate = True


def record_contact_attempt(session: Session, actor: Actor, dispatch_id: int, outcome: str, *,
                           reason: str | None = None, delegate_person_id: int | None = None,
                           now: datetime | None = None) -> ContactResult:
    """The call center logs a call to a dispatched person; the SPEC §3 fallback rule follows."""
    now = clock.or_now(now)
    if not actor.has_role(*DISPATCH_ROLES):
        raise PermissionDenied()
    if outcome not in CONTACT_OUTCOMES:
        raise ValidationFailed([FieldError("outcome", "dispatch.error.bad_outcome")])
    dispatch, case = _load_dispatch(session, actor, dispatch_id)
    person = session.get(Person, dispatch.person_id)
    attempt = ContactAttempt(case_id=case.id, dispatch_id=dispatch.id, outcome=outcome, reason=(reason or None),
                             recorded_at=now, recorded_by=actor.person_id)
    session.add(attempt)
    session.flush()
    result = ContactResult(attempt.id, dispatch.id, outcome)
    table = _table_for(session, case)
    one_person = _band(table, dispatch.tier).person_count == 1
    dispatch.contact_state = outcome
    dispatch.version += 1
    record_event(session, case_id=case.id, actor_id=actor.person_id, kind="contact_attempt", at=now,
                 dispatch_id=dispatch.id, person=person.full_name, outcome=outcome, reason=reason)
    if outcome != "reached":
        dispatch.goes_to_scene = False
        if one_person and outcome == "unreachable":
            _upper_names_person(session, actor, case, dispatch, now, result, person.full_name)
        elif one_person:  # unavailable: the first responsible names a delegate
            result.awaiting_delegate = delegate_person_id is None
        else:
            _others_go(session, case, dispatch, reason or outcome, now, result, person.full_name)
    session.flush()
    if delegate_person_id is not None and outcome == "unavailable" and one_person:
        _set_delegate(session, actor, case, dispatch, delegate_person_id, now)
        attempt.delegate_person_id = delegate_person_id  # the call that named the delegate says so
    session.commit()
    return result


def _set_delegate(session: Session, actor: Actor, case: ClaimCase, dispatch: Dispatch, delegate_person_id: int,
                  now: datetime) -> None:
    delegate = session.get(Person, delegate_person_id)
    in_branch = session.scalar(
        select(RoleAssignment.id).join(OrgUnit, OrgUnit.id == RoleAssignment.unit_id)
        .where(RoleAssignment.person_id == delegate_person_id,
               (OrgUnit.id == case.branch_id) | (OrgUnit.parent_id == case.branch_id)).limit(1))
    if delegate is None or not delegate.active or in_branch is None:
        raise ValidationFailed([FieldError("delegate", "dispatch.error.delegate_not_in_branch")])
    if delegate_person_id == dispatch.person_id:
        raise ValidationFailed([FieldError("delegate", "dispatch.error.delegate_is_self")])
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


def name_delegate(session: Session, actor: Actor, dispatch_id: int, delegate_person_id: int, *,
                  now: datetime | None = None) -> None:
    """Name who goes instead of a dispatched person (指定专人).

    The delegate's arrival counts for the 24-hour rule; responsibility (and any penalty) stays
    with the first responsible person, so the D2/D3 clocks keep their responsible person.
    Allowed: the call center recording it, the dispatched person, or an upper-tier leader
    notified for this case.
    """
    now = clock.or_now(now)
    dispatch, case = _load_dispatch(session, actor, dispatch_id)
    upper_ids = set(session.scalars(select(Dispatch.person_id).where(
        Dispatch.case_id == case.id, Dispatch.reason == "unreachable_next_tier")))
    allowed = actor.has_role(*DISPATCH_ROLES) or actor.person_id == dispatch.person_id or actor.person_id in upper_ids
    if not allowed:
        raise PermissionDenied()
    if dispatch.contact_state not in ("unreachable", "unavailable", "delegated"):
        raise UserError("dispatch.error.delegate_needs_absence", field="delegate")
    _set_delegate(session, actor, case, dispatch, delegate_person_id, now)
    session.commit()
