"""Raising a special case and deciding it, level by level (特殊赔案理赔管理办法, docs/DOMAIN.md §8).

The claims side raises the case with the business unit's justification (三.3: for a key customer
the policies, premium written and collected, this year's paid and pending losses and past loss
ratios; for a prospect the expected premium and when it comes; for a reputation case the
customer's background). The chain is drawn when the case is raised, from the limits in force then
(settings `special.limit.*`), and kept with it: a later change of limits does not move a request
already on its way. Each level's holder (the post, in the case's sub-branch or branch) approves or
rejects with a comment; a rejection ends it, the last approval approves it. The request travels
beside the claim: nothing here changes the case's state, estimate or tier (五.1).

Nobody approves what they raised: a raiser who holds a level of the chain endorses it by raising
(his level is recorded as passed, 本人上报视为本级同意), and a chain that would end at his own level
climbs one more (上提一级). This is our reading where the source is silent (docs/DOMAIN.md §8):
without it a sub-branch claims head's own request waited for himself, and stuck wherever he was
the post's only holder. Only the branch GM's own request at the top waits for another holder,
and is refused where there is none.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from sqlalchemy import Select, and_, bindparam, case, false, func, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from dashboard import clock
from dashboard.rules.amounts import AmountProblem, parse_amount
from dashboard.rules.typed_fields import read_amount, read_text
from dashboard.rules.special_cases import TYPE_C_EXCLUSIONS, TYPES, approval_chain, type_c_refusals
from dashboard.services import reference
from dashboard.services.actor import Actor, case_row_scope
from dashboard.services.capability import requires
from dashboard.services.cases.access import find_case_id, load_visible_case
from dashboard.services.cases.history import record_event
from dashboard.services.errors import FieldError, NotFound, UserError, ValidationFailed
from dashboard.services.outbox import notify, zh
from dashboard.services.stale import stale_write
from dashboard.services.statements import as_rows, built_once, count_then_page, json_rows, read
from dashboard.settings import BUSINESS_TZ, SPECIAL_APPROVAL_LEVELS, SPECIAL_APPROVER_POSITIONS, SUB_BRANCH_APPROVAL_LEVELS
from db.models import (
    CUSTOMER_KINDS, ClaimCase, OrgUnit, Person, RoleAssignment, SpecialApproval, SpecialCase,
)

STATUSES = ("pending", "approved", "rejected")
DECISIONS = ("approved", "rejected")
TEXT_MAX = 2000
COMMENT_MAX = 1000  # a level's comment
BRANCH, SUB, RAISER = aliased(OrgUnit), aliased(OrgUnit), aliased(Person)


def approval_limits(session: Session) -> dict[str, Decimal | None]:
    """The limits in force: each level's `special.limit.<level>` setting; the branch GM has none."""
    return {level: (None if level == SPECIAL_APPROVAL_LEVELS[-1]
                    else Decimal(str(reference.get_setting(session, f"special.limit.{level}"))))
            for level in SPECIAL_APPROVAL_LEVELS}


# ---------------------------------------------------------------- raising


@dataclass
class SpecialRequest:
    """What the raise form sends, as typed (amounts as text): the service validates every field."""

    special_type: str | None = None
    customer_kind: str | None = None
    circumstances: list[str] = field(default_factory=list)
    requested_amount: object = None
    normal_amount: object = None
    reason: str | None = None
    policy_numbers: str | None = None
    premium_written: object = None
    premium_collected: object = None
    paid_losses: object = None
    pending_losses: object = None
    past_loss_ratio_pct: object = None
    expected_premium: object = None
    expected_premium_on: date | None = None
    customer_background: str | None = None


_KEY_CUSTOMER_AMOUNTS = ("premium_written", "premium_collected", "paid_losses", "pending_losses")


