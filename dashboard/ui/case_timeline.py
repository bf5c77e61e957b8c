"""Turn case-detail timeline entries into sentences in the reader's language."""
from __future__ import annotations

import string
from datetime import datetime
from decimal import Decimal
from typing import Any

from dashboard.i18n import has_key, t
from dashboard.services.cases.detail import DeadlineLine, TimelineEntry
from dashboard.ui.format import local_time, money, plain, point_label, time_left
from dashboard.ui.tones import AMBER, RED, Tone

_TEXT_LIMIT = 300


class _Lenient(dict):
    """Missing placeholders render empty rather than failing the page."""

    def __missing__(self, key: str) -> str:
        return ""


def _label(prefix: str, value: Any) -> str:
    key = f"{prefix}.{value}"
    return t(key) if has_key(key) else str(value)


def _short(text: Any) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= _TEXT_LIMIT else text[:_TEXT_LIMIT] + "…"


def _format_params(details: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in details.items():
        if value is None:
            out[key] = "—" if key in ("person", "to", "recipient") else ""
        elif key in ("tier", "tier_before", "tier_after"):
            out[key] = _label("tier", value)
        elif key in ("before", "after") and isinstance(value, str) and has_key(f"state.{value}"):
            out[key] = t(f"state.{value}")
        elif key == "position":
            out[key] = _label("position", value)
        elif key == "reason" and has_key(f"detail.reason.{value}"):
            out[key] = t(f"detail.reason.{value}")
        elif key == "outcome":
            out[key] = _label("detail.outcome", value)
        elif key == "upload_kind":
            out[key] = _label("detail.upload_kind", value)
        elif key == "deadline":
            out[key] = _label("detail.deadline", value)
        elif key == "charge":
            out[key] = _label("detail.charge", value)
        elif key == "state":
            out[key] = _label("detail.notification_state", value)
        elif key == "notification_kind":
            out[key] = _label("detail.notification_kind", value)
        elif key == "points" and isinstance(value, list):
            out[key] = "；".join(f"{seq}. {_short(body)}" for seq, body, *_ in value)
        elif isinstance(value, bool):
            out[key] = str(value)
        elif isinstance(value, Decimal):
            out[key] = money(value)
        elif isinstance(value, datetime):
            out[key] = local_time(value)
        else:
            out[key] = _short(value)
    return out


def describe(entry: TimelineEntry) -> str:
    """One sentence for the entry: its template filled with the formatted details."""
    params = _format_params(entry.details)
    d = entry.details
    if entry.kind == "estimate" and d.get("note"):
        params["note"] = f"（{_short(d['note'])}）"
    if entry.kind == "contact":
        params["reason"] = f"（{_short(d['reason'])}）" if d.get("reason") else ""
        params["delegate"] = t("detail.delegate_named", name=d["delegate"]) if d.get("delegate") else ""
    if entry.kind == "upload":
        params["on_behalf"] = t("detail.on_behalf_of", name=d["on_behalf"]) if d.get("on_behalf") else ""
    if entry.kind == "deadline_met":
        params["late"] = t("detail.late") if d.get("late") else t("detail.on_time")
    if entry.kind in ("deadline_met", "violation"):
        params["point"] = _point(d)
    key = entry.summary
    if key == "detail.ev.event.risk_colour_changed":
        for side in ("before", "after"):
            params[side] = t(f"risk.badge.{d.get(side) or 'none'}")
        params["criteria"] = "、".join(t(f"risk.criterion.{c}") for c in d.get("criteria") or []) or "—"
    if key == "detail.ev.event.major_flagged":
        params["reason"] = t(f"major.reason.{d.get('reason') or 'over_authority'}")
    if key == "detail.ev.event.special_raised":
        params["special_type"] = t(f"special.type_short.{d.get('special_type')}")
        params["requested"] = money(d.get("requested"))
    if key == "detail.ev.event.special_decided":
        params["level"] = t(f"special.level.{d.get('level')}")
        params["decision"] = t(f"special.decision.{d.get('decision')}")
    if key in ("detail.ev.event.complaint_registered", "detail.ev.event.complaint_step"):
        params["item_kind"] = t(f"complaints.kind.{d.get('item_kind') or 'complaint'}")
        params["to_step"] = t(f"complaints.step.{d.get('to_step') or 'registered'}")
    if key == "detail.ev.event.risk_facts_changed":
        params["fields"] = "、".join(t(f"cases.field.{name}") for name in (d.get("fields") or {}))
    if key == "detail.ev.event.case_registered" and d.get("risk_colour"):
        key, params["badge"] = "detail.ev.event.case_registered_coloured", t(f"risk.badge.{d['risk_colour']}")
    if entry.kind == "arrival":
        key, params["actor"] = _arrival_key(entry), entry.actor_name or ""
    if entry.kind == "answer":
        params["late"] = t("detail.answer_late") if d.get("late") else ""
    if not has_key(key):
        key = "detail.ev.event"
        params.setdefault("event_kind", str(d.get("event_kind", entry.kind)))
    template = t(key)
    return string.Formatter().vformat(template, (), _Lenient(params))


def _point(details: dict[str, Any]) -> str:
    """「（第 2 条意见）」 for a D5 line: the points of one opinion share their clock kind and often
    their due time, and read as duplicates without it (issue 26). Blank for other clocks."""
    seq = details.get("seq")
    if seq is None:
        return ""
    round_no = details.get("round")
    if round_no and int(round_no) > 1:
        return t("detail.ev.point_round", seq=seq, round=round_no)
    return t("detail.ev.point", seq=seq)


def _arrival_key(entry: TimelineEntry) -> str:
    """An arrival recorded by someone else says so (issue 27): the surveyor's upload of the 人车合影
    for the first responsible is not the first responsible acting."""
    d = entry.details
    person, actor = d.get("person"), entry.actor_name
    if d.get("by_photo"):
        return "detail.ev.arrival_photo" if actor == person else "detail.ev.arrival_photo_for"
    if actor and person and actor != person:
        return "detail.ev.arrival_recorded_by"
    return "detail.ev.arrival"


def who(entry: TimelineEntry) -> tuple[str, str]:
    """(name, role) of whoever acted; the system when no person did."""
    if entry.actor_name is None:
        return t("detail.system"), ""
    return entry.actor_name, _label("role", entry.actor_role) if entry.actor_role else ""


_BADGE = {RED: "red", AMBER: "orange", None: "gray"}


def _badge(text: str, tone: Tone) -> str:
    safe = text.replace("[", "［").replace("]", "］")
    return f":{_BADGE[tone]}-badge[{safe}]"


def clock_card(line: DeadlineLine, status_tone: Tone, left_tone: Tone, now: datetime) -> str:
    """One clock as a few lines of text for a phone (issue 27): the clock, its status and the time left
    first (coloured as in the table), then the due time and who answers for it. Markdown: the
    names read as written (format.plain)."""
    head = [_badge(t(f"detail.deadline_status.{line.status}"), status_tone)]
    if line.status in ("open", "overdue"):
        head.append(_badge(time_left(line.due_at, now), left_tone))
    title = " ".join(filter(None, (_label("detail.deadline", line.kind), point_label(line.point_seq, line.answer_round))))
    rows = [f"**{title}**", " ".join(head),
            t("deadlines.card.due", due=local_time(line.due_at)),
            t("deadlines.card.responsible", name=plain(line.responsible_name or "—"))]
    if line.also_charged_name:
        rows.append(t("deadlines.card.also_charged", name=plain(line.also_charged_name)))
    if line.met_at is not None:
        rows.append(t("deadlines.card.met", at=local_time(line.met_at)))
    return "  \n".join(rows)
