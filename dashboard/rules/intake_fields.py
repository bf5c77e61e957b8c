"""What the intake accepts in its typed fields: free text, phone numbers, dates and times. Pure.

The registration form and the bulk import read every value through these functions, so a value
means the same on the form and in a file. Nothing is silently changed: a value is either read as
written (after the trims listed here) or refused with a reason (`FieldProblem.reason`, the
catalog message `cases.error.<reason>`). The rules:

Free text (every text field of the form, every text cell of an import file)
- Spaces, tabs and line breaks around the text are trimmed; an empty text is "not given".
- Control characters are refused, not stripped: NUL (\\x00) and the other C0/C1 controls and DEL
  come from text copied out of other systems and cannot be stored (PostgreSQL refuses NUL; the
  driver raised, and the page crashed). Multi-line fields (案情描述) keep line breaks and tabs.
  Unpaired surrogates (a broken copy of an emoji) are refused the same way.
- At most the column's length in characters (the limit the form's counter shows).

Phone numbers of mainland China (报案人电话), full-width digits read as plain (NFKC); digits of other
scripts (١٣٨) are refused
- Mobile: 11 digits 1[3-9]xxxxxxxxx, optionally after +86, 0086 or 86, optionally grouped
  3-4-4 by spaces or hyphens: 13800138000, +86 138 0013 8000, 138-0013-8000.
- Landline: area code 0 + 2 or 3 digits (010, 020–029, 0xxx), optionally in brackets, then an
  optional hyphen or space and a local number of 7 or 8 digits not starting with 0 or 1 (those
  are service and trunk prefixes, never a subscriber's number):
  020-87654321, (0571)8765432, 0755 23456789. With +86 / 0086 / 86 the area code drops its 0:
  +86 20 87654321. An extension of 1–6 digits may follow after "-", "#", "转", "分机" or "ext":
  020-87654321-123, 010-62345678转8001.
- Anything else (letters, a number without its area code, too few or too many digits) is refused
  with an example of each form. The number is kept as typed (trimmed, NFKC), not reformatted.

Dates and times (报案时间, 出险时间: a moment; 保单起保日期: a day), full-width digits read as plain
- A day: YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD or YYYY年M月D日 (month and day may have one digit).
- A moment: a day, then a time H:MM or HH:MM[:SS] after a space or "T": 2026-11-20 08:30.
  A day alone is 00:00 of that day. An ISO 8601 time with an offset (2026-11-20T08:30+08:00) is
  read with its offset; otherwise the time is Beijing time (Asia/Shanghai).
- A spreadsheet's own date or date-time cell is read as it is (no text round trip).
- The range: no day before the configured earliest date (rule setting intake.earliest_date) and
  nothing after now (the business clock). Outside it the value is refused with the range in the
  message; it is never replaced by another date.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, tzinfo

MULTILINE_ALLOWED = frozenset("\n\r\t")


class FieldProblem(ValueError):
    """Why a value is refused: `reason` names the catalog message (`cases.error.<reason>`) and
    `params` fill it."""

    def __init__(self, reason: str, **params: object) -> None:
        super().__init__(f"{reason}: {params!r}")
        self.reason = reason
        self.params = params


# ---------------------------------------------------------------- free text


def _is_control(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category == "Cc" or category == "Cs"


def visible(text: str) -> str:
    """`text` with its control characters written out (\\x00, \\n) so a message can show them."""
    return "".join(ch.encode("unicode_escape", "backslashreplace").decode("ascii") if _is_control(ch) else ch
                   for ch in text)


def clean_text(value: object, *, max_len: int, multiline: bool = False) -> str | None:
    """The text as written, trimmed; None when empty. Raises FieldProblem("control_chars") or
    FieldProblem("too_long", max=...)."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    allowed = MULTILINE_ALLOWED if multiline else frozenset()
    bad = sorted({ch for ch in text if _is_control(ch) and ch not in allowed})
    if bad:
        raise FieldProblem("control_chars", chars="、".join(visible(ch) for ch in bad[:3]))
    if len(text) > max_len:
        raise FieldProblem("too_long", max=max_len, length=len(text))
    return text


# ---------------------------------------------------------------- phone numbers

