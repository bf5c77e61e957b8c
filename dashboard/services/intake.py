"""Case intake (公司理赔管理制度 报案受理, SPEC §2): validate every field, register all or nothing.

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

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dashboard import clock
from dashboard.i18n import CATALOG
from dashboard.rules.amounts import AmountProblem, parse_amount
from dashboard.rules.intake_fields import (
    FieldProblem, check_day_in_range, check_moment_in_range, check_phone, clean_text, parse_day,
    parse_moment, visible,
)
from dashboard.rules.intake_fields import earliest_date as read_earliest_date
from dashboard.services.actor import Actor
from dashboard.services.case_access import find_case_id, load_visible_case
from dashboard.services.dispatch import record_estimate
from dashboard.services.errors import FieldError, ValidationFailed
from dashboard.services.history import record_event
from dashboard.services.rule_settings import get_setting
from dashboard.services.capability import requires
from dashboard.settings import ACCIDENT_TYPES, BUSINESS_LINES, BUSINESS_TZ, DEFAULT_RULE_SETTINGS, VEHICLE_USES
from db.models import ClaimCase, OrgUnit, Person, RoleAssignment


# 案情描述 is a TEXT column; this is its limit (a page of the surveyor's notes).
DESCRIPTION_MAX_CHARS = 4000
# The note beside an estimate (who reported it): a line, as on the dispatch board.
ESTIMATE_NOTE_MAX_CHARS = 200
MULTILINE_FIELDS = frozenset({"description"})
# Text fields and whether each is required. Their lengths come from the columns themselves
# (db/models.py ClaimCase), so the form's counter, the check and the database say one number.
_TEXT_REQUIRED: tuple[tuple[str, bool], ...] = (
    ("case_no", True), ("province", True), ("city", True), ("address", True), ("policy_no", True),
    ("insured_name", True), ("driver_name", False), ("reporter_name", True), ("reporter_phone", False),
    ("plate_no", False), ("vehicle_model", False), ("description", False),
)


def _column_length(name: str) -> int:
    length = getattr(ClaimCase.__table__.c[name].type, "length", None)
    return int(length) if length else DESCRIPTION_MAX_CHARS


TEXT_LIMITS: dict[str, int] = {name: _column_length(name) for name, _ in _TEXT_REQUIRED}
TEXT_FIELDS: tuple[tuple[str, bool, int], ...] = tuple((n, r, TEXT_LIMITS[n]) for n, r in _TEXT_REQUIRED)
CHOICE_FIELDS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    # field -> (i18n prefix of the labels, allowed codes, required)
    "business_line": ("line", BUSINESS_LINES, True),
    "accident_type": ("accident", ACCIDENT_TYPES, True),
    "vehicle_use": ("use", VEHICLE_USES, False),
}
_CASE_NO = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_\-/]*$")
_TRUE = {"1", "true", "yes", "y", "是", "t", "√"}
_FALSE = {"0", "false", "no", "n", "否", "f", ""}


@dataclass
class CaseInput:
    """Every intake field of SPEC §2. Values may arrive typed (form) or as text (import file).

    `sub_branch` is an org_unit id, code or name; `surveyor` a person id or username.
    `initial_estimate` (整案损失金额), when given, is recorded through the dispatch service.
    """

    case_no: str | None = None
    report_time: datetime | str | None = None
    accident_time: datetime | str | None = None
    province: str | None = None
    city: str | None = None
    address: str | None = None
    business_line: str | None = None
    policy_no: str | None = None
    policy_start_date: date | str | None = None
    insured_name: str | None = None
    driver_name: str | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None
    plate_no: str | None = None
    vehicle_model: str | None = None
    vehicle_age_years: int | str | None = None
    vehicle_imported: bool | str | None = False
    vehicle_sum_insured: Decimal | str | None = None
    vehicle_use: str | None = None
    accident_type: str | None = None
    compulsory_only: bool | str | None = False
    sub_branch: int | str | None = None
    surveyor: int | str | None = None
    description: str | None = None
    initial_estimate: Decimal | str | None = None


INPUT_FIELDS = tuple(f.name for f in fields(CaseInput))
_FIELD_ORDER = {name: n for n, name in enumerate(INPUT_FIELDS)}


@dataclass(frozen=True)
class SubBranchRef:
    id: int
    code: str
    name: str
    branch_id: int


@dataclass
class IntakeReference:
    """Lookups a validation needs, loaded once per form submit or per import file."""

    sub_branches: dict[int, SubBranchRef]
    sub_branch_by_key: dict[str, int]
    surveyor_units: dict[int, frozenset[int]]  # person id -> sub-branch ids where a surveyor
    surveyor_by_username: dict[str, int]
    allowed_sub_branch_ids: frozenset[int] | None  # None: any (call center, HQ admin)
    existing_case_nos: set[str] = field(default_factory=set)
    earliest_date: date = field(
        default_factory=lambda: read_earliest_date(DEFAULT_RULE_SETTINGS["intake.earliest_date"]))

    def duplicate_error(self, case_no: str) -> FieldError:
        """A number already registered: named as such to who sees every case; to anyone else in
        words that do not say whether, or where, it exists (module docstring)."""
        if self.allowed_sub_branch_ids is None:
            return FieldError("case_no", "cases.error.duplicate_case_no", {"case_no": case_no})
        return FieldError("case_no", "cases.error.case_no_unavailable", {"case_no": case_no})

    def resolve_sub_branch(self, value: object) -> int | None:
        if value is None:
            return None
        if isinstance(value, int):
            return value if value in self.sub_branches else None
        text = str(value).strip()
        if text.isdigit() and int(text) in self.sub_branches:
            return int(text)
        return self.sub_branch_by_key.get(text.lower())

    def resolve_surveyor(self, value: object) -> int | None:
        if value is None:
            return None
        if isinstance(value, int):
            return value if value in self.surveyor_units else None
        text = str(value).strip()
        if text.isdigit() and int(text) in self.surveyor_units:
            return int(text)
        return self.surveyor_by_username.get(text.lower())


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
    wanted = sorted({str(n).strip() for n in case_nos if n and _CASE_NO.match(str(n).strip())
                     and len(str(n).strip()) <= TEXT_LIMITS["case_no"]})
    existing: set[str] = set()
    for start in range(0, len(wanted), 5000):
        existing.update(session.scalars(select(ClaimCase.case_no)
                                        .where(ClaimCase.case_no.in_(wanted[start:start + 5000]))))
    return IntakeReference(sub_branches, by_key, {k: frozenset(v) for k, v in units_of.items()},
                           by_username, allowed, existing,
                           read_earliest_date(get_setting(session, "intake.earliest_date")))


# ---------------------------------------------------------------- parsing of single values


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _problem(name: str, problem: FieldProblem) -> FieldError:
    return FieldError(name, f"cases.error.{problem.reason}", dict(problem.params))


def parse_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(value)


def _choice_lookup() -> dict[str, dict[str, str]]:
    """For each choice field: code / Chinese label / English label (lower case) -> code."""
    lookup: dict[str, dict[str, str]] = {}
    for name, (prefix, codes, _required) in CHOICE_FIELDS.items():
        table: dict[str, str] = {}
        for code in codes:
            table[code.lower()] = code
            for label in CATALOG.get(f"{prefix}.{code}", ()):
                table[label.strip().lower()] = code
        lookup[name] = table
    return lookup


_CHOICES = _choice_lookup()


def _money(name: str, value: object, errors: list[FieldError]) -> Decimal | None:
    if _blank(value):
        return None
    try:
        return parse_amount(value)
    except AmountProblem as problem:
        errors.append(FieldError(name, f"amount.{problem.reason}", {"value": visible(problem.text)}))
        return None


# ---------------------------------------------------------------- the validator


def check_case_input(data: CaseInput, ref: IntakeReference, now: datetime) -> tuple[dict[str, Any], list[FieldError]]:
    """Clean `data` into ClaimCase column values; every problem becomes a FieldError (none are skipped).

    Duplicates against the database use `ref.existing_case_nos`; the caller adds the numbers it
    accepts to that set so a repeat inside one file is caught too.
    """
    errors: list[FieldError] = []
    values: dict[str, Any] = {}

    for name, required, max_len in TEXT_FIELDS:
        try:
            text = clean_text(getattr(data, name), max_len=max_len, multiline=name in MULTILINE_FIELDS)
        except FieldProblem as problem:
            errors.append(_problem(name, problem))
            values[name] = None
            continue
        if text is None and required:
            errors.append(FieldError(name, "cases.error.required"))
        values[name] = text

    case_no = values.get("case_no")
    if case_no:
        if not _CASE_NO.match(case_no):
            errors.append(FieldError("case_no", "cases.error.bad_case_no"))
        elif case_no in ref.existing_case_nos:
            errors.append(ref.duplicate_error(case_no))

    if values.get("reporter_phone"):
        try:
            values["reporter_phone"] = check_phone(values["reporter_phone"])
        except FieldProblem as problem:
            errors.append(_problem("reporter_phone", problem))

    times: dict[str, datetime] = {}
    for name in ("report_time", "accident_time"):
        raw = getattr(data, name)
        if _blank(raw):
            errors.append(FieldError(name, "cases.error.required"))
            continue
        try:
            moment = parse_moment(raw, BUSINESS_TZ)
        except FieldProblem as problem:
            errors.append(_problem(name, problem))
            continue
        try:
            check_moment_in_range(moment, ref.earliest_date, now, BUSINESS_TZ)
        except FieldProblem as problem:
            errors.append(_problem(name, problem))
            if problem.reason != "after_now":
                continue  # a day out of range is not compared with the other time
        times[name] = moment
    if len(times) == 2 and times["accident_time"] > times["report_time"]:
        errors.append(FieldError("accident_time", "cases.error.accident_after_report"))
    values.update(times)

    values["policy_start_date"] = None
    if not _blank(data.policy_start_date):
        try:
            day = parse_day(data.policy_start_date)
            check_day_in_range(day, ref.earliest_date, now.astimezone(BUSINESS_TZ).date())
            values["policy_start_date"] = day
        except FieldProblem as problem:
            errors.append(_problem("policy_start_date", problem))

    for name, (prefix, codes, required) in CHOICE_FIELDS.items():
        raw = getattr(data, name)
        values[name] = None
        if _blank(raw):
            if required:
                errors.append(FieldError(name, "cases.error.required"))
            continue
        code = _CHOICES[name].get(str(raw).strip().lower())
        if code is None:
            errors.append(FieldError(name, "cases.error.bad_choice", {"value": visible(str(raw)), "prefix": prefix}))
        values[name] = code

    for name in ("vehicle_imported", "compulsory_only"):
        try:
            values[name] = parse_bool(getattr(data, name))
        except ValueError:
            errors.append(FieldError(name, "cases.error.bad_bool", {"value": visible(str(getattr(data, name)))}))
            values[name] = False
    if values["compulsory_only"] and values.get("business_line") not in (None, "motor"):
        errors.append(FieldError("compulsory_only", "cases.error.compulsory_only_motor"))

    values["vehicle_age_years"] = None
    raw_age = data.vehicle_age_years
    if not _blank(raw_age):
        try:
            age = int(str(raw_age).strip().removesuffix(".0"))
            if age < 0 or age > 100:
                raise ValueError(raw_age)
            values["vehicle_age_years"] = age
        except ValueError:
            errors.append(FieldError("vehicle_age_years", "cases.error.bad_age", {"value": visible(str(raw_age))}))

    values["vehicle_sum_insured"] = _money("vehicle_sum_insured", data.vehicle_sum_insured, errors)
    values["initial_estimate"] = _money("initial_estimate", data.initial_estimate, errors)

    sub_branch_id = None
    if _blank(data.sub_branch):
        errors.append(FieldError("sub_branch", "cases.error.required"))
    else:
        sub_branch_id = ref.resolve_sub_branch(data.sub_branch)
        if sub_branch_id is None:
            errors.append(FieldError("sub_branch", "cases.error.unknown_sub_branch",
                                     {"value": visible(str(data.sub_branch))}))
        elif ref.allowed_sub_branch_ids is not None and sub_branch_id not in ref.allowed_sub_branch_ids:
            errors.append(FieldError("sub_branch", "cases.error.sub_branch_forbidden"))
            sub_branch_id = None
    values["sub_branch_id"] = sub_branch_id
    values["branch_id"] = ref.sub_branches[sub_branch_id].branch_id if sub_branch_id else None

    surveyor_id = None
    if _blank(data.surveyor):
        errors.append(FieldError("surveyor", "cases.error.required"))
    else:
        surveyor_id = ref.resolve_surveyor(data.surveyor)
        if surveyor_id is None:
            errors.append(FieldError("surveyor", "cases.error.unknown_surveyor", {"value": visible(str(data.surveyor))}))
        elif sub_branch_id is not None and sub_branch_id not in ref.surveyor_units[surveyor_id]:
            errors.append(FieldError("surveyor", "cases.error.surveyor_not_in_sub_branch"))
    values["surveyor_id"] = surveyor_id
    errors.sort(key=lambda e: _FIELD_ORDER.get(e.field, len(_FIELD_ORDER)))  # as the form and the file list them
    return values, errors


def case_columns(values: dict[str, Any]) -> dict[str, Any]:
    """The ClaimCase columns of cleaned values (drops the initial estimate)."""
    return {k: v for k, v in values.items() if k != "initial_estimate"}


# ---------------------------------------------------------------- the service


@dataclass(frozen=True)
class RegisteredCase:
    case_id: int
    case_no: str
    tier: str
    estimate_recorded: bool


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
    record_event(session, case_id=case.id, actor_id=actor.person_id, kind="case_registered", at=now,
                 case_no=case.case_no, sub_branch_id=case.sub_branch_id, surveyor_id=case.surveyor_id,
                 business_line=case.business_line, report_time=case.report_time)
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
    return RegisteredCase(case.id, values["case_no"], tier, estimate is not None)


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
        raise ValidationFailed([_problem("case_no", problem)]) from None
    if typed is None:
        raise ValidationFailed([FieldError("case_no", "cases.error.required")])
    case = load_visible_case(session, actor, find_case_id(session, actor, typed))
    branch = OrgUnit.__table__.alias("branch")
    sub, parent = session.execute(select(OrgUnit.name, branch.c.name).join(branch, branch.c.id == OrgUnit.parent_id)
                                  .where(OrgUnit.id == case.sub_branch_id)).one()
    return EstimateTarget(case.id, case.case_no, case.version, f"{parent} / {sub}", case.state, case.tier,
                          case.current_estimate)
