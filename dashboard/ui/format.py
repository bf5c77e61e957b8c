"""How amounts and times look on screen (DESIGN: ¥1,234,567.00, 123.5万元, Asia/Shanghai)."""
from __future__ import annotations

import html
import math
import re
from datetime import datetime
from decimal import Decimal

from dashboard.i18n import current_language, has_key, t
from dashboard.settings import BUSINESS_TZ


def money(amount: Decimal | float | int | None) -> str:
    if amount is None:
        return "—"
    return f"¥{Decimal(amount):,.2f}"


def typed_number(value: Decimal | int | None) -> str:
    """A number as a person would type it back into a field: 3000, 12.5, no separators; "" for none."""
    return "" if value is None else format(Decimal(value).normalize(), "f")


def wan(amount: Decimal | float | int | None) -> str:
    """A headline amount: 123.5万元 in Chinese; in English as English readers count, ¥352.3M (¥12.0K
    below a million): "35,234.8万元" was left untranslated on the English page."""
    if amount is None:
        return "—"
    value = Decimal(amount)
    if current_language() == "en":
        if abs(value) >= 999_950:  # what would round to ¥1,000.0K reads ¥1.0M
            return f"¥{value / Decimal(1_000_000):,.1f}M"
        if abs(value) >= Decimal("999.5"):
            return f"¥{value / Decimal(1_000):,.1f}K"
        return f"¥{value:,.0f}"
    return f"{value / Decimal(10000):,.1f}万元"


def local_time(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")


def time_left(due: datetime, now: datetime) -> str:
    """"剩余 5 小时" / "超时 3 小时"; beyond two days in days ("超时 110 天"), under an hour in minutes
    ("剩余 20 分钟": "剩余 0 小时" read as already due), as people count them."""
    hours = (due - now).total_seconds() / 3600
    if hours >= 0:
        if hours < 1:
            return t("common.remaining_minutes", m=int(hours * 60))
        return t("common.remaining_days", d=int(hours // 24)) if hours >= 48 else t("common.remaining_hours", h=int(hours))
    late = -hours
    if late >= 48:
        return t("common.overdue_days", d=int(late // 24))
    if late < 1:
        return t("common.overdue_minutes", m=max(1, math.ceil(late * 60)))
    return t("common.overdue_hours", h=math.ceil(late))


def tier_label(code: str | None) -> str:
    """"二级（12–50万）" for the default tiers; a branch's own sub-tier shows its code."""
    if not code:
        return "—"
    return t(f"tier.{code}") if has_key(f"tier.{code}") else code


def tier_text(code: str | None, compulsory_only: bool) -> str:
    """The level, and why for a compulsory-only case: it is 一级 whatever the amount over 50,000
    (docs/DOMAIN.md §3), which beside a large estimate reads as a mistake without it."""
    if compulsory_only and code and code != "T0":
        return t("tier.compulsory", tier=tier_label(code))
    return tier_label(code)


def point_label(seq: int | None, round_no: int | None) -> str:
    """Which review point a D5 clock is for, and which answer after a send-back; blank for others
    (a case's points share their person and due time: without it they read as duplicates)."""
    if seq is None:
        return ""
    if round_no and round_no > 1:
        return t("home.tasks.point_round", seq=seq, round=round_no)
    return t("home.tasks.point", seq=seq)


# Code, emphasis, links, strikethrough, tables, maths; a backslash where Markdown would read it as an
# escape or a line break (before ASCII punctuation, a line's end or what follows the text), not in C:\文件.
_INLINE = re.compile(r"[`*_\[\]~|$]|\\(?=[!-/:-@\[-`{-~\n]|\Z)")
_LINE_START = re.compile(r"^(\d+)([.)])|^([#=+-])")  # a heading, a list item, a setext underline
_JOINER = "\u2060"  # WORD JOINER: not drawn, no line break
_UNLINKED = (
    (re.compile(r"(?i)(?<=www)(?=\.)"), _JOINER),  # www.evil.example
    (re.compile(r"@"), _JOINER + "@"),  # someone@evil.example
    # http://, :material/home:, :smile:, :+1:, :red[...], ::: blocks; never 12:30 or 注意:请
    (re.compile(r":(?=[A-Za-z_/:+-]|\d[\w+-]*:)"), ":" + _JOINER),
)


def plain(text: object) -> str:
    """Typed or stored text as it reads, for every place that draws Markdown: st.markdown (with or
    without unsafe_allow_html), st.caption, st.write of a string, st.info/success/warning/error,
    st.toast, st.subheader/title, widget, tab and expander labels, metric values, image captions.
    Not for st.dataframe, selectbox options or files: they show text as text (the escapes would show).

    Why (issue 18): what people type (an opinion point, an answer, a reason, a note, an address, a
    file name) is read by others on pages that draw Markdown, some of it as HTML. Put there as it
    is, `<img src=x onerror=...>` or `<script>` ran in the reader's browser, and `[点我](http://...)`
    became a link; `**`, `#` or a leading `1.` changed the look. So:
    - `<`, `>` and `&` become entities (html.escape): no tag, also where our HTML is allowed;
    - Markdown's inline signs ` * _ [ ] ~ | $ (and a backslash Markdown would read) get a backslash,
      as do a line's leading # = + - and the "." or ")" after a leading number; a line's indent
      goes (it would make a code block);
    - GitHub's Markdown links a bare web or mail address even after backslashes (it looks for them
      in the text once read), and Streamlit reads :name: as an icon: an invisible WORD JOINER
      (U+2060) after such a colon and before "@" or the "." of "www." stops both.
    Chinese text and its own punctuation (：，。) come out unchanged; line breaks stay line breaks."""
    if text is None:
        return ""
    out = html.escape(str(text), quote=False)
    for pattern, replacement in _UNLINKED:
        out = pattern.sub(replacement, out)
    out = _INLINE.sub(r"\\\g<0>", out)
    lines = (line.lstrip(" \t") for line in out.split("\n"))
    return "\n".join(_LINE_START.sub(_escape_line_start, line, count=1) for line in lines)


def _escape_line_start(match: re.Match) -> str:
    if match.group(1):
        return f"{match.group(1)}\\{match.group(2)}"
    return "\\" + match.group(3)
