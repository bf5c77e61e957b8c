"""What people and files type into the product's fields, hostile on purpose (issue 18, "Bad input").

Text is built from pieces that broke, or could break, a form or an import somewhere: control
characters and NUL (PostgreSQL refuses NUL), lone surrogates (a broken copy of an emoji), RTL and
zero-width marks, emoji, full-width digits from a Chinese input method, digits of other scripts,
NaN / inf / scientific notation, huge numbers, dates out of every range; mixed with any Unicode.
Values of the wrong type are those a form widget or a spreadsheet cell can hand over.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from hypothesis import strategies as st

from dashboard.i18n import CATALOG, set_language, t
from dashboard.rules.problems import FieldError

PIECES = (
    # control characters, NUL, DEL, C1, lone surrogates
    "\x00", "\x07", "\x1b", "\x1f", "\x7f", "\x85", "\x9f", "\ud800", "\udfff",
    # line breaks and tabs, also Unicode's own
    "\n", "\r\n", "\t", "\u2028", "\u3000",
    # direction and zero-width marks
    "\u200e", "\u200f", "\u202e", "\u2066", "\u200b", "\ufeff", "\u2060",
    # emoji, one code point and several
    "🚗", "👨\u200d👩\u200d👧", "🇨🇳",
    # full-width digits and punctuation, digits of other scripts, digit-like signs
    "０１２３４５６７８９", "８６，０００．５０", "－", "＋", "：", "١٢٣", "๓", "²", "①", "Ⅻ",
    # numbers as people and programs write them
    "0", "-0", "+5", "86000", "86,000.50", "1,2,3", "00012", "0.001", "1_000", "0x1F",
    "NaN", "nan", "inf", "-inf", "Infinity", "1e9", "1E+300", "9" * 40,
    "¥100", "100元", "RMB 5",
    # dates and times, right and wrong
    "2026-11-20", "2026/11/20 08:30", "2026年11月20日", "2026-11-20T08:30+08:00", "2026-11-20T08:30Z",
    "2026-02-30", "2026-13-01", "1900-01-01", "2099-12-31 09:00", "0001-01-01T00:00+14:00",
    "9999-12-31T23:59-12:00", "24:00", "25:61", "昨天",
    # phone numbers
    "13800138000", "+86 138 0013 8000", "020-87654321", "(0571)8765432", "010-62345678转8001", "12345",
    # text that means something elsewhere
    '"', "'", ",", ";", "=SUM(A1)", "<script>alert(1)</script>", "**粗**", "{value}", "%s", "\\",
    # Chinese
    "张伟", "广东省", "车险", "碰撞", "是", "否", "gz", "gz_surveyor1",
)

ANY_CHARACTER = st.characters(exclude_categories=())  # surrogates and controls included
hostile_text = st.lists(st.one_of(st.sampled_from(PIECES), st.text(ANY_CHARACTER, max_size=6)),
                        max_size=6).map("".join)
long_text = st.builds(lambda piece, n: piece * n, st.sampled_from(("x", "张", "🚗", " ", "9")),
                      st.integers(min_value=1, max_value=9000))

wrong_types = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**40, max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(min_value=-10**20, max_value=10**20, places=4),
    st.sampled_from((Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("-Infinity"), Decimal("-0"),
                     Decimal("1E+30"), Decimal("1E-30"))),
    st.dates(), st.datetimes(), st.datetimes(timezones=st.just(timezone(timedelta(hours=14)))),
    st.times(), st.timedeltas(max_value=timedelta(days=10**6), min_value=timedelta(days=-10**6)),
    st.binary(max_size=8), st.lists(st.integers(), max_size=2),
)
anything = st.one_of(hostile_text, long_text, wrong_types)


def storable(text: str) -> bool:
    """Whether PostgreSQL (UTF-8) can keep `text`: no NUL, and encodable (no lone surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def control_free(text: str, allowed: str = "") -> bool:
    """No control character (Cc) nor lone surrogate (Cs) in `text` but those `allowed`."""
    return not any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in allowed for ch in text)


_CJK = re.compile(r"[\u4e00-\u9fff]")


def chinese_message(key: str, params: dict[str, object]) -> str:
    """The catalog message as a person reading Chinese sees it; the English one must format too."""
    assert key in CATALOG, f"no catalog message {key!r}"
    set_language("en")
    try:
        t(key, **params)
    finally:
        set_language("zh")
    text = t(key, **params)
    assert _CJK.search(text), f"{key} is not in Chinese: {text!r}"
    return text


def field_line(error: FieldError) -> str:
    """The line a form shows for `error` (ui/forms.error_line), checked to name its field first."""
    from dashboard.ui.forms import error_line, field_label

    chinese_message(error.key, error.params)
    label = field_label(error.field)
    assert label, f"field {error.field!r} has no label: its message names no field"
    line = error_line(error)
    assert line.startswith(label), line
    return line


def some_day(earliest: date = date(2000, 1, 1), latest: date = date(2026, 11, 20)):
    return st.dates(min_value=earliest, max_value=latest)


def typed_moment(day: date, at: time, style: int) -> str | datetime:
    """A valid moment as people type it, in one of the styles the intake reads."""
    full_width = str.maketrans("0123456789-:", "０１２３４５６７８９－：")
    return [f"{day:%Y-%m-%d} {at:%H:%M}", f"{day:%Y/%m/%d} {at:%H:%M:%S}", f"{day.year}年{day.month}月{day.day}日 {at:%H:%M}",
            f"{day:%Y-%m-%d} {at:%H:%M}".translate(full_width), f"{day:%Y-%m-%d}T{at:%H:%M}+08:00",
            datetime.combine(day, at)][style]


UTC = timezone.utc