def _percent(errors: list[FieldError], name: str, value: object) -> Decimal | None:
    """A ratio in per cent: 38, 38.5, or 38% as a person writes a ratio (the sign is read as meant).
    Anything else is named as a bad percentage, not as a bad amount of money."""
    typed = unicodedata.normalize("NFKC", "" if value is None else str(value)).strip()
    found: list[FieldError] = []
    number = read_amount(found, name, typed[:-1] if typed.endswith("%") else typed, required=True)
    if found:
        errors.extend(FieldError(name, "special.error.percent", {"value": str(value)})
                      if e.key.startswith("amount.") else e for e in found)
        return None
    if number is not None and number > Decimal(1000):
        errors.append(FieldError(name, "special.error.ratio"))
        return None
    return number


def _named(errors: list[FieldError]) -> list[FieldError]:
    """Fields as the form labels them: special.<name> (ui/forms.field_label)."""
    return [FieldError(f"special.{e.field}", e.key, e.params) for e in errors]


def _validate(request: SpecialRequest, today: date) -> tuple[dict, list[FieldError]]:
    errors: list[FieldError] = []
    values: dict = {}
    if request.special_type not in TYPES:
        errors.append(FieldError("type", "special.error.type"))
    if request.customer_kind not in CUSTOMER_KINDS:
        errors.append(FieldError("customer_kind", "special.error.customer_kind"))
    unknown = [c for c in request.circumstances if c not in TYPE_C_EXCLUSIONS]
    if unknown:
        errors.append(FieldError("circumstances", "special.error.circumstance"))
    if request.special_type == "C":
        errors.extend(FieldError("circumstances", f"special.error.type_c.{reason}")
                            for reason in type_c_refusals(request.circumstances))
    values["requested_amount"] = read_amount(errors, "requested_amount", request.requested_amount, required=True)
    values["normal_amount"] = read_amount(errors, "normal_amount", request.normal_amount, required=True)
    requested, normal = values["requested_amount"], values["normal_amount"]
    if requested is not None and requested <= 0:
        errors.append(FieldError("requested_amount", "special.error.requested_positive"))
    elif requested is not None and normal is not None and normal > requested:
        errors.append(FieldError("normal_amount", "special.error.normal_above_requested"))
    values["reason"] = read_text(errors, "reason", request.reason, required=True, max_len=TEXT_MAX, multiline=True)
    kind = request.customer_kind
    values["policy_numbers"] = read_text(errors, "policy_numbers", request.policy_numbers,
                                         required=kind == "key_customer", max_len=500)
    for name in _KEY_CUSTOMER_AMOUNTS:
        values[name] = read_amount(errors, name, getattr(request, name), required=kind == "key_customer")
    values["past_loss_ratio_pct"] = (_percent(errors, "past_loss_ratio_pct", request.past_loss_ratio_pct)
                                     if kind == "key_customer" else None)
    values["expected_premium"] = read_amount(errors, "expected_premium", request.expected_premium,
                                             required=kind == "prospect")
    values["expected_premium_on"] = request.expected_premium_on
    if kind == "prospect" and request.expected_premium_on is None:
        errors.append(FieldError("expected_premium_on", "cases.error.required"))
    elif kind == "prospect" and request.expected_premium_on < today:
        errors.append(FieldError("expected_premium_on", "special.error.expected_in_past"))
    values["customer_background"] = read_text(errors, "customer_background", request.customer_background,
                                              required=kind == "reputation", max_len=TEXT_MAX, multiline=True)
    return values, errors


