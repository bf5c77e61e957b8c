"""Demo rows for intake and tier administration, made through the real services.

Fresh reported cases still waiting for the surveyor's estimate (they head the dispatch board),
a few contact attempts on recent dispatches, and branch sub-tier requests: one pending, one
rejected with HQ's note.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.services.actor import load_actor
from dashboard.services.dispatching.dispatch import record_contact_attempt
from dashboard.services.cases.intake import CaseInput, register_case
from dashboard.rules.tier_bands import BandInput
from dashboard.services.admin.tier_admin import decide_branch_request, request_branch_subtiers
from dashboard.demo.org import DemoOrg
from db.models import Dispatch

_PLACES = {"gz": ("广东省", "广州市"), "sz": ("广东省", "深圳市"), "hz": ("浙江省", "杭州市"),
           "nj": ("江苏省", "南京市"), "cd": ("四川省", "成都市"), "nb": ("浙江省", "宁波市")}
_PLATES = {"广东省": "粤", "浙江省": "浙", "江苏省": "苏", "四川省": "川"}
_NAMES = ("周建国", "吴晓东", "郑海燕", "王志强", "冯雪梅", "陈思远", "褚丽华", "卫德胜", "蒋美玲", "沈浩然",
          "韩春燕", "杨振宇")


def populate(session: Session, org: DemoOrg, rng: random.Random, now: datetime) -> None:
    call_center = load_actor(session, org.person("callcenter"))
    for n, code in enumerate(rng.choices(list(_PLACES), k=12), start=1):
        province, city = _PLACES[code]
        reported = now - timedelta(minutes=rng.randint(10, 180))
        name = _NAMES[n - 1]
        surveyor_username = f"{code}_surveyor{rng.randint(1, 2)}"
        # Half are registered by the surveyor on the spot, half by the call center's seat.
        actor = load_actor(session, org.person(surveyor_username)) if n % 2 else call_center
        register_case(session, actor, CaseInput(
            case_no=f"BA{reported.strftime('%Y%m%d')}{n:04d}{rng.randint(10, 99)}", report_time=reported,
            accident_time=reported - timedelta(minutes=rng.randint(15, 240)), province=province, city=city,
            address=f"{city}{rng.choice(('中山路', '人民路', '滨江大道', '科技园路'))}{rng.randint(1, 300)}号",
            business_line="motor", policy_no=f"PDAA{reported.year}{rng.randint(10**11, 10**12 - 1)}",
            insured_name=name, driver_name=name, reporter_name=name,
            reporter_phone=f"13{rng.randint(100000000, 999999999)}",
            plate_no=f"{_PLATES[province]}{rng.choice('ABCDE')}{rng.randint(10000, 99999)}",
            vehicle_model=rng.choice(("丰田凯美瑞", "比亚迪汉", "大众帕萨特", "解放J6重卡")),
            vehicle_age_years=rng.randint(0, 12), vehicle_use=rng.choice(("private", "private", "taxi")),
            accident_type=rng.choice(("collision", "single_vehicle", "injury", "flood")), sub_branch=code,
            surveyor=surveyor_username, description="客户来电报案，查勘员正赶赴现场。"), now=reported)

    # Recent dispatches the call center has tried to reach (第二章 一.3/4).
    recent = session.scalars(select(Dispatch).where(Dispatch.contact_state == "notified",
                                                    Dispatch.dispatched_at > now - timedelta(hours=20))
                             .order_by(Dispatch.dispatched_at.desc()).limit(6)).all()
    for dispatch, (outcome, reason) in zip(recent, (("reached", None), ("reached", None), ("unreachable", "电话关机"),
                                                    ("unavailable", "在外地出差"), ("reached", None))):
        record_contact_attempt(session, call_center, dispatch.id, outcome, reason=reason,
                               now=min(now, max(dispatch.dispatched_at + timedelta(minutes=10), now - timedelta(minutes=30))))

    split = [BandInput("T1A", "50000", "80000", ["sub_claims_head"]),
             BandInput("T1B", "80000", "200000", ["sub_head"]),
             BandInput("T2", "200000", "500000", ["sub_head", "sub_finance_head"])]
    manager = load_actor(session, org.person("zj_manager"))
    request_branch_subtiers(session, manager, org.branch("zj").id, split, now=now - timedelta(days=2),
                            note="浙江分公司5–20万元案件量大，申请细分为三级，由三级机构负责人承接8–20万元案件。")
    js_manager = load_actor(session, org.person("js_manager"))
    rejected = request_branch_subtiers(session, js_manager, org.branch("js").id, split, now=now - timedelta(days=9),
                                       note="申请细分5–50万元区间。")
    decide_branch_request(session, load_actor(session, org.person("admin")), rejected, approve=False,
                          now=now - timedelta(days=8), note="未附近一年案件量与人员配置说明，请补充后重新申请。")
