"""Pure checks of the HQ review loop (分级管理办法 第四章 二): opinion points and branch answers.

反馈意见应认真填写，对提出的建议应有明确的回复: every point gets its own, real answer.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

# Answers that only acknowledge ("已处理", "已落实" ...) are not a clear reply to a point.
BARE_ACKNOWLEDGEMENTS = frozenset({
    "已处理", "已落实", "已完成", "已办理", "已核实", "已整改", "已跟进", "已安排", "已知悉", "已阅",
    "收到", "好的", "好", "同意", "知道了", "明白", "遵照执行", "照办", "处理中", "正在处理", "已反馈",
    "ok", "okay", "done", "noted", "received", "yes", "fixed", "handled",
})
# A number/bullet at the start of a point ("1.", "2、", "(3)", "④", "-").
_LEADING_NUMBER = re.compile(r"^\s*(?:[(（]?\d{1,3}[)）.、:：]|[①-⑳]|[-*•·])\s*")
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
MAX_POINTS = 20
MAX_TEXT = 4000  # one point, one answer, one reason or note
MAX_OPINION_TEXT = 8000  # the whole opinion as typed, every point on its own line


def has_control_chars(text: str) -> bool:
    """A control character other than a line break or a tab, or a lone surrogate: none is meant,
    and PostgreSQL cannot keep a NUL (the driver raised and the page failed; issue 18)."""
    return any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n\r\t" for ch in text or "")


def normalise(text: str) -> str:
    """Comparable form of a text: width-folded, lower case, without spaces or punctuation."""
    folded = unicodedata.normalize("NFKC", text or "").lower()
    return _NOISE.sub("", folded)


def split_points(text: str) -> list[str]:
    """One point per non-empty line; a leading "1." / "2、" / "(3)" numbering is dropped."""
    points = []
    for line in (text or "").splitlines():
        body = _LEADING_NUMBER.sub("", line, count=1).strip()
        if body:
            points.append(body)
    return points


def point_problems(points: Sequence[str]) -> list[tuple[int, str]]:
    """(index, i18n key) for each point that cannot be posted; empty when the opinion is fine."""
    if not points:
        return [(0, "review.points.none")]
    problems: list[tuple[int, str]] = []
    if len(points) > MAX_POINTS:
        problems.append((MAX_POINTS, "review.points.too_many"))
    if sum(len(body) for body in points) > MAX_OPINION_TEXT:
        problems.append((0, "review.points.too_long_total"))
    seen: dict[str, int] = {}
    for index, body in enumerate(points):
        key = normalise(body)
        if not key:
            problems.append((index, "review.points.empty"))
        elif has_control_chars(body):
            problems.append((index, "review.points.control_chars"))
        elif len(body) > MAX_TEXT:
            problems.append((index, "review.points.too_long"))
        elif key in seen:
            problems.append((index, "review.points.duplicate"))
        else:
            seen[key] = index
    return problems


def is_bare_acknowledgement(text: str) -> bool:
    key = normalise(text)
    if key in BARE_ACKNOWLEDGEMENTS:
        return True
    # "已处理。已落实" or "收到，已处理" is still only an acknowledgement.
    remainder = key
    for word in sorted(BARE_ACKNOWLEDGEMENTS, key=len, reverse=True):
        remainder = remainder.replace(word, "")
    return not remainder


def answer_problems(answers: Mapping[int, str], *, other_answers: Mapping[int, str] | None = None,
                    previous_answers: Mapping[int, Iterable[str]] | None = None) -> dict[int, str]:
    """Point id -> i18n key for each answer that is refused.

    `answers`: the new answers by point id. `other_answers`: the latest answers already given to
    the other points of the same opinion (copying one text to several points is refused).
    `previous_answers`: the earlier answers of each point (a sent-back point needs a new answer).
    """
    problems: dict[int, str] = {}
    other_answers = other_answers or {}
    previous_answers = previous_answers or {}
    keys = {pid: normalise(text) for pid, text in answers.items()}
    for pid, text in answers.items():
        key = keys[pid]
        if not key:
            problems[pid] = "review.answer.empty"
        elif has_control_chars(text):
            problems[pid] = "review.answer.control_chars"
        elif len(text) > MAX_TEXT:
            problems[pid] = "review.answer.too_long"
        elif is_bare_acknowledgement(text):
            problems[pid] = "review.answer.bare"
        elif any(keys[o] == key for o in answers if o != pid) or any(
                normalise(t) == key for o, t in other_answers.items() if o != pid and o not in answers):
            problems[pid] = "review.answer.duplicate"
        elif any(normalise(t) == key for t in previous_answers.get(pid, ())):
            problems[pid] = "review.answer.same_as_before"
    return problems


def review_is_closed(point_statuses: Iterable[str]) -> bool:
    """A case's review opinion is closed when every point is accepted."""
    statuses = list(point_statuses)
    return bool(statuses) and all(s == "accepted" for s in statuses)


def answer_round(sent_back_count: int) -> int:
    """Round 1 is the first answer; each send-back opens the next round (new D5 clock)."""
    return sent_back_count + 1


def text_problem(text: str) -> str | None:
    """i18n key when a free text (progress note, supervision opinion, reason) is unusable."""
    if not normalise(text):
        return "review.text.empty"
    if has_control_chars(text):
        return "review.text.control_chars"
    if len(text) > MAX_TEXT:
        return "review.text.too_long"
    return None