@requires("special.raise")
def raise_special(session: Session, actor: Actor, case_id: int, request: SpecialRequest, *,
                  now: datetime | None = None) -> SpecialCase:
    """Raise the case as special: validated whole, the chain drawn, the first level told. Refused
    while the case has a request pending."""
    now = clock.or_now(now)
    case = load_visible_case(session, actor, case_id, for_update=True)
    values, errors = _validate(request, now.astimezone(BUSINESS_TZ).date())
    if errors:
        raise ValidationFailed(_named(errors))
    limits = approval_limits(session)
    try:
        chain = approval_chain(values["requested_amount"], reputation=request.customer_kind == "reputation",
                               limits=limits)
    except ValueError as exc:
        raise UserError("special.error.limits") from exc
    units = _RequestUnits(case.branch_id, case.sub_branch_id)
    chain, passed = raised_chain(chain, actor, units)
    if nobody_else_decides(session, actor, units, chain):
        raise UserError("special.error.no_other_holder")
    row = SpecialCase(case_id=case.id, branch_id=case.branch_id, sub_branch_id=case.sub_branch_id,
                      special_type=request.special_type, customer_kind=request.customer_kind,
                      circumstances=sorted(set(request.circumstances)), chain=list(chain),
                      limits={k: (None if v is None else str(v)) for k, v in limits.items()},
                      next_level=_next_waiting(chain, passed, 0), status="pending", raised_by=actor.person_id,
                      raised_at=now, version=1, **values)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise UserError("special.error.already_pending") from exc
    session.add_all(SpecialApproval(special_case_id=row.id, level=level, decision="approved",
                                    comment=zh("special.own_level_passed"), person_id=actor.person_id, at=now)
                    for level in passed)
    record_event(session, case_id=case.id, actor_id=actor.person_id, kind="special_raised", at=now,
                 special_case_id=row.id, special_type=row.special_type, requested=row.requested_amount,
                 chain=list(chain), passed=list(passed))
    _tell_next(session, row, case.case_no, now)
    session.commit()
    return row


@requires("special.raise")
def raise_special_by_number(session: Session, actor: Actor, case_no: str | None, request: SpecialRequest, *,
                            now: datetime | None = None) -> SpecialCase:
    """Raise the case whose number the person typed (the raise form): a missing or unknown number is
    named together with every other field the form got wrong, in one answer. Checked one after the
    other, the form said only "报案号：必填" to an empty form and the rest on the next try."""
    now = clock.or_now(now)
    typed = (case_no or "").strip()
    errors: list[FieldError] = []
    case_id = None
    if not typed:
        errors.append(FieldError("special.case_no", "cases.error.required"))
    else:
        try:
            case_id = find_case_id(session, actor, typed)
        except NotFound:
            errors.append(FieldError("special.case_no", "special.case_not_found", {"case_no": typed}))
    errors += _named(_validate(request, now.astimezone(BUSINESS_TZ).date())[1])
    if errors:
        raise ValidationFailed(errors)
    return raise_special(session, actor, case_id, request, now=now)


class _Units(Protocol):
    """A request's units: all that says where each level's post is held (a SpecialCase, or its columns)."""

    branch_id: int
    sub_branch_id: int | None


def _level_unit(row: _Units, level: str) -> int:
    return (row.sub_branch_id or row.branch_id) if level in SUB_BRANCH_APPROVAL_LEVELS else row.branch_id


def raised_chain(chain: tuple[str, ...], raiser: Actor, units: _Units) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The chain a request climbs when `raiser` raises it, and the levels his raising passes: each
    level he holds in the request's units, save the last (a chain ending at his own level climbs to
    the one above; at the top, the branch GM's own request waits for another holder of the post)."""
    levels = list(chain)
    while holds_level(raiser, units, levels[-1]) and levels[-1] != SPECIAL_APPROVAL_LEVELS[-1]:
        levels.append(SPECIAL_APPROVAL_LEVELS[SPECIAL_APPROVAL_LEVELS.index(levels[-1]) + 1])
    return tuple(levels), tuple(lv for lv in levels[:-1] if holds_level(raiser, units, lv))


def nobody_else_decides(session: Session, raiser: Actor, units: _Units, chain: tuple[str, ...]) -> bool:
    """Whether the chain ends at the raiser's own post (only the branch GM's, at the top: below it the
    chain climbs) and no other active person holds it: raised, the request would wait for good."""
    last = chain[-1]
    return holds_level(raiser, units, last) and not any(
        pid != raiser.person_id for pid, _name in level_holders(session, units, last))


