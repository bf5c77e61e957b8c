"""Why a dispatched first responsible was not reached (分级管理办法 第二章 一.3–4, docs/DOMAIN.md §3).

The rules name the reasons: unreachable is 电话关机、无法接通、无人接听; reachable but unable to
go is 出差、开会. Which one it was is a required choice when a call is logged (issue 26: 无法联系
was saved with no reason), and the fallback rule depends on the outcome, not on the reason.
"""
from __future__ import annotations

REASONS_BY_OUTCOME: dict[str, tuple[str, ...]] = {
    "reached": (),
    "unreachable": ("phone_off", "cannot_connect", "no_answer"),
    "unavailable": ("business_trip", "meeting"),
}

# The reason in words, as a caller that wrote it as text did (the demo data, older imports).
_WORDS: dict[str, str] = {
    "关机": "phone_off", "无法接通": "cannot_connect", "无人接听": "no_answer",
    "出差": "business_trip", "开会": "meeting", "会议": "meeting",
}


def reasons_for(outcome: str) -> tuple[str, ...]:
    """The reasons one may choose for `outcome` (none for a call that reached the person)."""
    return REASONS_BY_OUTCOME.get(outcome, ())


def reason_problem(outcome: str, reason_code: str | None) -> str | None:
    """An i18n key when the reason does not fit the outcome, else None."""
    allowed = reasons_for(outcome)
    if not allowed:
        return "dispatch.error.reason_not_needed" if reason_code else None
    if not reason_code:
        return "dispatch.error.reason_required"
    if reason_code not in allowed:
        return "dispatch.error.reason_mismatch"
    return None


def reason_from_words(outcome: str, text: str | None) -> str | None:
    """The one reason of `outcome` that `text` names ("电话关机" → phone_off), or None when it names
    none or several. Only for callers that logged the reason as text; the page offers the choice."""
    if not text:
        return None
    found = {code for word, code in _WORDS.items() if word in text and code in reasons_for(outcome)}
    return found.pop() if len(found) == 1 else None
