"""Who may do what: one table of roles → capabilities, and which capability opens each page.

Services declare the capability each entry point needs (services/capability.requires, which also
enforces it); navigation shows the pages whose capability the person holds; row-level scope
(which branches and cases) is decided separately by services/actor.case_scope. A capability here
says a role may do something at all; the services then check that the case is theirs to act on
(a surveyor records estimates only for their own cases, a branch manager answers only opinions
addressed to their branch).

Roles (分级管理办法 第一章, docs/DOMAIN.md §1): 总公司理赔部 administrator (hq_admin) and reviewers
(hq_reviewer), the 执委 supervising branches (exec_supervisor), the call center (call_center), a
branch's 分级案件管理责任人 (branch_manager) and its tracker (branch_tracker), the first responsible
person of a case (first_responsible), surveyors (surveyor) and executives browsing (executive).
"""
from __future__ import annotations

from collections.abc import Iterable

ROLES = ("hq_admin", "hq_reviewer", "exec_supervisor", "call_center", "branch_manager", "branch_tracker",
         "first_responsible", "surveyor", "executive")
EVERYONE = frozenset(ROLES)

CAPABILITIES: dict[str, frozenset[str]] = {
    # Cases: every role reads the cases in its scope.
    "case.read": EVERYONE,
    "case.register": frozenset({"surveyor", "call_center", "hq_admin"}),
    "case.register_any_branch": frozenset({"call_center", "hq_admin"}),  # others: their own sub-branches
    "case.estimate": frozenset({"call_center", "hq_admin", "surveyor"}),  # a surveyor: their own cases
    "case.estimate_any": frozenset({"call_center", "hq_admin"}),
    "case.change_state": frozenset({"hq_admin", "call_center", "branch_manager", "branch_tracker",
                                    "first_responsible", "surveyor"}),
    "case.import": frozenset({"surveyor", "call_center", "hq_admin"}),
    # The red / yellow / blue rule's facts (docs/DOMAIN.md §6): who surveys or runs the claim.
    "case.risk_facts": frozenset({"surveyor", "call_center", "hq_admin", "branch_manager", "branch_tracker",
                                  "first_responsible"}),
    # Dispatch (第二章 一): the call center dispatches and names delegates; everyone sees the board
    # who answers for dispatch or follows it.
    "dispatch.board": frozenset({"call_center", "hq_admin", "hq_reviewer", "branch_manager", "branch_tracker",
                                 "executive"}),
    "dispatch.act": frozenset({"call_center", "hq_admin"}),
    # Material (第三章 三–五): who may upload; the 人车合影 is the proof of arrival.
    "material.upload": frozenset({"surveyor", "first_responsible", "hq_admin"}),
    # Deadlines (第三章, 第四章 三): the tracker, and the executive overview.
    "overdue.read": frozenset({"hq_admin", "hq_reviewer", "call_center", "executive", "branch_manager",
                               "branch_tracker", "exec_supervisor"}),
    "overview.read": frozenset({"executive", "hq_admin", "hq_reviewer"}),
    # HQ review and branch feedback (第四章 一、二).
    "review.queue": frozenset({"hq_reviewer", "hq_admin"}),
    "review.post": frozenset({"hq_reviewer"}),
    "review.inbox": frozenset({"branch_manager", "branch_tracker"}),
    "review.answer": frozenset({"branch_manager"}),
    # The weekly summary (第四章 三): the tracker writes it, managers and HQ read it.
    "weekly.read": frozenset({"branch_tracker", "branch_manager", "hq_reviewer", "hq_admin", "executive"}),
    "weekly.submit": frozenset({"branch_tracker"}),
    # Supervision by the 执委 (第四章 四).
    "supervision.read": frozenset({"exec_supervisor", "first_responsible", "hq_admin"}),
    "supervision.post": frozenset({"exec_supervisor"}),
    "supervision.progress": frozenset({"first_responsible", "branch_tracker"}),
    "supervision.assign": frozenset({"hq_admin"}),
    # Personal data (issue 18): whole phone numbers for the roles that call people — the call center
    # the dispatched, the branch and its surveyors the reporter; masked for everyone else.
    "personal.contact": frozenset({"call_center", "hq_admin", "branch_manager", "branch_tracker",
                                   "first_responsible", "surveyor"}),
    # Major cases (docs/DOMAIN.md §8): flagged and owned; HQ and the branch follow them.
    "major.read": frozenset({"hq_admin", "hq_reviewer", "exec_supervisor", "executive", "call_center",
                             "branch_manager", "branch_tracker"}),
    "major.flag": frozenset({"hq_admin", "hq_reviewer", "call_center", "branch_manager"}),
    "catastrophe.manage": frozenset({"hq_admin", "hq_reviewer"}),
    # Special cases (特殊赔案理赔管理办法, docs/DOMAIN.md §8): the claims side raises them with the
    # business unit's justification; the posts of the chain approve (the service checks the post
    # and the unit); HQ, supervision and executives follow them and their periodic report.
    "special.read": frozenset({"hq_admin", "hq_reviewer", "exec_supervisor", "executive", "branch_manager",
                               "branch_tracker", "first_responsible"}),
    "special.raise": frozenset({"hq_admin", "branch_manager", "branch_tracker", "first_responsible"}),
    "special.approve": frozenset({"first_responsible"}),
    # Complaints, disputes, difficult cases (投诉、纠纷、疑难案件处理制度, docs/DOMAIN.md §7): the
    # branch's claims / customer service side registers and handles them (第一条), the call center
    # registers what it receives, HQ follows and analyses.
    "complaint.read": frozenset({"hq_admin", "hq_reviewer", "exec_supervisor", "executive", "call_center",
                                 "branch_manager", "branch_tracker", "first_responsible"}),
    "complaint.handle": frozenset({"hq_admin", "call_center", "branch_manager", "branch_tracker",
                                   "first_responsible"}),
    # The quality scorecard (理赔质量考核分类评价管理办法, docs/DOMAIN.md §9): HQ ranks the branches; a
    # branch reads its own card; HQ admin enters the financial figures and keeps the weights.
    "scorecard.read": frozenset({"hq_admin", "hq_reviewer", "exec_supervisor", "executive", "branch_manager",
                                 "branch_tracker"}),
    "scorecard.enter": frozenset({"hq_admin"}),
    # Everyone reads the messages addressed to them (issue 22), and marks them read.
    "messages.read": EVERYONE,
    # People (docs/DOMAIN.md §1: hq_admin owns the users): disabling an account ends its access at once.
    "people.admin": frozenset({"hq_admin"}),
    # Rules (分级管理办法 注意3): HQ keeps the tier table and settings; a branch asks for its sub-tiers.
    "rules.admin": frozenset({"hq_admin"}),
    "rules.request": frozenset({"hq_admin", "branch_manager"}),
    "settings.edit": frozenset({"hq_admin"}),
    # The working calendar (issue 22): HQ admin enters the holidays and 调休 of the years the
    # chinese-calendar package does not cover yet.
    "calendar.edit": frozenset({"hq_admin"}),
    # Violation appeals (申诉): anyone charged appeals their own; HQ admin decides (the approver).
    "violation.appeal": EVERYONE,
    "violation.decide": frozenset({"hq_admin"}),
    # Delivery (issue 22): each person picks their channel; HQ admin watches failed deliveries.
    "notify.preferences": EVERYONE,
    "delivery.admin": frozenset({"hq_admin"}),
}

# The capability that opens each page (its key is its URL path).
PAGE_CAPABILITY: dict[str, str] = {
    "home": "case.read",
    "case_detail": "case.read",
    "intake": "case.register",
    "dispatch_board": "dispatch.board",
    "admin_rules": "rules.request",
    "overview": "overview.read",
    "overdue": "overdue.read",
    "hq_review": "review.queue",
    "branch_feedback": "review.inbox",
    "supervision": "supervision.read",
    "weekly_summary": "weekly.read",
    "people": "people.admin",
    "major_cases": "major.read",
    "special_cases": "special.read",
    "complaints": "complaint.read",
    "scorecard": "scorecard.read",
    "messages": "messages.read",
    "appeals": "violation.appeal",
    "deliveries": "delivery.admin",
}


def roles_with(capability: str) -> frozenset[str]:
    """The roles holding `capability`; KeyError for a capability nobody defined (a typo fails loudly)."""
    return CAPABILITIES[capability]


def may(roles: Iterable[str], capability: str) -> bool:
    return not roles_with(capability).isdisjoint(roles)
