"""Advance a case along its life cycle (docs/DOMAIN.md §2), with optimistic locking and history."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dashboard import clock
from dashboard.rules.case_states import REOPENED, manual_targets, transition_error
from dashboard.rules.risk_colour import RED
from dashboard.services.actor import Actor
from dashboard.services.cases.access import load_visible_case
from dashboard.services.stale import stale_case
from dashboard.rules.typed_fields import read_amount
from dashboard.services.errors import FieldError, PermissionDenied, UserError, ValidationFailed
from dashboard.services.cases.history import record_event
from dashboard.services.capability import requires
from dashboard.services.clocks.deadlines import stop_case_clocks
from db.models import ClaimCase, Upload

# Who may move a case forward by hand (within the cases they may see). HQ reviewers, supervisors
# and the executive office read and comment; they do not run the claim (docs/DOMAIN.md §1).


@requires("case.read")
def may_change_state(actor: Actor) -> bool:
    return actor.may("case.change_state")


@requires("case.read")
def allowed_targets(actor: Actor, state: str) -> tuple[str, ...]:
    return manual_targets(state) if may_change_state(actor) else ()


@requires("case.change_state")
def advance_state(session: Session, actor: Actor, case_id: int, to_state: str, expected_version: int,
                  now: datetime | None = None, paid_amount: object = None) -> ClaimCase:
    """Move the case to `to_state`; refused if someone changed the case since `expected_version`.

    Marking it paid records the amount paid (`paid_amount`, required, above 0: the quality scorecard's
    paid figures); closing a case nothing was paid on records a zero closure (零结案), which a
    reopening keeps on record (零结案重开率)."""
    now = clock.or_now(now)
    case = load_visible_case(session, actor, case_id)  # NotFound for a case the actor may not see
    if not may_change_state(actor):
        raise PermissionDenied("detail.state.forbidden")
    if case.version != expected_version:
        raise stale_case(session, case.id)
    error = transition_error(case.state, to_state)
    if error:
        raise UserError(error, field="to_state", current=case.state, target=to_state)
    if to_state == "closed" and case.risk_colour == RED and not session.scalar(
            select(Upload.id).where(Upload.case_id == case_id, Upload.kind == "investigation_report").limit(1)):
        # 红区案件以严为主 (docs/DOMAIN.md §6): not closed before the investigation report is in.
        raise UserError("detail.state.red_needs_report", field="to_state")
    before = case.state
    values: dict[str, object] = {"state": to_state, "version": ClaimCase.version + 1}
    paid = _paid(paid_amount) if to_state == "paid" else None
    if paid is not None:
        values["paid_amount"] = paid
    if to_state == "closed":
        values["closed_at"] = now
        if case.paid_amount is None or case.paid_amount == 0:
            values["paid_amount"], values["zero_closed"] = 0, True
    if to_state == REOPENED:
        values["closed_at"] = None
        values["reopen_count"] = ClaimCase.reopen_count + 1  # 零结案重开率 counts these
    # Compare-and-set on version: a concurrent writer that got in first makes this update miss.
    result = session.execute(
        update(ClaimCase).where(ClaimCase.id == case_id, ClaimCase.version == expected_version)
        .values(**values).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        session.rollback()
        raise stale_case(session, case_id)
    record_event(session, case_id=case_id, actor_id=actor.person_id, kind="state_changed", at=now,
                 before=before, after=to_state, version=expected_version + 1,
                 **({"paid_amount": paid} if paid is not None else {}))
    if to_state == "closed":
        stop_case_clocks(session, case_id, now)
    session.commit()
    session.refresh(case)
    return case


def _paid(value: object) -> Decimal:
    """The amount paid, as typed: required and above 0 (nothing paid: close the case instead)."""
    errors: list[FieldError] = []
    amount = read_amount(errors, "paid_amount", value, required=True)
    if amount is not None and amount <= 0:
        errors.append(FieldError("paid_amount", "detail.state.paid_positive"))
    if errors:
        raise ValidationFailed(errors)
    assert amount is not None
    return amount