def _next_waiting(chain: list[str] | tuple[str, ...], passed: set[str] | tuple[str, ...], start: int) -> int:
    """The first level from `start` not already passed (len(chain) when none is left)."""
    while start < len(chain) and chain[start] in passed:
        start += 1
    return start


def level_holders(session: Session, row: _Units, level: str) -> list[tuple[int, str]]:
    """The active people holding the level's post in the request's unit: (id, name)."""
    return list(session.execute(
        select(Person.id, Person.full_name).join(RoleAssignment, RoleAssignment.person_id == Person.id)
        .where(RoleAssignment.role == "first_responsible", RoleAssignment.position == SPECIAL_APPROVER_POSITIONS[level],
               RoleAssignment.unit_id == _level_unit(row, level), Person.active.is_(True))
        .order_by(Person.id)).tuples())


def _tell_next(session: Session, row: SpecialCase, case_no: str, now: datetime) -> None:
    if row.status != "pending":
        return
    level = row.chain[row.next_level]
    notify(session, recipients=[pid for pid, _ in level_holders(session, row, level)], case_id=row.case_id,
           kind="special_approval", body=zh("special.notice.approve", case_no=case_no,
                                            level=zh(f"special.level.{level}")),
           dedupe_prefix=f"special:{row.id}:level:{row.next_level}", now=now)


def holds_level(actor: Actor, row: _Units, level: str) -> bool:
    """Whether the actor holds the level's post in the request's unit (the only way to decide it)."""
    unit = _level_unit(row, level)
    return any(a.role == "first_responsible" and a.position == SPECIAL_APPROVER_POSITIONS[level] and a.unit_id == unit
               for a in actor.assignments)


@requires("special.approve")
def decide_special(session: Session, actor: Actor, special_id: int, decision: str, comment: str | None, *,
                   expected_version: int, now: datetime | None = None) -> SpecialCase:
    """The waiting level's holder approves or rejects with a comment. Refused for anyone else, for a
    request already decided, and when the request moved since the person's screen was drawn."""
    now = clock.or_now(now)
    row = session.scalars(select(SpecialCase).where(SpecialCase.id == special_id).with_for_update()).first()
    if row is None:
        raise NotFound()
    case = load_visible_case(session, actor, row.case_id)
    if row.version != expected_version:
        last = session.execute(select(SpecialApproval.person_id, SpecialApproval.at)
                               .where(SpecialApproval.special_case_id == row.id)
                               .order_by(SpecialApproval.id.desc()).limit(1)).first()
        raise stale_write(session, *(last if last else (row.raised_by, row.raised_at)), family="special")
    if row.status != "pending":
        raise UserError("special.error.decided")
    level = row.chain[row.next_level]
    if not holds_level(actor, row, level):
        raise UserError("special.error.not_your_level")
    if row.raised_by == actor.person_id:
        raise UserError("special.error.own_request")  # nobody approves what they asked for
    errors: list[FieldError] = []
    if decision not in DECISIONS:
        errors.append(FieldError("decision", "special.error.decision"))
    comment_text = read_text(errors, "comment", comment, required=True, max_len=COMMENT_MAX, multiline=True)
    if errors:
        raise ValidationFailed(_named(errors))
    # Every holder's "待您审批" of this level is marked read by the database when the decision is
    # written (migration 0054's trigger): row-level security lets a person mark only their own.
    session.add(SpecialApproval(special_case_id=row.id, level=level, decision=decision, comment=comment_text,
                                person_id=actor.person_id, at=now))
    if decision == "rejected":
        row.status, row.decided_at = "rejected", now
    else:
        passed = set(session.scalars(select(SpecialApproval.level).where(
            SpecialApproval.special_case_id == row.id, SpecialApproval.decision == "approved")))
        row.next_level = _next_waiting(row.chain, passed, row.next_level + 1)
        if row.next_level == len(row.chain):
            row.status, row.decided_at = "approved", now
    row.version += 1
    record_event(session, case_id=row.case_id, actor_id=actor.person_id, kind="special_decided", at=now,
                 special_case_id=row.id, level=level, decision=decision, status=row.status)
    _tell_next(session, row, case.case_no, now)
    if row.status != "pending":
        notify(session, recipients=[row.raised_by], case_id=row.case_id, kind="special_decided",
               body=zh(f"special.notice.{row.status}", case_no=case.case_no),
               dedupe_prefix=f"special:{row.id}:{row.status}", now=now)
    session.commit()
    return row


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class SpecialRow:
    id: int
    case_id: int
    case_no: str
    branch: str
    sub_branch: str | None
    special_type: str
    customer_kind: str
    requested_amount: Decimal
    normal_amount: Decimal
    status: str
    waiting_level: str | None
    raised_at: datetime
    raised_by: str
    version: int

    @property
    def extra_amount(self) -> Decimal:
        return self.requested_amount - self.normal_amount


