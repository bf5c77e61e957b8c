"""The complaint / dispute / difficult-case register (投诉、纠纷、疑难案件处理制度; 保险理赔纠纷管理制度;
docs/DOMAIN.md §7).

Every item is registered (第二条: 所有投诉、纠纷、疑难案件需登记), linked to a case where there is
one, and assigned to a person (及时落实到人). It then moves through the steps of rules/complaints.py,
each move recording what the step needs: the escalation's note, the working group's minutes and
decided plan, the mediation's outcome, the arbitration's result, the handling's result (and, for
a justified complaint, the apology and the measure), the return visit's result. The rule says
which move is allowed; the database refuses an archive without a return visit too. Each move is a
line of `complaint_step`, and of the case's history when the item has a case.

Who sees an item: its branch (or sub-branch) and the person it is assigned to; HQ nationally. The
database's row-level security holds the same (migration 0030).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, DateTime, Select, and_, bindparam, case, func, or_, select, text
from sqlalchemy.orm import Session, aliased

from dashboard import clock
from dashboard.rules.complaints import (
    CAUSES, CHANNELS, KINDS, MEDIATION_OUTCOMES, STEPS, ItemFacts, next_steps, outcome_of, step_refusal,
)
from dashboard.rules.typed_fields import read_text
from dashboard.services import reference
from dashboard.services.actor import Actor
from dashboard.services.capability import requires
from dashboard.services.cases.access import find_case_id, load_visible_case
from dashboard.services.cases.history import record_event
from dashboard.services.errors import FieldError, NotFound, UserError, ValidationFailed
from dashboard.services.outbox import notify, zh
from dashboard.services.stale import stale_write
from dashboard.services.statements import as_rows, built_once, count_then_page, json_rows, read
from dashboard.settings import BUSINESS_TZ
from db.models import ClaimCase, ComplaintItem, ComplaintStep, OrgUnit, Person, RoleAssignment

TEXT_MAX = 2000
PREFIX = {"complaint": "TS", "dispute": "JF", "difficult": "YN"}
# Steps after which no return visit is owed any more.
VISITED = ("return_visited", "archived")
BRANCH, SUB, ASSIGNEE = aliased(OrgUnit), aliased(OrgUnit), aliased(Person)
# Who may take an item: the branch's claims / customer service side (第一条) and, at HQ, the tier
# admin. Each holds complaint.handle (a test checks): an HQ reviewer follows items but has no forms
# to act with, and an item assigned to one was stuck until someone handed it on.
_HANDLERS = ("branch_manager", "branch_tracker", "first_responsible")
_HQ_HANDLERS = ("hq_admin",)


def item_scope(actor: Actor):
    """SQL: the items the actor may see (None: all), the same rows row-level security admits."""
    if actor.is_national:
        return None
    conditions = [ComplaintItem.assignee_id == actor.person_id]
    if actor.visible_branch_ids:
        conditions.append(ComplaintItem.branch_id.in_(sorted(actor.visible_branch_ids)))
    if actor.visible_sub_branch_ids:
        conditions.append(ComplaintItem.sub_branch_id.in_(sorted(actor.visible_sub_branch_ids)))
    return or_(*conditions)


def _scoped(actor: Actor) -> list:
    scope = item_scope(actor)
    return [] if scope is None else [scope]


def _named(errors: list[FieldError]) -> list[FieldError]:
    """Fields as the form labels them: complaints.<name> (ui/forms.field_label)."""
    return [FieldError(f"complaints.{e.field}", e.key, e.params) for e in errors]


def _text(errors: list[FieldError], name: str, value: object, *, required: bool, max_len: int = TEXT_MAX,
          multiline: bool = True) -> str | None:
    return read_text(errors, name, value, required=required, max_len=max_len, multiline=multiline)


# ---------------------------------------------------------------- registering


@dataclass
class ItemForm:
    kind: str | None = None
    cause: str | None = None
    channel: str | None = None
    case_no: str | None = None  # optional: the case the item is about
    branch_id: int | None = None  # without a case: the branch it belongs to
    complainant: str | None = None
    summary: str | None = None
    received_on: date | None = None
    assignee_id: int | None = None


def _may_use_branch(actor: Actor, branch_id: int) -> bool:
    return actor.is_national or branch_id in actor.unit_branch_ids


@requires("complaint.handle")
def register_item(session: Session, actor: Actor, form: ItemForm, *, now: datetime | None = None) -> ComplaintItem:
    """Register an item, validated whole; assigned at once when a person is named."""
    now = clock.or_now(now)
    errors: list[FieldError] = []
    if form.kind not in KINDS:
        errors.append(FieldError("kind", "complaints.error.kind"))
    if form.cause not in CAUSES:
        errors.append(FieldError("cause", "complaints.error.cause"))
    if form.channel not in CHANNELS:
        errors.append(FieldError("channel", "complaints.error.channel"))
    complainant = _text(errors, "complainant", form.complainant, required=True, max_len=100, multiline=False)
    summary = _text(errors, "summary", form.summary, required=True)
    today = now.astimezone(BUSINESS_TZ).date()
    earliest = date.fromisoformat(str(reference.get_setting(session, "intake.earliest_date")))
    if form.received_on is None:
        errors.append(FieldError("received_on", "cases.error.required"))
    elif not earliest <= form.received_on <= today:
        errors.append(FieldError("received_on", "cases.error.date_out_of_range",
                                 {"value": form.received_on.isoformat(), "earliest": earliest.isoformat(),
                                  "latest": today.isoformat()}))
    case = None
    case_no = (form.case_no or "").strip()
    if case_no:
        try:
            case = load_visible_case(session, actor, find_case_id(session, actor, case_no))
        except NotFound:
            errors.append(FieldError("case_no", "complaints.error.case_unknown", {"case_no": case_no}))
    if case is not None and form.received_on is not None:
        reported = case.report_time.astimezone(BUSINESS_TZ).date()
        if form.received_on < reported:  # a complaint about a claim comes after the claim was reported
            errors.append(FieldError("received_on", "complaints.error.received_before_report",
                                     {"value": form.received_on.isoformat(), "reported": reported.isoformat()}))
    branch_id = case.branch_id if case is not None else form.branch_id
    # Without a case, an item a sub-branch registers is its sub-branch's: it sees it (and row-level
    # security admits it), as the branch does.
    own_subs = [a.unit_id for a in actor.assignments if a.unit_level == "sub_branch" and a.branch_id == branch_id]
    sub_branch_id = case.sub_branch_id if case is not None else (
        own_subs[0] if own_subs and branch_id not in actor.visible_branch_ids and not actor.is_national else None)
    if case is None and not case_no:
        if branch_id is None:
            errors.append(FieldError("branch", "complaints.error.branch_required"))
        elif not _may_use_branch(actor, branch_id):
            errors.append(FieldError("branch", "complaints.error.branch_forbidden"))
    if errors:
        raise ValidationFailed(_named(errors))
    assert branch_id is not None
    assignee = _check_assignee(session, branch_id, form.assignee_id) if form.assignee_id is not None else None
    item_id = session.scalar(text("SELECT nextval(pg_get_serial_sequence('complaint_item', 'id'))"))
    item = ComplaintItem(
        id=item_id, item_no=f"{PREFIX[form.kind]}{today:%Y%m%d}{item_id:06d}", kind=form.kind, cause=form.cause,
        channel=form.channel, case_id=case.id if case else None, branch_id=branch_id, sub_branch_id=sub_branch_id,
        complainant=complainant, summary=summary, received_on=form.received_on,
        step="assigned" if assignee else "registered", assignee_id=assignee.id if assignee else None,
        registered_by=actor.person_id, registered_at=now, version=1)
    session.add(item)
    session.flush()
    session.add(ComplaintStep(item_id=item.id, from_step=None, to_step="registered", note=None,
                              person_id=actor.person_id, at=now))
    if assignee:
        _assigned(session, actor, item, "registered", assignee, now)
    if case is not None:
        record_event(session, case_id=case.id, actor_id=actor.person_id, kind="complaint_registered", at=now,
                     item_id=item.id, item_no=item.item_no, item_kind=item.kind)
    session.commit()
    return item


# ---------------------------------------------------------------- assigning


def _may_take(branch_id: int) -> ColumnElement[bool]:
    """SQL (over Person, RoleAssignment and its OrgUnit): an active person who may take an item of
    the branch, by a role of the branch (or a sub-branch) in _HANDLERS or an HQ role in _HQ_HANDLERS."""
    return and_(Person.active.is_(True), or_(
        and_(or_(OrgUnit.id == branch_id, OrgUnit.parent_id == branch_id), RoleAssignment.role.in_(_HANDLERS)),
        and_(OrgUnit.level == "hq", RoleAssignment.role.in_(_HQ_HANDLERS))))


def _check_assignee(session: Session, branch_id: int, person_id: int) -> Person:
    """One of assignee_choices: the form offers no one else, and a forged choice is refused."""
    person = session.scalar(select(Person).join(RoleAssignment, RoleAssignment.person_id == Person.id)
                            .join(OrgUnit, OrgUnit.id == RoleAssignment.unit_id)
                            .where(Person.id == person_id, _may_take(branch_id)).limit(1))
    if person is None:
        raise ValidationFailed(_named([FieldError("assignee", "complaints.error.assignee_unknown")]))
    return person


HQ_LAST = case((OrgUnit.level == "hq", 1), else_=0).label("hq_last")  # the branch's own people first


@requires("complaint.handle")
def assignee_choices(session: Session, actor: Actor, branch_id: int) -> list[tuple[int, str]]:
    """Who may take an item of the branch: its claims / customer service people (第一条), then HQ's;
    each named with their unit, since every sub-branch has a claims head of the same title."""
    rows = session.execute(
        select(Person.id, Person.full_name, Person.title, OrgUnit.name, OrgUnit.level, HQ_LAST).distinct()
        .join(RoleAssignment, RoleAssignment.person_id == Person.id).join(OrgUnit, OrgUnit.id == RoleAssignment.unit_id)
        .where(_may_take(branch_id))
        .order_by(HQ_LAST, OrgUnit.level, OrgUnit.name, Person.full_name)).all()
    named: dict[int, str] = {}
    for pid, name, title, unit, _level, _hq in rows:  # a person of two units: the first one, by level
        named.setdefault(pid, f"{name}（{unit} · {title}）" if title else f"{name}（{unit}）")
    return list(named.items())


def _assigned(session: Session, actor: Actor, item: ComplaintItem, from_step: str, person: Person,
              now: datetime) -> None:
    session.add(ComplaintStep(item_id=item.id, from_step=from_step, to_step="assigned", note=person.full_name,
                              person_id=actor.person_id, at=now))
    if person.id != actor.person_id:
        notify(session, recipients=[person.id], case_id=item.case_id, kind="complaint_assigned",
               body=zh("complaints.notice.assigned", item_no=item.item_no, kind=zh(f"complaints.kind.{item.kind}")),
               dedupe_prefix=f"complaint:{item.id}:v{item.version}:assigned", now=now)


def _load_item(session: Session, actor: Actor, item_id: int, expected_version: int) -> ComplaintItem:
    item = session.scalars(select(ComplaintItem).where(ComplaintItem.id == item_id, *_scoped(actor))
                           .with_for_update()).first()
    if item is None:
        raise NotFound()
    if item.version != expected_version:
        last = session.execute(select(ComplaintStep.person_id, ComplaintStep.at).where(ComplaintStep.item_id == item.id)
                               .order_by(ComplaintStep.id.desc()).limit(1)).first()
        raise stale_write(session, *(last if last else (item.registered_by, item.registered_at)))
    return item


@requires("complaint.handle")
def assign_item(session: Session, actor: Actor, item_id: int, assignee_id: int | None, *, expected_version: int,
                now: datetime | None = None) -> ComplaintItem:
    """Name (or change) the person an open item is assigned to."""
    now = clock.or_now(now)
    item = _load_item(session, actor, item_id, expected_version)
    if item.step in ("handled", *VISITED):
        raise UserError("complaints.error.closed_for_assign")
    if not (actor.is_national or item.branch_id in actor.visible_branch_ids
            or item.sub_branch_id in actor.visible_sub_branch_ids):
        # They see it only as its assignee: handing it on would hide it from them mid-write.
        raise UserError("complaints.error.reassign_unit_only")
    if assignee_id is None:
        raise ValidationFailed(_named([FieldError("assignee", "complaints.error.assignee_required")]))
    person = _check_assignee(session, item.branch_id, assignee_id)
    if person.id == item.assignee_id:
        return item
    from_step = item.step
    item.assignee_id = person.id
    if item.step == "registered":
        item.step = "assigned"
    item.version += 1
    _assigned(session, actor, item, from_step, person, now)
    session.commit()
    return item


# ---------------------------------------------------------------- moving on


@dataclass
class StepInput:
    """What a move records; which fields it needs depends on the step (see advance_item)."""

    note: str | None = None  # escalation note; any move's remark
    minutes: str | None = None
    plan: str | None = None
    mediation_outcome: str | None = None
    mediation_note: str | None = None
    arbitration_result: str | None = None
    justified: bool | None = None
    apology: str | None = None
    measure: str | None = None
    handling_result: str | None = None
    return_visit: str | None = None


def _collect(item: ComplaintItem, target: str, given: StepInput) -> tuple[dict, list[FieldError]]:
    """The fields the move writes, with every missing or bad one named."""
    errors: list[FieldError] = []
    values: dict = {}
    # Named as the form labels it: escalating asks for the escalation note (上报说明), not a note.
    note = _text(errors, "escalation_note" if target == "escalated" else "note", given.note,
                 required=target == "escalated")
    if target == "escalated":
        values["escalation_note"] = note
    if target == "working_group":
        values["minutes"] = _text(errors, "minutes", given.minutes, required=True)
        values["plan"] = _text(errors, "plan", given.plan, required=True)
    if item.step == "mediation" and target != "mediation":
        if given.mediation_outcome not in MEDIATION_OUTCOMES:
            errors.append(FieldError("mediation_outcome", "complaints.error.mediation_outcome"))
        values["mediation_outcome"] = given.mediation_outcome if given.mediation_outcome in MEDIATION_OUTCOMES else None
        values["mediation_note"] = _text(errors, "mediation_note", given.mediation_note, required=True)
    if target == "handled":
        if item.step == "arbitration":
            values["arbitration_result"] = _text(errors, "arbitration_result", given.arbitration_result, required=True)
        values["handling_result"] = _text(errors, "handling_result", given.handling_result, required=True)
        if item.kind == "complaint":
            values["justified"] = given.justified
            values["apology"] = _text(errors, "apology", given.apology, required=False)
            values["measure"] = _text(errors, "measure", given.measure, required=False)
    if target == "return_visited":
        values["return_visit"] = _text(errors, "return_visit", given.return_visit, required=True)
    return values, errors


@requires("complaint.handle")
def advance_item(session: Session, actor: Actor, item_id: int, target: str, given: StepInput, *,
                 expected_version: int, now: datetime | None = None) -> ComplaintItem:
    """Move the item to `target`, recording what that step needs; refused, with the reason, when the
    steps do not allow it (no archive without a return visit, no arbitration before a failed
    mediation, a justified complaint without its apology and measure)."""
    now = clock.or_now(now)
    item = _load_item(session, actor, item_id, expected_version)
    if target not in STEPS or target in ("registered", "assigned"):
        raise UserError("complaints.error.order")
    values, errors = _collect(item, target, given)
    if errors:
        raise ValidationFailed(_named(errors))
    facts = ItemFacts(kind=item.kind, justified=values.get("justified", item.justified),
                      apology=values.get("apology", item.apology), measure=values.get("measure", item.measure),
                      minutes=values.get("minutes", item.minutes),
                      mediation_outcome=values.get("mediation_outcome", item.mediation_outcome),
                      return_visit=values.get("return_visit", item.return_visit))
    if item.step == "registered" and target not in next_steps(item.kind, "registered"):
        raise UserError("complaints.error.assign_first")
    refusal = step_refusal(facts, item.step, target)
    if refusal:
        field = {"complaints.error.justified_undecided": "justified",
                 "complaints.error.apology_and_measure": "apology",
                 "complaints.error.return_visit_required": "return_visit"}.get(refusal)
        if field:
            raise ValidationFailed(_named([FieldError(field, refusal)]))
        raise UserError(refusal)
    from_step = item.step
    for name, value in values.items():
        setattr(item, name, value)
    if target == "handled":
        item.outcome, item.handled_at = outcome_of(facts, from_step), now
    if target == "return_visited":
        item.return_visited_at = now
    if target == "archived":
        item.archived_at = now
    item.step = target
    item.version += 1
    remark = values["escalation_note"] if target == "escalated" else _text([], "note", given.note, required=False)
    session.add(ComplaintStep(item_id=item.id, from_step=from_step, to_step=target, note=remark,
                              person_id=actor.person_id, at=now))
    if item.case_id is not None:
        record_event(session, case_id=item.case_id, actor_id=actor.person_id, kind="complaint_step", at=now,
                     item_id=item.id, item_no=item.item_no, from_step=from_step, to_step=target)
    session.commit()
    return item


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class ItemRow:
    id: int
    item_no: str
    kind: str
    cause: str
    case_id: int | None
    case_no: str | None
    branch: str
    complainant: str
    received_on: date
    step: str
    assignee: str | None
    registered_at: datetime
    outcome: str | None
    visit_overdue: bool
    version: int


def _visit_due_before(session: Session, now: datetime) -> datetime:
    """Items registered before this owe their return visit by now: a display threshold, from the
    kept settings (an administrator's change shows at once on their server, within a minute on others)."""
    return now - timedelta(days=float(reference.rule_settings(session)["complaint.return_visit_days"]))


def visit_overdue_condition(due_before):
    """SQL: registered before `due_before` and no return visit yet (the overdue tracker's rows)."""
    return and_(ComplaintItem.step.notin_(VISITED), ComplaintItem.registered_at < due_before)


# Values bound at execution: one built statement serves every time, branch, case and search.
_DUE_BEFORE = bindparam("due_before", type_=DateTime(timezone=True))
_BRANCH_ID, _CASE_ID, _ITEM_ID = bindparam("branch_id"), bindparam("case_id"), bindparam("item_id")
_PATTERN, _TYPED = bindparam("pattern"), bindparam("typed")


@dataclass(frozen=True)
class _ListShape:
    """What a list's statement depends on besides the person: the filters chosen (not their values
    where those are ids, times or typed text)."""

    kind: str | None
    step: str | None
    cause: str | None
    by_branch: bool
    open_only: bool
    visit_overdue_only: bool
    searched: bool
    by_case: bool
    mine_only: bool


def _item_conditions(actor: Actor, shape: _ListShape) -> list:
    conditions = _scoped(actor)
    if shape.kind:
        conditions.append(ComplaintItem.kind == shape.kind)
    if shape.step:
        conditions.append(ComplaintItem.step == shape.step)
    if shape.cause:
        conditions.append(ComplaintItem.cause == shape.cause)
    if shape.by_branch:
        conditions.append(ComplaintItem.branch_id == _BRANCH_ID)
    if shape.open_only:
        conditions.append(ComplaintItem.step != "archived")
    if shape.visit_overdue_only:
        conditions.append(visit_overdue_condition(_DUE_BEFORE))
    if shape.by_case:
        conditions.append(ComplaintItem.case_id == _CASE_ID)
    if shape.searched:
        conditions.append(or_(ComplaintItem.item_no.ilike(_PATTERN), ComplaintItem.complainant.ilike(_PATTERN),
                              ComplaintItem.case_id.in_(select(ClaimCase.id).where(ClaimCase.case_no == _TYPED))))
    if shape.mine_only:
        conditions += [ComplaintItem.assignee_id == actor.person_id, ComplaintItem.step.notin_(VISITED)]
    return conditions


_ROW_COLUMNS = (ComplaintItem.id, ComplaintItem.item_no, ComplaintItem.kind, ComplaintItem.cause,
                ComplaintItem.case_id, ClaimCase.case_no, BRANCH.name, ComplaintItem.complainant,
                ComplaintItem.received_on, ComplaintItem.step, ASSIGNEE.full_name, ComplaintItem.registered_at,
                ComplaintItem.outcome, visit_overdue_condition(_DUE_BEFORE), ComplaintItem.version)


def _with_names(query: Select) -> Select:
    return (query.join(BRANCH, BRANCH.id == ComplaintItem.branch_id)
            .outerjoin(ClaimCase, ClaimCase.id == ComplaintItem.case_id)
            .outerjoin(ASSIGNEE, ASSIGNEE.id == ComplaintItem.assignee_id))


@built_once
def _items_count(actor: Actor, shape: _ListShape) -> Select:
    return select(func.count()).select_from(ComplaintItem).where(*_item_conditions(actor, shape))


@built_once
def _items_page(actor: Actor, shape: _ListShape, limit: int, offset: int) -> Select:
    return (_with_names(select(*_ROW_COLUMNS)).where(*_item_conditions(actor, shape))
            .order_by(ComplaintItem.registered_at.desc(), ComplaintItem.id.desc()).limit(limit).offset(offset))


@requires("complaint.read")
def complaint_items(session: Session, actor: Actor, *, kind: str | None = None, step: str | None = None,
                    cause: str | None = None, branch_id: int | None = None, open_only: bool = False,
                    visit_overdue_only: bool = False, search: str | None = None, case_id: int | None = None,
                    mine_only: bool = False, limit: int = 50, offset: int = 0, total: int | None = None,
                    now: datetime | None = None) -> tuple[int, list[ItemRow]]:
    """The items the actor may see, newest registered first; `mine_only`: those assigned to the
    actor still owing their return visit (the landing page's reminder)."""
    now = clock.or_now(now)
    for value, allowed in ((kind, KINDS), (step, STEPS), (cause, CAUSES)):
        if value is not None and value not in allowed:
            raise UserError("complaints.error.filter")
    typed = (search or "").strip()
    shape = _ListShape(kind or None, step or None, cause or None, bool(branch_id), open_only, visit_overdue_only,
                       bool(typed), case_id is not None, mine_only)
    pattern = "%" + typed.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    params = {"due_before": _visit_due_before(session, now), "branch_id": branch_id, "case_id": case_id,
              "pattern": pattern, "typed": typed}
    total, rows = count_then_page(session, lambda: _items_count(actor, shape),
                                  lambda: _items_page(actor, shape, limit, offset), limit=limit, total=total,
                                  params=params, prepared=True)
    return total, as_rows(ItemRow, rows)


@dataclass(frozen=True)
class StepLine:
    from_step: str | None
    to_step: str
    note: str | None
    person: str
    at: datetime


@dataclass(frozen=True)
class ItemDetail:
    row: ItemRow
    branch_id: int
    channel: str
    summary: str
    assignee_id: int | None
    escalation_note: str | None
    minutes: str | None
    plan: str | None
    mediation_outcome: str | None
    mediation_note: str | None
    arbitration_result: str | None
    justified: bool | None
    apology: str | None
    measure: str | None
    handling_result: str | None
    return_visit: str | None
    next_steps: tuple[str, ...]
    steps: tuple[StepLine, ...]


_DETAIL_COLUMNS = (ComplaintItem.branch_id, ComplaintItem.channel, ComplaintItem.summary, ComplaintItem.assignee_id,
                   ComplaintItem.escalation_note, ComplaintItem.minutes, ComplaintItem.plan,
                   ComplaintItem.mediation_outcome, ComplaintItem.mediation_note, ComplaintItem.arbitration_result,
                   ComplaintItem.justified, ComplaintItem.apology, ComplaintItem.measure,
                   ComplaintItem.handling_result, ComplaintItem.return_visit)


@built_once
def _detail_statement(actor: Actor) -> Select:
    """The item's list row, the fields of its steps and its step lines (as JSON): one read."""
    steps = (select(ComplaintStep.from_step, ComplaintStep.to_step, ComplaintStep.note, Person.full_name,
                    ComplaintStep.at, ComplaintStep.id)
             .join(Person, Person.id == ComplaintStep.person_id).where(ComplaintStep.item_id == _ITEM_ID)
             .subquery("steps"))
    return (_with_names(select(*_ROW_COLUMNS, *_DETAIL_COLUMNS,
                               json_rows(steps, steps.c.at, steps.c.id).label("steps")))
            .where(ComplaintItem.id == _ITEM_ID, *_scoped(actor)))


@requires("complaint.read")
def item_detail(session: Session, actor: Actor, item_id: int, *, now: datetime | None = None) -> ItemDetail:
    now = clock.or_now(now)
    found = read(session, _detail_statement(actor),
                 {"item_id": item_id, "due_before": _visit_due_before(session, now)}, prepared=True).first()
    if found is None:
        raise NotFound()
    width = len(_ROW_COLUMNS)
    row = ItemRow(*found[:width])
    steps = tuple(StepLine(from_step, to_step, note, person, datetime.fromisoformat(at))
                  for from_step, to_step, note, person, at, _id in found.steps)
    return ItemDetail(row, *found[width:width + len(_DETAIL_COLUMNS)],
                      next_steps(row.kind, row.step) if row.step != "registered" else (), steps)
