"""The summary analysis of complaints, disputes and difficult cases (第十条: 适时进行总结分析): how
many items by month of registration, kind, cause, branch and outcome (open items count as
"open"). One grouped query; the page sums it along the dimension it draws, and exports it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.services.actor import Actor
from dashboard.services.capability import requires
from dashboard.services.complaints.register import BRANCH, _scoped
from dashboard.services.errors import UserError
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


@requires("complaint.read")
def complaint_analysis(session: Session, actor: Actor, *, date_from: date, date_to: date) -> list[AnalysisCell]:
    """Items registered between the dates (Asia/Shanghai, inclusive), counted per month and per
    kind × cause × branch × outcome."""
    if date_from > date_to:
        raise UserError("complaints.error.dates")
    start = datetime.combine(date_from, time.min, BUSINESS_TZ)
    end = datetime.combine(date_to + timedelta(days=1), time.min, BUSINESS_TZ)
    month = func.date_trunc("month", func.timezone(str(BUSINESS_TZ), ComplaintItem.registered_at)).label("month")
    outcome = func.coalesce(ComplaintItem.outcome, "open").label("outcome")
    rows = session.execute(
        select(month, ComplaintItem.kind, ComplaintItem.cause, BRANCH.name, outcome, func.count())
        .join(BRANCH, BRANCH.id == ComplaintItem.branch_id)
        .where(ComplaintItem.registered_at >= start, ComplaintItem.registered_at < end, *_scoped(actor))
        .group_by(month, ComplaintItem.kind, ComplaintItem.cause, BRANCH.name, outcome)
        .order_by(month)).all()
    return [AnalysisCell(r[0].date(), r[1], r[2], r[3], r[4], r[5]) for r in rows]
