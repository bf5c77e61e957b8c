"""Reading an amount of money as people type it, and nothing else (docs/DOMAIN.md: money is exact decimals).

One reader for every money field (the estimate, the intake's amounts, the tier table's bounds),
so the same text means the same amount on every screen and in every import. The rules:

- Digits 0-9, an optional decimal point with at most two decimals, commas between thousands
  (`86000`, `86,000.50`). Full-width digits and punctuation from a Chinese input method
  (`８６０００`, `８６，０００`) are read as their plain forms (Unicode NFKC); nothing else is.
- Refused, each with its own reason: scientific notation (`1e9`: one slip adds nine zeros),
  `inf` / `nan`, digits of other scripts (`١٢٣`), a currency sign or unit (`¥`, `元`: the field
  already says 元), a minus sign (amounts are never negative here), more than two decimals, and
  anything above NUMERIC(14,2) can hold.
- A spreadsheet cell's number arrives as a float: its shortest repr is read as typed text, so
  `86000.0` is 86,000.00 and binary noise such as `0.30000000000000004` is refused, not rounded.
- An amount above the configured plausibility limit is valid but must be confirmed by the person
  before it is saved (`needs_confirmation`): it may be a real catastrophe, or a slip of the keyboard.
"""
from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

MAX_MONEY = Decimal("999999999999.99")  # NUMERIC(14,2)
CENT = Decimal("0.01")

_PLAIN = re.compile(r"[0-9]+(\.[0-9]{1,2})?")
_GROUPED = re.compile(r"[0-9]{1,3}(,[0-9]{3})+(\.[0-9]{1,2})?")
_TOO_MANY_DECIMALS = re.compile(r"[0-9,]+\.[0-9]{3,}")
_EXPONENT = re.compile(r"[0-9.]+[eE][+-]?[0-9]+")
_CURRENCY = ("¥", "￥", "元", "RMB", "CNY", "$")


class AmountProblem(ValueError):
    """Why a text is not an amount: `reason` names the catalog message (`amount.<reason>`)."""

    def __init__(self, reason: str, text: str) -> None:
        super().__init__(f"{reason}: {text!r}")
        self.reason = reason
        self.text = text


def parse_amount(value: object) -> Decimal:
    """The amount `value` says, to the cent; raises AmountProblem with the reason it is not one."""
    if isinstance(value, bool):
        raise AmountProblem("not_a_number", str(value))
    if isinstance(value, Decimal):
        text = format(value, "f") if value.is_finite() else str(value)
    elif isinstance(value, float):
        text = repr(value)
    else:
        text = str(value)
    typed = text.strip()
    plain = unicodedata.normalize("NFKC", typed).strip().replace(" ", "")
    if not plain:
        raise AmountProblem("empty", typed)
    lowered = plain.lower()
    if lowered in ("inf", "+inf", "-inf", "infinity", "nan", "-nan", "+nan", "snan"):
        raise AmountProblem("not_a_number", typed)
    if any(sign.lower() in lowered for sign in _CURRENCY):
        raise AmountProblem("currency_sign", typed)
    if plain.startswith("-"):
        raise AmountProblem("negative", typed)
    if plain.startswith("+"):
        plain = plain[1:]
    if _EXPONENT.fullmatch(plain):
        raise AmountProblem("exponent", typed)
    if any(ch.isdigit() and not ("0" <= ch <= "9") for ch in plain):
        raise AmountProblem("foreign_digits", typed)
    if _TOO_MANY_DECIMALS.fullmatch(plain):
        raise AmountProblem("too_many_decimals", typed)
    if not (_PLAIN.fullmatch(plain) or _GROUPED.fullmatch(plain)):
        raise AmountProblem("not_a_number", typed)
    try:
        amount = Decimal(plain.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the patterns above admit only valid decimals
        raise AmountProblem("not_a_number", typed) from None
    if amount > MAX_MONEY:
        raise AmountProblem("too_large", typed)
    return amount.quantize(CENT)


def needs_confirmation(amount: Decimal, limit: Decimal | None) -> bool:
    """Above the plausibility limit (a rule setting) the person confirms before it is saved."""
    return limit is not None and amount > limit
