"""Personal data shown only to the roles that need it (issue 18): a phone number is masked for the
roles that read cases without ever calling anyone (HQ review, supervision, executives). Pure.

Who needs a number is the capability `personal.contact` in rules/permissions: the call center
calls the dispatched people, a surveyor and the branch's heads call the reporter. The masked form
keeps enough to tell two numbers apart on the phone with a colleague (the first three and last
four digits of a mobile, the area code and last two of a landline), never enough to dial.
"""
from __future__ import annotations

MASK = "*"


def mask_phone(number: str | None) -> str | None:
    """13800138000 → 138****8000; 020-87654321 → 020-******21; None stays None.

    Any other text (a number typed before the rules were written) keeps at most its last two
    characters: whatever it is, it is not shown whole."""
    if number is None:
        return None
    text = number.strip()
    if not text:
        return text
    digits = [c for c in text if c.isdigit()]
    if len(digits) == 11 and text.isdigit():  # a mobile: 3 + 4 masked + 4
        return text[:3] + MASK * 4 + text[-4:]
    if "-" in text:  # a landline with its area code: the code stays, the number keeps its last two
        code, _, rest = text.partition("-")
        return f"{code}-{MASK * max(len(rest) - 2, 1)}{rest[-2:] if len(rest) > 2 else ''}"
    if len(text) <= 2:
        return MASK * len(text)
    return MASK * (len(text) - 2) + text[-2:]


def shown_phone(number: str | None, may_see: bool) -> str | None:
    """The number as a person sees it: whole when their role needs it, masked otherwise."""
    return number if may_see else mask_phone(number)
