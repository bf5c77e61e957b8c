"""Organisation and people for the demo data and for tests: HQ, branches, sub-branches,
and a named person for every role of docs/DOMAIN.md §1 in every unit."""
from __future__ import annotations

from collections.abc import Callable

import random
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from dashboard.settings import (
    BRANCH_CLAIMS_HEAD, BRANCH_FINANCE_HEAD, BRANCH_GM, BRANCH_LINE_HEAD, SUB_CLAIMS_HEAD, SUB_FINANCE_HEAD, SUB_HEAD,
)
from db.models import OrgUnit, Person, RoleAssignment, SupervisorAssignment

DEMO_PASSWORD = "demo1234"

# (code, name, province, [(code, name, city)])
DEMO_BRANCHES: tuple[tuple[str, str, str, tuple[tuple[str, str, str], ...]], ...] = (
    ("gd", "广东分公司", "广东省", (("gz", "广州中心支公司", "广州市"), ("sz", "深圳中心支公司", "深圳市"),
                                   ("fs", "佛山中心支公司", "佛山市"))),
    ("zj", "浙江分公司", "浙江省", (("hz", "杭州中心支公司", "杭州市"), ("nb", "宁波中心支公司", "宁波市"),
                                   ("wz", "温州中心支公司", "温州市"))),
    ("js", "江苏分公司", "江苏省", (("nj", "南京中心支公司", "南京市"), ("su", "苏州中心支公司", "苏州市"),
                                   ("wx", "无锡中心支公司", "无锡市"))),
    ("sc", "四川分公司", "四川省", (("cd", "成都中心支公司", "成都市"), ("my", "绵阳中心支公司", "绵阳市"),
                                   ("dy", "德阳中心支公司", "德阳市"))),
)

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋余于杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
_GIVEN = ("伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
          "明", "超", "秀兰", "霞", "平", "刚", "桂英", "建华", "志强", "海燕", "文博", "雪梅", "建国",
          "晓东", "红梅", "宇航", "俊杰", "思远", "国庆", "丽华", "志明", "春燕", "子涵", "浩然", "嘉怡",
          "振宇", "雨桐", "立新", "美玲", "德胜", "晓峰", "慧敏", "永红", "佳琪")


@dataclass
class DemoUnit:
    id: int
    code: str
    name: str
    province: str | None = None
    city: str | None = None
    people: dict[str, int] = field(default_factory=dict)  # key -> person id
    surveyors: list[int] = field(default_factory=list)


@dataclass
class DemoOrg:
    hq: DemoUnit
    branches: list[DemoUnit]
    sub_branches: dict[str, list[DemoUnit]]  # branch code -> its sub-branches
    usernames: dict[str, int]  # username -> person id

    def branch(self, code: str) -> DemoUnit:
        return next(b for b in self.branches if b.code == code)

    def sub_branch(self, code: str) -> DemoUnit:
        return next(s for subs in self.sub_branches.values() for s in subs if s.code == code)

    def person(self, username: str) -> int:
        return self.usernames[username]


class _Names:
    """Deterministic, distinct realistic Chinese names."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._used: set[str] = set()

    def next(self) -> str:
        while True:
            name = self._rng.choice(_SURNAMES) + self._rng.choice(_GIVEN)
            if name not in self._used:
                self._used.add(name)
                return name


def build_org(session: Session, password_hash: str | Callable[[], str], *, branches=DEMO_BRANCHES, seed: int = 7,
              surveyors_per_sub_branch: int = 3) -> DemoOrg:
    """Create the units and people; flushes but does not commit (the caller owns the transaction).
    `password_hash`: one hash for everyone (tests, benchmarks), or a function called per person."""
    rng = random.Random(seed)
    names = _Names(rng)
    usernames: dict[str, int] = {}

    def person(username: str, title: str, unit: DemoUnit, roles: list[tuple[str, str | None]]) -> int:
        p = Person(username=username, full_name=names.next(),
                   password_hash=password_hash() if callable(password_hash) else password_hash, title=title,
                   phone=f"13{rng.randint(100000000, 999999999)}")
        session.add(p)
        session.flush()
        for role, position in roles:
            session.add(RoleAssignment(person_id=p.id, role=role, unit_id=unit.id, position=position))
        usernames[username] = p.id
        unit.people[username] = p.id
        return p.id

    hq_row = OrgUnit(code="hq", name="总公司", level="hq")
    session.add(hq_row)
    session.flush()
    hq = DemoUnit(hq_row.id, "hq", "总公司")
    person("admin", "总公司分级案件管理责任人", hq, [("hq_admin", None)])
    person("reviewer", "分级案件管理审核人", hq, [("hq_reviewer", None)])
    person("reviewer2", "分级案件管理审核人", hq, [("hq_reviewer", None)])
    person("callcenter", "呼叫中心坐席", hq, [("call_center", None)])
    person("executive", "总经理", hq, [("executive", None)])
    supervisors = [person("supervisor", "总公司执委", hq, [("exec_supervisor", None)]),
                   person("supervisor2", "总公司执委", hq, [("exec_supervisor", None)])]

    branch_units: list[DemoUnit] = []
    sub_units: dict[str, list[DemoUnit]] = {}
    for index, (code, name, province, subs) in enumerate(branches):
        row = OrgUnit(code=code, name=name, level="branch", parent_id=hq.id, province=province,
                      is_key_branch=index < 2)
        session.add(row)
        session.flush()
        unit = DemoUnit(row.id, code, name, province=province)
        branch_units.append(unit)
        person(f"{code}_manager", "查勘管理岗负责人", unit, [("branch_manager", None)])
        person(f"{code}_tracker", "未决管理岗负责人", unit, [("branch_tracker", None)])
        person(f"{code}_gm", "分公司总经理", unit, [("first_responsible", BRANCH_GM)])
        person(f"{code}_claims", "分公司理赔负责人", unit, [("first_responsible", BRANCH_CLAIMS_HEAD)])
        person(f"{code}_finance", "分公司财务负责人", unit, [("first_responsible", BRANCH_FINANCE_HEAD)])
        session.add(SupervisorAssignment(person_id=supervisors[index % len(supervisors)], branch_id=unit.id))
        sub_units[code] = []
        for sub_code, sub_name, city in subs:
            sub_row = OrgUnit(code=sub_code, name=sub_name, level="sub_branch", parent_id=unit.id,
                              province=province, city=city)
            session.add(sub_row)
            session.flush()
            sub = DemoUnit(sub_row.id, sub_code, sub_name, province=province, city=city)
            sub_units[code].append(sub)
            person(f"{sub_code}_claims", "三级机构理赔负责人", sub, [("first_responsible", SUB_CLAIMS_HEAD)])
            person(f"{sub_code}_head", "三级机构负责人", sub, [("first_responsible", SUB_HEAD)])
            person(f"{sub_code}_finance", "三级机构财务负责人", sub, [("first_responsible", SUB_FINANCE_HEAD)])
            for n in range(1, surveyors_per_sub_branch + 1):
                sub.surveyors.append(person(f"{sub_code}_surveyor{n}", "客服经理（查勘员）", sub,
                                            [("surveyor", None)]))
    # The branch's motor / non-motor department head approves special cases (docs/DOMAIN.md §8).
    # Created after everyone else, so every earlier name and number stays what it was.
    for unit in branch_units:
        person(f"{unit.code}_line", "分公司车险/非车险管理部负责人", unit, [("first_responsible", BRANCH_LINE_HEAD)])
    session.flush()
    return DemoOrg(hq=hq, branches=branch_units, sub_branches=sub_units, usernames=usernames)