def _scope(actor: Actor) -> list:
    scope = case_row_scope(actor, SpecialCase.case_id, SpecialCase.branch_id, SpecialCase.sub_branch_id)
    return [] if scope is None else [scope]


def waiting_for(actor: Actor):
    """SQL: the pending requests whose waiting level is a post the actor holds, in its unit, and
    that the actor did not raise (nobody decides their own)."""
    conditions = []
    for level, position in SPECIAL_APPROVER_POSITIONS.items():
        for a in actor.assignments:
            if a.role != "first_responsible" or a.position != position:
                continue
            unit = (func.coalesce(SpecialCase.sub_branch_id, SpecialCase.branch_id)
                    if level in SUB_BRANCH_APPROVAL_LEVELS else SpecialCase.branch_id)
            conditions.append(and_(SpecialCase.chain[SpecialCase.next_level + 1] == level, unit == a.unit_id))
    if not conditions:
        return false()
    return and_(SpecialCase.status == "pending", SpecialCase.raised_by != actor.person_id, or_(*conditions))


# The case or the request a list is narrowed to, bound at execution: one built statement serves every id.
_CASE_ID, _SPECIAL_ID = bindparam("case_id"), bindparam("special_id")


@dataclass(frozen=True)
class _ListShape:
    """What a list's statement depends on besides the person: the filters chosen (not their ids)."""

    status: str | None
    special_type: str | None
    mine_only: bool
    by_case: bool
    by_id: bool


def _list_conditions(actor: Actor, shape: _ListShape) -> list:
    conditions = _scope(actor)
    if shape.status:
        conditions.append(SpecialCase.status == shape.status)
    if shape.special_type:
        conditions.append(SpecialCase.special_type == shape.special_type)
    if shape.mine_only:
        conditions.append(waiting_for(actor))
    if shape.by_case:
        conditions.append(SpecialCase.case_id == _CASE_ID)
    if shape.by_id:
        conditions.append(SpecialCase.id == _SPECIAL_ID)
    return conditions


@built_once
def _list_count(actor: Actor, shape: _ListShape) -> Select:
    return select(func.count()).select_from(SpecialCase).where(*_list_conditions(actor, shape))


_ROW_COLUMNS = (SpecialCase.id, SpecialCase.case_id, ClaimCase.case_no, BRANCH.name, SUB.name,
                SpecialCase.special_type, SpecialCase.customer_kind, SpecialCase.requested_amount,
                SpecialCase.normal_amount, SpecialCase.status, SpecialCase.chain[SpecialCase.next_level + 1],
                SpecialCase.raised_at, RAISER.full_name, SpecialCase.version)


def _with_names(query: Select) -> Select:
    return (query.join(ClaimCase, ClaimCase.id == SpecialCase.case_id)
            .join(BRANCH, BRANCH.id == SpecialCase.branch_id).outerjoin(SUB, SUB.id == SpecialCase.sub_branch_id)
            .join(RAISER, RAISER.id == SpecialCase.raised_by))


