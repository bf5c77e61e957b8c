"""Reading one typed field of a form into its value, or into the problem that names it: the text
rule (no control characters, a length) and the amount rule, with "required" on top. A form's
service reads every field this way into one list, so the person sees every problem at once."""
from __future__ import annotations

from decimal import Decimal

from dashboard.rules.amounts import AmountProblem, parse_amount
from dashboard.rules.intake_fields import FieldProblem, clean_text
from dashboard.rules.problems import FieldError


def read_text(errors: list[FieldError], name: str, value: object, *, required: bool, max_len: int,
              multiline: bool = False) -> str | None:
    """The text as written, trimmed (None when empty); a problem appended to `errors` otherwise."""
    try:
        cleaned = clean_text(value, max_len=max_len, multiline=multiline)
    except FieldProblem as problem:
        errors.append(FieldError(name, f"cases.error.{problem.reason}", dict(problem.params)))
        return None
    if cleaned is None and required:
        errors.append(FieldError(name, "cases.error.required"))
    return cleaned


def read_amount(errors: list[FieldError], name: str, value: object, *, required: bool) -> Decimal | None:
    """The amount typed (rules/amounts: no 1e6, no ¥), None when empty; a problem appended otherwise."""
    if value is None or str(value).strip() == "":
        if required:
            errors.append(FieldError(name, "cases.error.required"))
        return None
    try:
        return parse_amount(value)
    except AmountProblem as problem:
        errors.append(FieldError(name, f"amount.{problem.reason}", {"value": str(value)}))
        return None
