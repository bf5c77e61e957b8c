"""Checking a case as typed or imported (公司理赔管理制度 报案受理, docs/DOMAIN.md §2): every field,
every problem at once, nothing read from the database.

One validator serves the registration form and the bulk import: `IntakeReference` holds what a
check needs from the database (sub-branches, surveyors, the earliest date allowed), loaded once by
services/intake.load_reference, so a 10,000-row file is validated without a query per row. How
text, phone numbers, dates and amounts are read is written down in rules/intake_fields.py and
rules/amounts.py.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from dashboard.i18n import CATALOG
from dashboard.rules.intake_fields import (
    FieldProblem, check_day_in_range, check_moment_in_range, check_phone, clean_text, parse_day,
    parse_moment, visible,
)
from dashboard.rules.intake_fields import earliest_date as read_earliest_date
from dashboard.rules.problems import FieldError
from dashboard.rules.risk_input import RISK_FIELDS, check_risk_facts, money_field
from dashboard.settings import ACCIDENT_TYPES, BUSINESS_LINES, BUSINESS_TZ, DEFAULT_RULE_SETTINGS, VEHICLE_USES

# 案情描述 is a TEXT column; this is its limit (a page of the surveyor's notes).
DESCRIPTION_MAX_CHARS = 4000
# The note beside an estimate (who reported it): a line, as on the dispatch board.
ESTIMATE_NOTE_MAX_CHARS = 200
MULTILINE_FIELDS = frozenset({"description"})
# Text fields: (name, required, most characters). The lengths are the claim_case columns' (a test
# holds db/models.py ClaimCase to them), so the form's counter, the check and the database agree.
TEXT_FIELDS: tuple[tuple[str, bool, int], ...] = (
    ("case_no", True, 40), ("province", True, 50), ("city", True, 50), ("address", True, 200),
    ("policy_no", True, 40), ("insured_name", True, 100), ("driver_name", False, 100),
    ("reporter_name", True, 100), ("reporter_phone", False, 32), ("plate_no", False, 20),
    ("vehicle_model", False, 100), ("description", False, DESCRIPTION_MAX_CHARS),
)
TEXT_LIMITS: dict[str, int] = {name: limit for name, _required, limit in TEXT_FIELDS}
CHOICE_FIELDS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    # field -> (i18n prefix of the labels, allowed codes, required)
    "business_line": ("line", BUSINESS_LINES, True),
    "accident_type": ("accident", ACCIDENT_TYPES, True),
    "vehicle_use": ("use", VEHICLE_USES, False),
}
CASE_NO_FORMAT = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_\-/]*$")
_TRUE = {"1", "true", "yes", "y", "是", "t", "√"}
_FALSE = {"0", "false", "no", "n", "否", "f", ""}


@dataclass
class CaseInput:
    """Every intake field of docs/DOMAIN.md §2. Values may arrive typed (form) or as text (import file).

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
    # 强迫立案: the registration was forced (the customer insisted on a claim the survey doubted);
    # recorded at intake for the quality scorecard (docs/DOMAIN.md §9).
    forced_registration: bool | str | None = False
    sub_branch: int | str | None = None
    surveyor: int | str | None = None
    description: str | None = None
    initial_estimate: Decimal | str | None = None
    # The red / yellow / blue rule's own inputs (rules/risk_input; all optional).
    vehicle_damage: Decimal | str | None = None
    property_damage: Decimal | str | None = None
    loss_ratio_pct: Decimal | str | None = None
    claim_count: int | str | None = None
    accident_handling: str | None = None
    surveyor_doubts: list[str] | str | None = None
    doubt_reason: str | None = None


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
        if _row_id(text) in self.sub_branches:
            return int(text)
        return self.sub_branch_by_key.get(text.lower())

    def resolve_surveyor(self, value: object) -> int | None:
        if value is None:
            return None
        if isinstance(value, int):
            return value if value in self.surveyor_units else None
        text = str(value).strip()
        if _row_id(text) in self.surveyor_units:
            return int(text)
        return self.surveyor_by_username.get(text.lower())

# ---------------------------------------------------------------- parsing of single values


def _row_id(text: str) -> int | None:
    """`text` as an id when written in plain digits: "²" and "①" pass str.isdigit() but not int(),
    and int() refuses more than 4,300 digits; either raised ValueError out of the form (issue 18)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def problem_error(name: str, problem: FieldProblem) -> FieldError:
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
            errors.append(problem_error(name, problem))
            values[name] = None
            continue
        if text is None and required:
            errors.append(FieldError(name, "cases.error.required"))
        values[name] = text

    case_no = values.get("case_no")
    if case_no:
        if not CASE_NO_FORMAT.match(case_no):
            errors.append(FieldError("case_no", "cases.error.bad_case_no"))
        elif case_no in ref.existing_case_nos:
            errors.append(ref.duplicate_error(case_no))

    if values.get("reporter_phone"):
        try:
            values["reporter_phone"] = check_phone(values["reporter_phone"])
        except FieldProblem as problem:
            errors.append(problem_error("reporter_phone", problem))

    times: dict[str, datetime] = {}
    for name in ("report_time", "accident_time"):
        raw = getattr(data, name)
        if _blank(raw):
            errors.append(FieldError(name, "cases.error.required"))
            continue
        try:
            moment = parse_moment(raw, BUSINESS_TZ)
        except FieldProblem as problem:
            errors.append(problem_error(name, problem))
            continue
        try:
            check_moment_in_range(moment, ref.earliest_date, now, BUSINESS_TZ)
        except FieldProblem as problem:
            errors.append(problem_error(name, problem))
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
            errors.append(problem_error("policy_start_date", problem))

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

    for name in ("vehicle_imported", "compulsory_only", "forced_registration"):
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

    values["vehicle_sum_insured"] = money_field("vehicle_sum_insured", data.vehicle_sum_insured, errors)
    values["initial_estimate"] = money_field("initial_estimate", data.initial_estimate, errors)

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
    risk_values, risk_errors = check_risk_facts({name: getattr(data, name) for name in RISK_FIELDS})
    values.update(risk_values)
    errors.extend(risk_errors)
    errors.sort(key=lambda e: _FIELD_ORDER.get(e.field, len(_FIELD_ORDER)))  # as the form and the file list them
    return values, errors


def case_columns(values: dict[str, Any]) -> dict[str, Any]:
    """The ClaimCase columns of cleaned values (drops the initial estimate)."""
    return {k: v for k, v in values.items() if k != "initial_estimate"}