@built_once
def _list_page(actor: Actor, shape: _ListShape, limit: int, offset: int) -> Select:
    return (_with_names(select(*_ROW_COLUMNS)).where(*_list_conditions(actor, shape))
            .order_by(SpecialCase.raised_at.desc(), SpecialCase.id.desc()).limit(limit).offset(offset))


def _special_values(r) -> tuple:
    """A SpecialRow's values from a list or detail row: the level waiting only while pending."""
    return (*r[:10], r[10] if r[9] == "pending" else None, *r[11:14])


@requires("special.read")
def special_cases(session: Session, actor: Actor, *, status: str | None = None, special_type: str | None = None,
                  mine_only: bool = False, case_id: int | None = None, special_id: int | None = None,
                  limit: int = 50, offset: int = 0,
                  total: int | None = None) -> tuple[int, list[SpecialRow]]:
    """The special cases the actor may see, newest first; `mine_only`: those waiting for the actor."""
    if status is not None and status not in STATUSES:
        raise UserError("special.error.status")
    shape = _ListShape(status or None, special_type or None, mine_only, case_id is not None, special_id is not None)
    total, rows = count_then_page(session, lambda: _list_count(actor, shape),
                                  lambda: _list_page(actor, shape, limit, offset), limit=limit, total=total,
                                  params={"case_id": case_id, "special_id": special_id}, prepared=True)
    return total, as_rows(SpecialRow, map(_special_values, rows))


@dataclass(frozen=True)
class ApprovalLine:
    level: str
    decision: str | None  # None: not decided yet
    comment: str | None
    person: str | None
    at: datetime | None
    holders: tuple[str, ...]  # who holds the post (shown for the levels still to come)


@dataclass(frozen=True)
class SpecialDetail:
    row: SpecialRow
    reason: str
    circumstances: tuple[str, ...]
    justification: dict
    limits: dict
    lines: tuple[ApprovalLine, ...]
    i_decide: bool  # the actor holds the waiting level and did not raise the request
    i_raised: bool


_JUSTIFICATION = ("policy_numbers", "premium_written", "premium_collected", "paid_losses", "pending_losses",
                  "past_loss_ratio_pct", "expected_premium", "expected_premium_on", "customer_background")


@built_once
def _detail_statement(actor: Actor) -> Select:
    """The request's list row, what the detail shows besides, its decisions (level, decision,
    comment, who, when) and the holders of each level's post in its unit (level, name): one read."""
    decided = (select(SpecialApproval.id, SpecialApproval.level, SpecialApproval.decision, SpecialApproval.comment,
                      Person.full_name, SpecialApproval.at)
               .join(Person, Person.id == SpecialApproval.person_id)
               .where(SpecialApproval.special_case_id == _SPECIAL_ID).subquery("decided"))
    # Each level's post and unit (level_holders' rule, in SQL over the request's chain).
    request = select(SpecialCase.chain, SpecialCase.branch_id, SpecialCase.sub_branch_id).where(
        SpecialCase.id == _SPECIAL_ID).subquery("request")
    level = func.unnest(request.c.chain).table_valued("level", with_ordinality="n").render_derived()
    position = case(*((level.c.level == lv, pos) for lv, pos in SPECIAL_APPROVER_POSITIONS.items()), else_=None)
    unit = case((level.c.level.in_(SUB_BRANCH_APPROVAL_LEVELS),
                 func.coalesce(request.c.sub_branch_id, request.c.branch_id)), else_=request.c.branch_id)
    holders = (select(level.c.level, Person.full_name, level.c.n, Person.id)
               .select_from(request).join(level, true())
               .join(RoleAssignment, and_(RoleAssignment.role == "first_responsible",
                                          RoleAssignment.position == position, RoleAssignment.unit_id == unit))
               .join(Person, and_(Person.id == RoleAssignment.person_id, Person.active.is_(True)))
               .subquery("holders"))
    justification = [getattr(SpecialCase, k) for k in _JUSTIFICATION]
    return (_with_names(select(*_ROW_COLUMNS, SpecialCase.reason, SpecialCase.circumstances, SpecialCase.limits,
                               SpecialCase.chain, SpecialCase.next_level, SpecialCase.branch_id,
                               SpecialCase.sub_branch_id, *justification,
                               json_rows(decided, decided.c.id).label("decided"),
                               json_rows(holders, holders.c.n, holders.c.id).label("holders"),
                               SpecialCase.raised_by.label("raiser_id")))
            .where(SpecialCase.id == _SPECIAL_ID, *_scope(actor)))


