"""Demo complaints, disputes and difficult cases (投诉、纠纷、疑难案件), made through the real
register in time order: about seventy items over six months in all four branches, every kind,
cause and channel, each at every step from registered to archived: justified complaints with the
apology and the measure, unjustified ones explained, disputes mediated, failed at mediation and
arbitrated, difficult cases through a working group's minutes and plan, return visits; and a few
items older than the return-visit days still without one, for the tracker."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.demo.org import DemoOrg
from dashboard.rules.complaints import CAUSES, CHANNELS
from dashboard.services.actor import Actor, load_actor
from dashboard.services.complaints.register import ItemForm, StepInput, advance_item, assign_item, register_item
from dashboard.settings import BUSINESS_TZ
from db.models import ClaimCase

# How many items of each kind end at each step (a demo opened today: old items archived, recent
# ones still on their way). 40 complaints, 18 disputes, 14 difficult cases.
_FINAL_STEPS: dict[str, dict[str, int]] = {
    "complaint": {"registered": 3, "assigned": 5, "escalated": 2, "working_group": 1, "handled": 6,
                  "return_visited": 5, "archived": 18},
    "dispute": {"assigned": 1, "escalated": 1, "mediation": 3, "arbitration": 2, "handled": 3, "return_visited": 2,
                "archived": 6},
    "difficult": {"registered": 1, "assigned": 1, "escalated": 2, "working_group": 3, "handled": 2,
                  "return_visited": 1, "archived": 4},
}
# The ways an item goes after it is assigned, to the archive (each kind's paths; one is chosen that
# passes through the item's final step). "mediation!" is a mediation that failed.
_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "complaint": (("handled", "return_visited", "archived"),
                  ("handled", "return_visited", "archived"),
                  ("escalated", "handled", "return_visited", "archived"),
                  ("escalated", "working_group", "handled", "return_visited", "archived")),
    "dispute": (("handled", "return_visited", "archived"),
                ("mediation", "handled", "return_visited", "archived"),
                ("mediation!", "arbitration", "handled", "return_visited", "archived"),
                ("escalated", "mediation", "handled", "return_visited", "archived"),
                ("mediation!", "handled", "return_visited", "archived")),
    "difficult": (("escalated", "working_group", "handled", "return_visited", "archived"),
                  ("working_group", "handled", "return_visited", "archived")),
}
# Days since registration, by final step: (low, high); the items marked overdue stay open past the
# 15 days a return visit is due in (complaint.return_visit_days).
_AGE_DAYS = {"registered": (0.05, 1.5), "assigned": (0.3, 8), "escalated": (2, 10), "working_group": (4, 12),
             "mediation": (5, 13), "arbitration": (25, 70), "handled": (1.5, 12), "return_visited": (6, 50),
             "archived": (18, 172)}
_OVERDUE = {("complaint", "handled"): 2, ("complaint", "assigned"): 1, ("difficult", "registered"): 1,
            ("difficult", "working_group"): 1, ("dispute", "mediation"): 1}
# Hours a step takes after the one before it: (low, high).
_STEP_HOURS = {"assigned": (1, 20), "escalated": (20, 72), "working_group": (48, 120), "mediation": (48, 168),
               "arbitration": (168, 480), "handled": (24, 120), "return_visited": (48, 240), "archived": (24, 120)}
_CAUSES_OF = {"complaint": CAUSES, "dispute": ("amount", "liability", "survey", "documents"),
              "difficult": ("liability", "survey", "documents", "amount", "other")}
_CHANNELS_OF = {"complaint": CHANNELS, "dispute": ("letter", "visit", "phone", "regulator"),
                "difficult": ("visit", "phone", "letter")}

_SUMMARIES = {
    ("complaint", "amount"): ("认为定损金额偏低，要求按4S店报价赔付。", "对人伤误工费核定标准不满，要求按实际收入赔偿。"),
    ("complaint", "speed"): ("资料已交齐两周仍未收到赔款，要求尽快支付。", "报案后查勘员超过一天才联系，延误修车营运。"),
    ("complaint", "attitude"): ("查勘员现场态度生硬，不解释定损依据。", "电话咨询理赔进度，坐席多次转接无人答复。"),
    ("complaint", "liability"): ("对按次要责任比例赔付有异议，认为对方应负全责。",),
    ("complaint", "documents"): ("被要求反复补充材料，每次只告知一项，往返多次。", "要求提供的单证过多，部分与本案无关。"),
    ("complaint", "survey"): ("查勘员未到现场，仅凭照片定损，遗漏底盘损失。", "定损时未拆检，修理中发现的损失不予认可。"),
    ("complaint", "other"): ("理赔短信通知金额与实际到账金额不一致。", "赔款支付到账户名错误，要求尽快更正。"),
    ("dispute", "amount"): ("就车辆按全损还是部分损失赔付存在争议，客户要求按保额赔付。",
                            "人伤案件伤残等级鉴定后，双方对赔偿金额分歧较大。"),
    ("dispute", "liability"): ("货运险货损原因争议：客户主张运输途中受潮，查勘认为包装不当。",
                               "对事故是否属于营运期间发生存在争议，涉及责任免除条款。"),
    ("dispute", "survey"): ("企业财产险火灾损失范围争议，客户认为库存损失被低估。",),
    ("dispute", "documents"): ("客户无法提供购车发票原件，对按评估价赔付不认可。",),
    ("difficult", "liability"): ("多车连环相撞，责任划分复杂，涉及四家保险公司。", "单方事故疑点较多，是否存在故意行为需调查。"),
    ("difficult", "survey"): ("车辆涉水后发动机损坏，是否属于发动机进水除外责任存在技术分歧。",),
    ("difficult", "documents"): ("伤者长期住院，后续治疗费用及残疾赔偿难以确定。",),
    ("difficult", "amount"): ("进口高端车型配件无国内报价，损失金额难以核定。",),
    ("difficult", "other"): ("出险时间与保单生效时间接近，需多方核实是否存在倒签单。",),
}
_PEOPLE = ("李女士", "王先生", "张先生", "陈女士", "刘先生", "赵女士", "孙先生", "周女士", "吴先生", "郑女士",
           "顺安客运集团", "东方冷链物流有限公司")
_ESCALATIONS = ("涉及多方责任及技术鉴定，报分公司理赔部协调处理。", "客户情绪激烈并扬言向监管部门投诉，升级至分公司处理。",
                "案情复杂，超出支公司处理权限，报分公司。")
_MINUTES = ("工作组（分公司理赔部、法律合规部、车险部）集体研究：事故经过已由交警认定，损失核定依据充分，一致同意按方案处理。",
            "工作组会议纪要：经查阅现场照片、维修记录及鉴定意见，多数意见认为属保险责任，按70%比例赔付，法律部无异议。",
            "工作组研讨：技术鉴定结论明确，发动机损坏系二次启动所致，按条款处理，同时做好客户解释工作。")
_PLANS = ("按核定金额赔付，由支公司理赔负责人当面向客户解释。", "委托第三方公估机构重新核损，以公估结论为准赔付。",
          "按70%责任比例赔付，并安排专人跟进客户诉求。")
_MEDIATIONS_AGREED = ("经保险行业协会调解委员会调解，双方达成一致，按调解协议金额赔付。",
                      "在交警部门主持下三方调解，达成赔偿协议。")
_MEDIATIONS_FAILED = ("调解委员会组织调解，客户不接受调解方案，调解不成。", "双方分歧较大，调解未能达成协议。")
_ARBITRATIONS = ("仲裁委员会裁决：按保单约定赔付，驳回客户超出部分请求。", "仲裁裁决按评估价赔付，双方均已签收裁决书。")
_RESULTS = {
    "complaint": ("已加快理算，赔款已于三日内支付到账。", "已安排复勘并补充定损，差额部分已赔付。"),
    "dispute": ("双方协商一致，按协商金额赔付结案。",),
    "mediation": ("按调解协议赔付结案。",),
    "mediation!": ("调解不成后双方再次协商，按协商金额赔付结案。",),
    "arbitration": ("按仲裁裁决赔付结案。",),
    "difficult": ("按工作组确定的方案赔付结案。", "经公估核定后赔付，客户无异议。"),
}
_APOLOGIES = ("支公司理赔负责人已上门向客户当面致歉。", "已电话向客户致歉，并寄送致歉函。")
_MEASURES = ("对经办查勘员通报批评，纳入季度考核；建立超期案件每日预警。", "修订单证一次性告知清单，坐席统一口径。",
             "对定损流程增加拆检复核环节。")
_UNJUSTIFIED = ("经核查，定损及赔付符合条款约定，已向客户解释。", "经调取录音核实，坐席答复无误，已向客户说明。")
_VISITS = ("电话回访客户，对处理结果表示满意。", "回访客户，基本满意，建议进一步缩短赔付时效。",
           "上门回访，客户认可处理结果，已签署结案确认书。", "回访客户，对金额仍有保留意见，但接受处理结果。")


@dataclass
class _Item:
    kind: str
    final: str
    age_days: float
    cause: str = ""
    channel: str = ""


def _planned(rng: random.Random) -> list[_Item]:
    items: list[_Item] = []
    for kind, finals in _FINAL_STEPS.items():
        kind_items: list[_Item] = []
        for final, count in finals.items():
            overdue = _OVERDUE.get((kind, final), 0)
            low, high = _AGE_DAYS[final]
            for n in range(count):
                if n < overdue:  # open past the return-visit days: on the tracker
                    age = rng.uniform(16.5, 45)
                elif final == "archived":  # spread evenly over the months, for the monthly analysis
                    age = low + (high - low) * (n + rng.random()) / count
                else:
                    age = rng.uniform(low, high)
                kind_items.append(_Item(kind, final, age))
        rng.shuffle(kind_items)
        # Every cause and channel of the kind, in turn.
        for n, item in enumerate(kind_items):
            item.cause = _CAUSES_OF[kind][n % len(_CAUSES_OF[kind])]
            item.channel = _CHANNELS_OF[kind][(n * 5 + 1) % len(_CHANNELS_OF[kind])]
        items.extend(kind_items)
    items.sort(key=lambda i: -i.age_days)  # registered in time order
    return items


def _path(rng: random.Random, item: _Item) -> list[str]:
    """The steps after `assigned` up to the item's final step, on a way of its kind through it."""
    if item.final in ("registered", "assigned"):
        return []
    ways = [w for w in _PATHS[item.kind] if item.final in (s.rstrip("!") for s in w)]
    # A dispute still at mediation is on a way that may still end either way.
    way = list(rng.choice(ways))
    end = [s.rstrip("!") for s in way].index(item.final)
    return way[:end + 1]


