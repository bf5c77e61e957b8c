"""Demo violation appeals (违规申诉, issue 22), made through the real service: a dozen people
appeal one of their violations with a reason (a system outage, a case moved, a holiday), HQ admin
accepts some (exempt, still on record), rejects others, and leaves a few waiting for the page."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.demo.org import DemoOrg
from dashboard.services.actor import load_actor
from dashboard.services.clocks.appeals import decide_appeal, file_appeal
from db.models import Violation

_REASONS = (
    ("核心系统当日 14:00–18:00 故障，资料无法上传，已于恢复后立即补传。", "运维工单 OPS-2026-1187"),
    ("案件于时限内转交他人处理，系统未及时变更责任人。", "转交审批单见案件附件"),
    ("现场位于山区无信号，返回后第一时间上传。", "查勘轨迹截图已上传"),
    ("报案信息有误，实际出险地点为外省，已协调异地查勘。", None),
    ("客户要求改约查勘时间，已留存通话录音。", "通话录音编号 REC-88312"),
    ("当日参加总公司视频会议，已安排同事代为处理但系统未记录。", None),
)
_ACCEPT = ("经核实故障属实，予以豁免。", "转交记录完整，予以豁免。", "情况属实，同意豁免。")
_REJECT = ("理由不充分，时限内仍可安排他人处理。", "未提供有效证据，维持违规认定。")
# How the dozen end: accepted, rejected, still waiting.
_OUTCOMES = ("accepted",) * 5 + ("rejected",) * 3 + ("pending",) * 4


def populate(session: Session, org: DemoOrg, rng: random.Random, now: datetime) -> None:
    # The demo's violations are all recorded by the violation job run at load time (found_at = now):
    # the appeals follow within the minute, oldest breaches first.
    rows = session.execute(select(Violation.id, Violation.person_id, Violation.found_at)
                           .where(Violation.due_at < now - timedelta(days=1))
                           .order_by(Violation.due_at, Violation.id)).all()
    chosen, people = [], set()
    for row in rows:  # one appeal per person, the most recent violations first
        if row.person_id not in people and row.person_id != org.person("admin"):
            people.add(row.person_id)
            chosen.append(row)
        if len(chosen) == len(_OUTCOMES):
            break
    admin = load_actor(session, org.person("admin"))
    assert admin is not None
    for row, outcome in zip(chosen, _OUTCOMES):
        appellant = load_actor(session, row.person_id)
        if appellant is None:
            continue
        reason, evidence = rng.choice(_REASONS)
        filed = max(row.found_at, now) + timedelta(seconds=rng.randint(1, 20))
        appeal_id = file_appeal(session, appellant, row.id, reason, evidence, now=filed)
        if outcome != "pending":
            decided = filed + timedelta(seconds=rng.randint(1, 20))
            decide_appeal(session, admin, appeal_id, outcome == "accepted",
                          rng.choice(_ACCEPT if outcome == "accepted" else _REJECT),
                          expected_version=1, now=decided)
