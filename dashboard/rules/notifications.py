"""The two SMS templates of 分级管理办法 第二章 一.5/6, rendered from case facts. Pure."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from dashboard.settings import BUSINESS_TZ

# 5、A 第一责任人短信模板 and 6、抄送领导短信模板 (wording kept from the source).
DISPATCH_TEMPLATE = (
    "领导，{insured}被保险人{subject}在{place}于{when}发生了{accident}事故，造成{damage}受损，"
    "预计损失{wan}万元。请领导{on_scene_hours}小时内赶赴现场并在{report_hours}小时内做出调查报告"
    "并由当地客服经理协助上传系统。"
)
COPY_TEMPLATE = (
    "领导，{insured}被保险人{subject}在{place}于{when}发生了{accident}事故，造成{damage}受损，"
    "预计损失{wan}万元。该案件已经调度{dispatched}领导赴现场调查，请领导给予支持。"
)
GO_INSTEAD_TEMPLATE = (
    "领导，案件{case_no}的第一责任人{absent}无法到场（{reason}），请您{on_scene_hours}小时内赶赴现场查勘。"
)
NAME_PERSON_TEMPLATE = (
    "领导，案件{case_no}的第一责任人{absent}联系不上，请您指定人员{on_scene_hours}小时内赶赴现场查勘。"
)

ACCIDENT_WORDS = {
    "collision": "碰撞", "single_vehicle": "单车", "fire": "火灾", "self_ignition": "自燃",
    "theft": "盗抢", "flood": "水淹", "total_loss": "全损", "injury": "人伤", "death": "亡人",
    "property_damage": "财产损失", "illness": "疾病", "other": "意外",
}


@dataclass(frozen=True)
class NoticeFacts:
    case_no: str
    insured: str
    plate_no: str | None
    province: str
    city: str
    address: str
    accident_time: datetime
    accident_type: str
    estimate: Decimal


def _common(facts: NoticeFacts) -> dict[str, str]:
    local = facts.accident_time.astimezone(BUSINESS_TZ)
    injury = facts.accident_type in ("injury", "death")
    return {
        "insured": facts.insured,
        "subject": f"{facts.plate_no}车" if facts.plate_no else "保险标的",
        "place": f"{facts.province}{facts.city}{facts.address}",
        "when": f"{local.year}年{local.month}月{local.day}日{local.hour}时",
        "accident": ACCIDENT_WORDS.get(facts.accident_type, "意外"),
        "damage": "人员" if injury else ("标的车" if facts.plate_no else "保险标的"),
        "wan": f"{(facts.estimate / Decimal(10000)).quantize(Decimal('0.1'))}",
    }


def render_dispatch(facts: NoticeFacts, on_scene_hours: int, report_hours: int) -> str:
    return DISPATCH_TEMPLATE.format(**_common(facts), on_scene_hours=on_scene_hours, report_hours=report_hours)


def render_copy(facts: NoticeFacts, dispatched_names: list[str]) -> str:
    return COPY_TEMPLATE.format(**_common(facts), dispatched="、".join(dispatched_names))


def render_go_instead(case_no: str, absent: str, reason: str, on_scene_hours: int) -> str:
    return GO_INSTEAD_TEMPLATE.format(case_no=case_no, absent=absent, reason=reason, on_scene_hours=on_scene_hours)


def render_name_person(case_no: str, absent: str, on_scene_hours: int) -> str:
    return NAME_PERSON_TEMPLATE.format(case_no=case_no, absent=absent, on_scene_hours=on_scene_hours)