def populate(session: Session, org: DemoOrg, rng: random.Random, now: datetime) -> None:
    actors: dict[str, Actor] = {}

    def actor(username: str) -> Actor:
        if username not in actors:
            found = load_actor(session, org.person(username))
            assert found is not None, username
            actors[username] = found
        return actors[username]

    cases = session.execute(select(ClaimCase.id, ClaimCase.case_no, ClaimCase.branch_id, ClaimCase.sub_branch_id,
                                   ClaimCase.report_time, ClaimCase.insured_name)
                            .where(ClaimCase.current_estimate.is_not(None)).order_by(ClaimCase.id)).all()
    used: set[int] = set()
    sub_code = {s.id: s.code for subs in org.sub_branches.values() for s in subs}
    for item in _planned(rng):
        registered_at = now - timedelta(days=item.age_days)
        # Most items are about a case reported in the weeks before; older than the case book, or
        # about the service in general (a phone queue, a letter), an item has none.
        nearby = [c for c in cases if c.id not in used
                  and registered_at - timedelta(days=60) < c.report_time < registered_at - timedelta(days=1)]
        case = rng.choice(nearby) if nearby and rng.random() < 0.75 else None
        if case is not None:
            used.add(case.id)
            branch = next(b for b in org.branches if b.id == case.branch_id)
            sub = sub_code[case.sub_branch_id] if case.sub_branch_id else rng.choice(org.sub_branches[branch.code]).code
        else:
            branch = rng.choice(org.branches)
            sub = rng.choice(org.sub_branches[branch.code]).code
        if item.channel in ("phone", "online"):
            registrar = actor("callcenter")  # 95xxx hotline and the app reach the call center first
        else:
            registrar = actor(f"{branch.code}_{rng.choice(('manager', 'tracker'))}")
        handler_name = rng.choice((f"{sub}_claims", f"{sub}_claims", f"{branch.code}_claims", f"{branch.code}_tracker"))
        handler = actor(handler_name)
        assign_at_once = item.final != "registered" and rng.random() < 0.6
        complainant = (case.insured_name if case is not None and rng.random() < 0.7 else rng.choice(_PEOPLE))
        received = registered_at.astimezone(BUSINESS_TZ).date() - timedelta(
            days=rng.randint(1, 3) if item.channel in ("letter", "regulator") else 0)
        if case is not None:  # a letter about a claim is not received before the claim was reported
            received = max(received, case.report_time.astimezone(BUSINESS_TZ).date())
        row = register_item(session, registrar, ItemForm(
            kind=item.kind, cause=item.cause, channel=item.channel, case_no=case.case_no if case else None,
            branch_id=None if case else branch.id, complainant=complainant,
            summary=rng.choice(_SUMMARIES[(item.kind, item.cause)]), received_on=received,
            assignee_id=handler.person_id if assign_at_once else None), now=registered_at)
        path = _path(rng, item)
        if item.final == "registered":
            continue
        # The moments of each step, squeezed into the item's age when they would run past now.
        hours = [rng.uniform(*_STEP_HOURS["assigned"]) if not assign_at_once else 0.0]
        hours += [rng.uniform(*_STEP_HOURS[s.rstrip("!")]) for s in path]
        room = item.age_days * 24 * 0.9
        scale = min(1.0, room / sum(hours)) if sum(hours) else 1.0
        at = registered_at + timedelta(hours=hours[0] * scale)
        if not assign_at_once:
            row = assign_item(session, registrar, row.id, handler.person_id, expected_version=row.version, now=at)
        previous, mediation_failed = "assigned", "mediation!" in path
        for step, gap in zip(path, hours[1:]):
            at += timedelta(hours=gap * scale)
            target = step.rstrip("!")
            mover, given = handler, StepInput()
            if target == "escalated":
                given.note = rng.choice(_ESCALATIONS)
            elif target == "working_group":
                mover = actor(f"{branch.code}_manager")  # the branch convenes the working group
                given.minutes, given.plan = rng.choice(_MINUTES), rng.choice(_PLANS)
            elif target == "handled":
                way = previous + "!" if previous == "mediation" and mediation_failed else previous
                given.handling_result = rng.choice(_RESULTS[way if way in _RESULTS else item.kind])
                if item.kind == "complaint":
                    given.justified = rng.random() < 0.45
                    if given.justified:
                        given.apology, given.measure = rng.choice(_APOLOGIES), rng.choice(_MEASURES)
                    else:
                        given.handling_result = rng.choice(_UNJUSTIFIED)
            elif target == "return_visited":
                mover = actor("callcenter") if rng.random() < 0.5 else handler  # 客服回访 or the handler's own
                given.return_visit = rng.choice(_VISITS)
            elif target == "archived":
                mover = actor(f"{branch.code}_manager")
            if previous == "mediation":
                given.mediation_outcome = "failed" if mediation_failed else "agreed"
                given.mediation_note = rng.choice(_MEDIATIONS_FAILED if mediation_failed else _MEDIATIONS_AGREED)
            if previous == "arbitration":
                given.arbitration_result = rng.choice(_ARBITRATIONS)
            row = advance_item(session, mover, row.id, target, given, expected_version=row.version, now=at)
            previous = target
