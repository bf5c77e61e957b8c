"""Case intake (公司理赔管理制度 报案受理, docs/DOMAIN.md §2): validate every field, register all or nothing.

One validator serves the registration form and the bulk import: `IntakeReference` holds what a
check needs from the database (sub-branches, surveyors, the earliest date allowed), loaded once,
so a 10,000-row file is validated without a query per row. How text, phone numbers, dates and
amounts are read is written down in rules/intake_fields.py and rules/amounts.py.

A case number is unique across the company, so a number taken by another branch cannot be used.
Who may only see their own sub-branch (a surveyor) is told that the number cannot be used, in the
same words whether the case is theirs or another branch's: the refusal never says that, or where,
another branch holds it. The call center and HQ, who see every case, are told it exists.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dashboard import clock
from dashboard.rules.case_input import (
    CASE_NO_FORMAT, TEXT_LIMITS, CaseInput, IntakeReference, SubBranchRef, case_columns, check_case_input,
    problem_error,
)
from dashboard.rules.intake_fields import FieldProblem, clean_text
from dashboard.rules.intake_fields import earliest_date as read_earliest_date
from dashboard.services.actor import Actor
from dashboard.services.cases.access import find_case_id, load_visible_case
from dashboard.services.dispatching.dispatch import record_estimate
from dashboard.services.errors import FieldError, ValidationFailed
from dashboard.services.cases.history import record_event
from dashboard.services.cases.risk import classify_case
from dashboard.services.reference import get_setting
from dashboard.services.capability import requires
from db.models import ClaimCase, OrgUnit, Person, RoleAssignment


@requires("case.register")
def load_reference(session: Session, actor: Actor, case_nos: Iterable[str] = ()) -> IntakeReference:
    """Sub-branches, surveyors and the given case numbers already in the database (3 queries)."""
    units = session.execute(select(OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.parent_id)
                            .where(OrgUnit.level == "sub_branch")).all()
    sub_branches = {u.id: SubBranchRef(u.id, u.code, u.name, u.parent_id) for u in units}
    by_key: dict[str, int] = {}
    for ref in sub_branches.values():
        by_key[ref.code.lower()] = ref.id
        by_key[ref.name.lower()] = ref.id
    rows = session.execute(
        select(Person.id, Person.username, RoleAssignment.unit_id)
        .join(RoleAssignment, RoleAssignment.person_id == Person.id)
        .where(RoleAssignment.role == "surveyor", Person.active.is_(True))).all()
    units_of: dict[int, set[int]] = {}
    by_username: dict[str, int] = {}
    for person_id, username, unit_id in rows:
        units_of.setdefault(person_id, set()).add(unit_id)
        by_username[username.lower()] = person_id
    if actor.may("case.register_any_branch"):
        allowed = None
    else:
        allowed = frozenset(a.unit_id for a in actor.assignments
                            if a.role == "surveyor" and a.unit_level == "sub_branch")
    # Only numbers that could be valid are looked up (a NUL would make the driver raise).
    wanted = sorted({str(n).strip() for n in case_nos if n and CASE_NO_FORMAT.match(str(n).strip())
                     and len(str(n).strip()) <= TEXT_LIMITS["case_no"]})
    # Numbers taken in any branch: row-level security hides other branches' cases, and a number is
    # unique nationally. The database answers which are taken, never whose (issue 25 #7).
    existing: set[str] = set()
    for start in range(0, len(wanted), 5000):
        existing.update(session.scalars(text("SELECT claims_case_nos_taken(:nos)"),
                                        {"nos": wanted[start:start + 5000]}))
    return IntakeReference(sub_branches, by_key, {k: frozenset(v) for k, v in units_of.items()},
                           by_username, allowed, existing,
                           read_earliest_date(get_setting(session, "intake.earliest_date")))


# ---------------------------------------------------------------- the service


@dataclass(frozen=True)
class RegisteredCase:
    case_id: int
    case_no: str
    tier: str
    estimate_recorded: bool
    risk_colour: str | None = None


@requires("case.register")
def register_case(session: Session, actor: Actor, data: CaseInput, now: datetime | None = None, *,
                  estimate_confirmed: bool = False) -> RegisteredCase:
    """Register one reported case (报案受理); with `initial_estimate`, record it and dispatch too.

    All or nothing: any field error raises ValidationFailed listing every field, nothing saved. An
    initial estimate above the plausibility limit raises NeedsConfirmation (nothing saved) unless
    the person confirmed it (`estimate_confirmed`).
    """
    now = clock.or_now(now)
    ref = load_reference(session, actor, [str(data.case_no or "")])
    values, errors = check_case_input(data, ref, now)
    if (values["initial_estimate"] is not None and not actor.may("case.register_any_branch")
            and values["surveyor_id"] not in (None, actor.person_id)):
        # 分级管理办法: the call center records estimates; a surveyor only for their own case.
        errors.append(FieldError("initial_estimate", "cases.error.estimate_only_own_case"))
    if errors:
        raise ValidationFailed(errors)
    case = ClaimCase(**case_columns(values), state="reported", tier="T0", created_by=actor.person_id,
                     created_at=now)
    try:
        with session.begin_nested():
            session.add(case)
            session.flush()
    except IntegrityError as exc:  # a concurrent registration took the number meanwhile
        session.rollback()
        if "case_no" in str(exc.orig):
            raise ValidationFailed([ref.duplicate_error(values["case_no"])]) from exc
        raise
    classify_case(session, case, actor_id=actor.person_id, now=now, record=False)
    record_event(session, case_id=case.id, actor_id=actor.person_id, kind="case_registered", at=now,
                 case_no=case.case_no, sub_branch_id=case.sub_branch_id, surveyor_id=case.surveyor_id,
                 business_line=case.business_line, report_time=case.report_time,
                 risk_colour=case.risk_colour, risk_criteria=list(case.risk_criteria or []))
    estimate = values["initial_estimate"]
    tier = case.tier
    if estimate is None:
        session.commit()
    else:
        # The dispatch service commits the case and its estimate together; a refusal there
        # rolls the registration back with it (all or nothing).
        try:
            tier = record_estimate(session, actor, case.id, estimate, now=now, confirmed=estimate_confirmed).tier_after
        except Exception:
            session.rollback()
            raise
    return RegisteredCase(case.id, values["case_no"], tier, estimate is not None, case.risk_colour)


@dataclass(frozen=True)
class IntakeOptions:
    """Choices for the registration form: the sub-branches the actor may use, and their surveyors."""

    sub_branches: list[tuple[int, str]]  # (id, "branch / sub-branch")
    surveyors: dict[int, list[tuple[int, str]]]  # sub-branch id -> [(person id, name)]
    earliest_date: date  # no date before it is accepted (rule setting intake.earliest_date)


@requires("case.register")
def intake_options(session: Session, actor: Actor) -> IntakeOptions:
    branch = OrgUnit.__table__.alias("branch")
    query = (select(OrgUnit.id, OrgUnit.name, branch.c.name)
             .join(branch, branch.c.id == OrgUnit.parent_id)
             .where(OrgUnit.level == "sub_branch").order_by(branch.c.code, OrgUnit.code))
    if not actor.may("case.register_any_branch"):
        own = sorted(a.unit_id for a in actor.assignments if a.role == "surveyor" and a.unit_level == "sub_branch")
        query = query.where(OrgUnit.id.in_(own))
    subs = [(sid, f"{bname} / {name}") for sid, name, bname in session.execute(query).all()]
    people = session.execute(
        select(RoleAssignment.unit_id, Person.id, Person.full_name, Person.username)
        .join(Person, Person.id == RoleAssignment.person_id)
        .where(RoleAssignment.role == "surveyor", Person.active.is_(True),
               RoleAssignment.unit_id.in_([s for s, _ in subs]))
        .order_by(Person.username)).all()
    surveyors: dict[int, list[tuple[int, str]]] = {}
    for unit_id, pid, name, username in people:
        surveyors.setdefault(unit_id, []).append((pid, f"{name}（{username}）"))
    return IntakeOptions(subs, surveyors, read_earliest_date(get_setting(session, "intake.earliest_date")))


# ---------------------------------------------------------------- the estimate tab's case


@dataclass(frozen=True)
class EstimateTarget:
    """The case the estimate tab shows before an estimate is recorded: the page passes `case_id`
    and `version` exactly as shown, so an estimate meant for this case, as it was, lands nowhere else."""

    case_id: int
    case_no: str
    version: int
    unit: str  # "分公司 / 三级机构"
    state: str
    tier: str
    current_estimate: Decimal | None


@requires("case.estimate")
def estimate_target(session: Session, actor: Actor, case_no: str) -> EstimateTarget:
    """The case with this number as the actor may see it; NotFound otherwise (also for another
    branch's case: never revealed). The typed number is read with the intake's text rule first,
    so a control character is refused by name instead of reaching the database."""
    try:
        typed = clean_text(case_no, max_len=TEXT_LIMITS["case_no"])
    except FieldProblem as problem:
        raise ValidationFailed([problem_error("case_no", problem)]) from None
    if typed is None:
        raise ValidationFailed([FieldError("case_no", "cases.error.required")])
    case = load_visible_case(session, actor, find_case_id(session, actor, typed))
    branch = OrgUnit.__table__.alias("branch")
    sub, parent = session.execute(select(OrgUnit.name, branch.c.name).join(branch, branch.c.id == OrgUnit.parent_id)
                                  .where(OrgUnit.id == case.sub_branch_id)).one()
    return EstimateTarget(case.id, case.case_no, case.version, f"{parent} / {sub}", case.state, case.tier,
                          case.current_estimate)
