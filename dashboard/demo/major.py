"""Demo major cases, made through the real services: a typhoon HQ registered with the Guangdong
cases it caused tagged to it, and a pile-up a branch flagged for its social impact (cases above
the branch's authority are already major from their estimates)."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.demo.org import DemoOrg
from dashboard.services.actor import load_actor
from dashboard.services.cases.major import create_catastrophe, flag_major, tag_catastrophe
from db.models import ClaimCase


def populate(session: Session, org: DemoOrg, rng: random.Random, now: datetime) -> None:
    reviewer = load_actor(session, org.person("reviewer"))
    typhoon_day = (now - timedelta(days=9)).date()
    event = create_catastrophe(session, reviewer, f"{typhoon_day.year}年第18号台风“海燕”", "typhoon", typhoon_day,
                               "广东沿海", now=now - timedelta(days=8))
    hit = list(session.scalars(
        select(ClaimCase.case_no).where(ClaimCase.branch_id == org.branch("gd").id,
                                        ClaimCase.business_line == "motor", ClaimCase.state != "closed",
                                        ClaimCase.is_major.is_(False),
                                        ClaimCase.report_time.between(now - timedelta(days=9), now - timedelta(days=6)))
        .order_by(ClaimCase.id).limit(8)))
    if hit:
        tag_catastrophe(session, reviewer, event.id, "\n".join(hit), now=now - timedelta(days=8))
    manager = load_actor(session, org.person("js_manager"))
    pile_up = session.scalars(
        select(ClaimCase).where(ClaimCase.branch_id == org.branch("js").id, ClaimCase.business_line == "motor",
                                ClaimCase.state != "closed", ClaimCase.is_major.is_(False))
        .order_by(ClaimCase.report_time.desc()).limit(1)).first()
    if pile_up is not None:
        flag_major(session, manager, pile_up.id, "social_impact", org.person("js_gm"),
                   expected_version=pile_up.version, now=now - timedelta(hours=rng.randint(2, 30)))
