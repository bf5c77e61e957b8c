"""What the intake (form and import) and the case page's risk form accept for the red / yellow /
blue rule's own inputs (docs/DOMAIN.md §6): damages, the policy's loss ratio and claim count, how
the accident was handled, the surveyor's doubts and why. Pure.

Every input is optional at intake: what is not known leaves the case yellow at most (never blue on
no evidence, rules/risk_colour). A doubt needs its reason: a red case must say why to whoever
handles it next.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from dashboard.i18n import CATALOG
from dashboard.rules.amounts import AmountProblem, parse_amount
from dashboard.rules.intake_fields import FieldProblem, clean_text, visible
from dashboard.rules.risk_colour import DOUBTS, HANDLINGS
from dashboard.rules.problems import FieldError

RISK_FIELDS = ("vehicle_damage", "property_damage", "loss_ratio_pct", "claim_count", "accident_handling",
               "surveyor_doubts", "doubt_reason")
DOUBT_REASON_MAX_CHARS = 500
MAX_LOSS_RATIO_PCT = Decimal(1000)
MAX_CLAIM_COUNT = 100
_LIST_SPLIT = re.compile(r"[;；,，、/\s]+")


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == () or value == []


def _labels(prefix: str, codes: tuple[str, ...]) -> dict[str, str]:
    """code / Chinese label / English label (lower case) -> code."""
    table: dict[str, str] = {}
    for code in codes:
        table[code.lower()] = code
        for label in CATALOG.get(f"{prefix}.{code}", ()):
            table[label.strip().lower()] = code
    return table


_HANDLING = _labels("risk.handling", HANDLINGS)
_DOUBT = _labels("risk.doubt", DOUBTS)


def money_field(name: str, value: object, errors: list[FieldError]) -> Decimal | None:
    """An optional amount field: None when blank, else the amount or an error naming `name`."""
    if _blank(value):
        return None
    try:
        return parse_amount(value)
    except AmountProblem as problem:
        errors.append(FieldError(name, f"amount.{problem.reason}", {"value": visible(problem.text)}))
        return None


def _count(value: object, errors: list[FieldError]) -> int | None:
    if _blank(value):
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip().removesuffix(".0")
    if text.isascii() and text.isdigit() and len(text) <= 4 and int(text) <= MAX_CLAIM_COUNT:
        return int(text)
    errors.append(FieldError("claim_count", "cases.error.bad_claim_count",
                             {"value": visible(str(value)), "high": MAX_CLAIM_COUNT}))
    return None


def _doubts(value: object, errors: list[FieldError]) -> list[str]:
    if _blank(value):
        return []
    items = list(value) if isinstance(value, (list, tuple, set, frozenset)) else _LIST_SPLIT.split(str(value))
    codes: list[str] = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        code = _DOUBT.get(text.lower())
        if code is None:
            errors.append(FieldError("surveyor_doubts", "cases.error.bad_doubt", {"value": visible(text)}))
            return []
        if code not in codes:
            codes.append(code)
    return sorted(codes, key=DOUBTS.index)


def check_risk_facts(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
    """Clean the risk inputs in `data` (missing keys are blank) into claim_case column values."""
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    for name in ("vehicle_damage", "property_damage"):
        values[name] = money_field(name, data.get(name), errors)
    ratio = money_field("loss_ratio_pct", data.get("loss_ratio_pct"), errors)
    if ratio is not None and ratio > MAX_LOSS_RATIO_PCT:
        errors.append(FieldError("loss_ratio_pct", "cases.error.bad_loss_ratio", {"high": f"{MAX_LOSS_RATIO_PCT}"}))
        ratio = None
    values["loss_ratio_pct"] = ratio
    values["claim_count"] = _count(data.get("claim_count"), errors)
    handling = data.get("accident_handling")
    values["accident_handling"] = None
    if not _blank(handling):
        code = _HANDLING.get(str(handling).strip().lower())
        if code is None:
            errors.append(FieldError("accident_handling", "cases.error.bad_choice",
                                     {"value": visible(str(handling)), "prefix": "risk.handling"}))
        values["accident_handling"] = code
    values["surveyor_doubts"] = _doubts(data.get("surveyor_doubts"), errors)
    try:
        values["doubt_reason"] = clean_text(data.get("doubt_reason"), max_len=DOUBT_REASON_MAX_CHARS,
                                            multiline=True)
    except FieldProblem as problem:
        errors.append(FieldError("doubt_reason", f"cases.error.{problem.reason}", dict(problem.params)))
        values["doubt_reason"] = None
    if values["surveyor_doubts"] and not values["doubt_reason"] \
            and not any(e.field == "doubt_reason" for e in errors):
        errors.append(FieldError("doubt_reason", "cases.error.doubt_reason_required"))
    return values, errors