_SEP = r"[ -]?"
_EXTENSION = r"(?: ?(?:-|#|转|分机|ext\.?) ?\d{1,6})?"
_COUNTRY = r"(?:\+86|0086|86)"
# re.ASCII: \d is 0-9 only; a digit of another script (١, ٨) is no digit anyone can dial (issue 18).
_MOBILE = re.compile(rf"(?:{_COUNTRY}{_SEP})?1[3-9]\d{_SEP}\d{{4}}{_SEP}\d{{4}}", re.ASCII)
_AREA = r"0(?:10|2\d|[3-9]\d{2})"
_LOCAL = r"[2-9]\d{6,7}"
_LANDLINE = re.compile(rf"(?:\({_AREA}\)|{_AREA}){_SEP}{_LOCAL}{_EXTENSION}", re.IGNORECASE | re.ASCII)
_LANDLINE_INTL = re.compile(rf"{_COUNTRY}{_SEP}(?:10|2\d|[3-9]\d{{2}}){_SEP}{_LOCAL}{_EXTENSION}",
                            re.IGNORECASE | re.ASCII)


def check_phone(text: str) -> str:
    """The number as typed (NFKC, trimmed) when it is a mainland mobile or landline number;
    raises FieldProblem("bad_phone", value=...) otherwise."""
    plain = unicodedata.normalize("NFKC", text).strip()
    if any(p.fullmatch(plain) for p in (_MOBILE, _LANDLINE, _LANDLINE_INTL)):
        return plain
    raise FieldProblem("bad_phone", value=visible(text.strip()))


# ---------------------------------------------------------------- dates and times

_DAY = r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
_DAY_ONLY = re.compile(_DAY)
_MOMENT = re.compile(_DAY + r"(?:(?:\s+|\s*T\s*)(\d{1,2}):(\d{2})(?::(\d{2}))?)?", re.IGNORECASE)
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?")


def parse_day(value: object) -> date:
    """The day `value` names; raises FieldProblem("bad_date", value=...)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = unicodedata.normalize("NFKC", str(value)).strip()
    match = _DAY_ONLY.fullmatch(text)
    if match:
        try:
            return date(*(int(g) for g in match.groups()))
        except ValueError:
            pass
    raise FieldProblem("bad_date", value=visible(str(value).strip()))


def parse_moment(value: object, zone: tzinfo) -> datetime:
    """The timezone-aware moment `value` names, naive text read in `zone`; raises
    FieldProblem("bad_time", value=...)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip()
        match = _MOMENT.fullmatch(text)
        try:
            if match:
                y, mo, d, h, mi, s = (int(g) if g else 0 for g in match.groups())
                moment = datetime(y, mo, d, h, mi, s)
            elif _ISO.fullmatch(text):
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            else:
                raise ValueError(text)
        except ValueError:
            raise FieldProblem("bad_time", value=visible(str(value).strip())) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def check_day_in_range(day: date, earliest: date, today: date) -> None:
    """Refuse a day before `earliest` or after `today`: FieldProblem("date_out_of_range")."""
    if day < earliest or day > today:
        raise FieldProblem("date_out_of_range", value=day.isoformat(), earliest=earliest.isoformat(),
                           latest=today.isoformat())


def check_moment_in_range(moment: datetime, earliest: date, now: datetime, zone: tzinfo) -> None:
    """Refuse a moment on a day outside earliest..today (the range in the message), or later today
    than now (FieldProblem("after_now"))."""
    try:
        local = moment.astimezone(zone)
    except OverflowError:  # 0001-01-01T00:00+14:00 is before year 1 in Beijing: out of range, not a crash
        raise FieldProblem("date_out_of_range", value=moment.date().isoformat(), earliest=earliest.isoformat(),
                           latest=now.astimezone(zone).date().isoformat()) from None
    check_day_in_range(local.date(), earliest, now.astimezone(zone).date())
    if moment > now:
        raise FieldProblem("after_now", value=local.strftime("%Y-%m-%d %H:%M"),
                           now=now.astimezone(zone).strftime("%Y-%m-%d %H:%M"))


def earliest_date(setting: object) -> date:
    """The rule setting intake.earliest_date (text YYYY-MM-DD, or a date) as a date."""
    return setting if isinstance(setting, date) else date.fromisoformat(str(setting))
