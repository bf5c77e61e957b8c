"""Small builders for test data that the services then act on."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.demo.org import DemoOrg
from db.models import ClaimCase, Deadline, Violation

_seq = itertools.count(1)
T0 = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)  # 10:00 Asia/Shanghai


def make_case(session: Session, org: DemoOrg, sub_code: str = "gz", *, commit: bool = True,
              **overrides: Any) -> ClaimCase:
    """A reported motor case in sub-branch `sub_code`, surveyed by its first surveyor."""
    branch_code = next(code for code, subs in org.sub_branches.items() if any(s.code == sub_code for s in subs))
    sub = org.sub_branch(sub_code)
    n = next(_seq)
    values: dict[str, Any] = dict(
        case_no=f"TEST{n:08d}", report_time=T0, accident_time=T0 - timedelta(hours=1),
        province=sub.province, city=sub.city, address="天河路100号", business_line="motor",
        policy_no=f"PDAA2026{n:06d}", insured_name="张三", driver_name="张三", reporter_name="张三",
        plate_no="粤A12345", vehicle_model="丰田凯美瑞", vehicle_age_years=3, vehicle_use="private",
        accident_type="collision", compulsory_only=False, branch_id=org.branch(branch_code).id,
        sub_branch_id=sub.id, surveyor_id=sub.surveyors[0], state="reported",
    )
    values.update(overrides)
    case = ClaimCase(**values)
    session.add(case)
    session.flush()
    if commit:
        session.commit()
    return case


def make_violation(session: Session, org: DemoOrg, now: datetime, *, person: str = "gz_surveyor1",
                   kind: str = "D1", **case_overrides: Any) -> Violation:
    """A clock of a new 广州 case, missed 6 hours before `now` and recorded by the violation job."""
    from dashboard.services.clocks.violations import record_violations

    case = make_case(session, org, "gz", **case_overrides)
    session.add(Deadline(case_id=case.id, branch_id=case.branch_id, kind=kind, subject_key=f"test:{case.id}",
                         responsible_person_id=org.person(person), started_at=now - timedelta(hours=30),
                         due_at=now - timedelta(hours=6)))
    session.commit()
    record_violations(session, now)
    session.commit()
    return session.scalars(select(Violation).where(Violation.case_id == case.id)).one()
