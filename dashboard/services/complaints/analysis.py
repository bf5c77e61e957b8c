"""The summary analysis of complaints, disputes and difficult cases (第十条: 适时进行总结分析): how
many items by month of registration, kind, cause, branch and outcome (open items count as
"open"). One grouped query; the page sums it along the dimension it draws, and exports it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import DateTime, Select, bindparam, func, select
from sqlalchemy.orm import Session

from dashboard.services.actor import Actor
from dashboard.services.capability import requires
from dashboard.services.complaints.register import BRANCH, _scoped
from dashboard.services.errors import UserError
from dashboard.services.statements import built_once, read
from dashboard.settings import BUSINESS_TZ
from db.models import ComplaintItem

DIMENSIONS = ("kind", "cause", "branch", "outcome")


@dataclass(frozen=True)
class AnalysisCell:
    month: date
    kind: str
    cause: str
    branch: str
    outcome: str  # one of rules/complaints.OUTCOMES, or "open"
    items: int


@dataclass(frozen=True)
class MonthCount:
    month: date
    value: str  # the dimension's value: a kind, a cause, a branch's name, an outcome ("open" when open)
    items: int


def _window(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    if date_from > date_to:
        raise UserError("complaints.error.dates")
    return (datetime.combine(date_from, time.min, BUSINESS_TZ),
            datetime.combine(date_to + timedelta(days=1), time.min, BUSINESS_TZ))


def _month():
    return func.date_trunc("month", func.timezone(str(BUSINESS_TZ), ComplaintItem.registered_at)).label("month")


# The window, bound at execution: one built statement serves every choice of dates.
_START = bindparam("start", type_=DateTime(timezone=True))
_END = bindparam("end", type_=DateTime(timezone=True))


@built_once
def _counts_by_statement(actor: Actor, dimension: str) -> Select:
    column = {"kind": ComplaintItem.kind, "cause": ComplaintItem.cause, "branch": BRANCH.name,
              "outcome": func.coalesce(ComplaintItem.outcome, "open")}[dimension].label("value")
    month = _month()
    query = select(month, column, func.count()).where(ComplaintItem.registered_at >= _START,
                                                      ComplaintItem.registered_at < _END, *_scoped(actor))
    if dimension == "branch":
        query = query.join(BRANCH, BRANCH.id == ComplaintItem.branch_id)
    return query.group_by(month, column).order_by(month)


@requires("complaint.read")
def counts_by(session: Session, actor: Actor, dimension: str, *, date_from: date, date_to: date) -> list[MonthCount]:
    """Items registered between the dates (Asia/Shanghai, inclusive) per month and one dimension:
    as many rows as months × values, whatever the volume."""
    if dimension not in DIMENSIONS:
        raise UserError("complaints.error.filter")
    start, end = _window(date_from, date_to)
    rows = read(session, _counts_by_statement(actor, dimension), {"start": start, "end": end}, prepared=True).all()
    return [MonthCount(r[0].date(), r[1], r[2]) for r in rows]


@built_once
def _analysis_statement(actor: Actor) -> Select:
    month = _month()
    outcome = func.coalesce(ComplaintItem.outcome, "open").label("outcome")
    return (select(month, ComplaintItem.kind, ComplaintItem.cause, BRANCH.name, outcome, func.count())
            .join(BRANCH, BRANCH.id == ComplaintItem.branch_id)
            .where(ComplaintItem.registered_at >= _START, ComplaintItem.registered_at < _END, *_scoped(actor))
            .group_by(month, ComplaintItem.kind, ComplaintItem.cause, BRANCH.name, outcome)
            .order_by(month))


@requires("complaint.read")
def complaint_analysis(session: Session, actor: Actor, *, date_from: date, date_to: date) -> list[AnalysisCell]:
    """Items registered between the dates, counted per month and per kind × cause × branch ×
    outcome: the export's table (read when it is downloaded)."""
    start, end = _window(date_from, date_to)
    rows = read(session, _analysis_statement(actor), {"start": start, "end": end}, prepared=True).all()
    return [AnalysisCell(r[0].date(), r[1], r[2], r[3], r[4], r[5]) for r in rows]
