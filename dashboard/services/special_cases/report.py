"""The periodic report of special cases per business unit (特殊赔案理赔管理办法 三.3: 采取案件跟踪
定期考核制度，与受益业务部门的费用挂钩，与特殊案件单位的保费规模结合): for each unit and period, how
many were raised, approved, rejected and still pending, and the extra amount paid on those approved
(the payment requested above what the normal claim flow would pay). Aggregated in SQL."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import DateTime, Select, bindparam, case, func, select
from sqlalchemy.orm import Session

from dashboard.services.actor import Actor
from dashboard.services.capability import requires
from dashboard.services.errors import UserError
from dashboard.services.special_cases.approvals import BRANCH, SUB, _scope
from dashboard.services.statements import as_rows, built_once, read
from dashboard.settings import BUSINESS_TZ
from db.models import SpecialCase

PERIODS = ("month", "quarter", "year")
UNITS = ("branch", "sub_branch")


@dataclass(frozen=True)
class ReportRow:
    period: date  # the first day of the month / quarter / year
    branch: str
    unit: str  # the branch again, or the sub-branch
    raised: int
    approved: int
    rejected: int
    pending: int
    extra_paid: Decimal  # approved only
    requested_approved: Decimal


@built_once
def _report_statement(actor: Actor, period: str, by: str) -> Select:
    """Per unit and period, for the requests raised from `start` to before `end` (bound at execution)."""
    bucket = func.date_trunc(period, func.timezone(str(BUSINESS_TZ), SpecialCase.raised_at)).label("bucket")
    unit = (func.coalesce(SUB.name, BRANCH.name) if by == "sub_branch" else BRANCH.name).label("unit")
    approved = SpecialCase.status == "approved"
    extra = SpecialCase.requested_amount - SpecialCase.normal_amount
    return (select(bucket, BRANCH.name, unit, func.count(),
                   func.count().filter(approved), func.count().filter(SpecialCase.status == "rejected"),
                   func.count().filter(SpecialCase.status == "pending"),
                   func.coalesce(func.sum(case((approved, extra), else_=0)), 0),
                   func.coalesce(func.sum(case((approved, SpecialCase.requested_amount), else_=0)), 0))
            .join(BRANCH, BRANCH.id == SpecialCase.branch_id).outerjoin(SUB, SUB.id == SpecialCase.sub_branch_id)
            .where(SpecialCase.raised_at >= _START, SpecialCase.raised_at < _END, *_scope(actor))
            .group_by(bucket, BRANCH.name, unit)
            .order_by(bucket.desc(), func.sum(case((approved, extra), else_=0)).desc(), unit))


_START = bindparam("start", type_=DateTime(timezone=True))
_END = bindparam("end", type_=DateTime(timezone=True))


@requires("special.read")
def special_report(session: Session, actor: Actor, *, date_from: date, date_to: date, period: str = "month",
                   by: str = "sub_branch") -> list[ReportRow]:
    """Per unit and period of raising (Asia/Shanghai), newest period first, then by extra paid."""
    if period not in PERIODS or by not in UNITS:
        raise UserError("special.error.report_choice")
    if date_from > date_to:
        raise UserError("special.error.report_dates")
    start = datetime.combine(date_from, time.min, BUSINESS_TZ)
    end = datetime.combine(date_to + timedelta(days=1), time.min, BUSINESS_TZ)
    rows = read(session, _report_statement(actor, period, by), {"start": start, "end": end}, prepared=True).all()
    return as_rows(ReportRow, [(r[0].date(), *r[1:7], Decimal(r[7]), Decimal(r[8])) for r in rows])