@requires("special.read")
def special_detail(session: Session, actor: Actor, special_id: int) -> SpecialDetail:
    """One request: its justification, the chain with each level's decision or holder."""
    found = read(session, _detail_statement(actor), {"special_id": special_id}, prepared=True).first()
    if found is None:
        raise NotFound()
    row = SpecialRow(*_special_values(found))
    reason, circumstances, limits, chain, next_level, branch_id, sub_branch_id = found[14:21]
    values = dict(zip(_JUSTIFICATION, found[21:21 + len(_JUSTIFICATION)]))
    decided = {lv: (decision, comment, person, datetime.fromisoformat(at))  # oldest first: the last one stays
               for _id, lv, decision, comment, person, at in found.decided}
    holders: dict[str, list[str]] = {}
    for lv, name, _n, _pid in found.holders:
        holders.setdefault(lv, []).append(name)
    lines = tuple(ApprovalLine(lv, *decided[lv], ()) if lv in decided
                  else ApprovalLine(lv, None, None, None, None, tuple(holders.get(lv, ())))
                  for lv in chain)
    justification = {k: v for k, v in values.items() if v is not None}
    waiting = chain[next_level] if row.status == "pending" else None
    i_raised = found.raiser_id == actor.person_id
    i_decide = (waiting is not None and not i_raised
                and holds_level(actor, _RequestUnits(branch_id, sub_branch_id), waiting))
    return SpecialDetail(row, reason, tuple(circumstances), justification, dict(limits), lines, i_decide, i_raised)


@dataclass(frozen=True)
class _RequestUnits:
    branch_id: int
    sub_branch_id: int | None


@dataclass(frozen=True)
class ChainPreview:
    levels: tuple[str, ...]
    passed: tuple[str, ...] = ()  # the raiser's own levels, passed by raising
    blocked: bool = False  # it ends at the raiser's own post and nobody else holds it: not raisable


@requires("special.raise")
def chain_preview(session: Session, actor: Actor, amount: object, customer_kind: str | None,
                  case_no: str | None = None) -> ChainPreview:
    """The levels a request of this amount would climb at the limits in force now (shown on the form
    before it is raised), as the actor's own raising draws it on the typed case when it is one the
    actor may see; empty while the amount is not yet a valid one."""
    try:
        value = parse_amount(amount)
    except AmountProblem:
        return ChainPreview(())
    if value <= 0:
        return ChainPreview(())
    try:
        chain = approval_chain(value, reputation=customer_kind == "reputation", limits=approval_limits(session))
    except ValueError:
        return ChainPreview(())
    units = None
    if case_no and case_no.strip():
        try:
            case_id = find_case_id(session, actor, case_no)
        except NotFound:
            case_id = None
        if case_id is not None:
            units = session.execute(select(ClaimCase.branch_id, ClaimCase.sub_branch_id)
                                    .where(ClaimCase.id == case_id)).first()
    if units is None:
        return ChainPreview(chain)
    units = _RequestUnits(units.branch_id, units.sub_branch_id)
    levels, passed = raised_chain(chain, actor, units)
    return ChainPreview(levels, passed, nobody_else_decides(session, actor, units, levels))
