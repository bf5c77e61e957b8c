"""Which pages exist and which roles may open them: the one place navigation is decided."""
from __future__ import annotations

from dataclasses import dataclass

from dashboard.services.actor import Actor


@dataclass(frozen=True)
class PageSpec:
    key: str  # also the URL path
    script: str  # path relative to the project root
    title_key: str
    icon: str
    section: str
    roles: frozenset[str]


ALL_ROLES = frozenset({
    "hq_admin", "hq_reviewer", "exec_supervisor", "call_center", "branch_manager",
    "branch_tracker", "first_responsible", "surveyor", "executive",
})

PAGES: tuple[PageSpec, ...] = (
    PageSpec("home", "pages/home.py", "page.home", ":material/home:", "nav.section.work", ALL_ROLES),
    PageSpec("case_detail", "pages/case_detail.py", "page.case_detail", ":material/description:",
             "nav.section.work", ALL_ROLES),
    PageSpec("intake", "pages/intake.py", "page.intake", ":material/note_add:", "nav.section.work",
             frozenset({"surveyor", "call_center", "hq_admin"})),
    PageSpec("dispatch_board", "pages/dispatch_board.py", "page.dispatch_board", ":material/support_agent:",
             "nav.section.work", frozenset({"call_center", "hq_admin", "hq_reviewer", "branch_manager",
                                            "branch_tracker", "executive"})),
    PageSpec("admin_rules", "pages/admin_rules.py", "page.admin_rules", ":material/rule_settings:",
             "nav.section.admin", frozenset({"hq_admin", "branch_manager"})),
    PageSpec("overview", "pages/overview.py", "page.overview", ":material/monitoring:", "nav.section.monitor",
             frozenset({"executive", "hq_admin", "hq_reviewer"})),
    PageSpec("overdue", "pages/overdue.py", "page.overdue", ":material/timer_off:", "nav.section.monitor",
             frozenset({"hq_admin", "hq_reviewer", "call_center", "executive", "branch_manager",
                        "branch_tracker", "exec_supervisor"})),
    PageSpec("hq_review", "pages/hq_review.py", "review.page.hq_review", ":material/fact_check:",
             "nav.section.work", frozenset({"hq_reviewer", "hq_admin"})),
    PageSpec("branch_feedback", "pages/branch_feedback.py", "review.page.branch_feedback", ":material/forum:",
             "nav.section.work", frozenset({"branch_manager", "branch_tracker"})),
    PageSpec("supervision", "pages/supervision.py", "review.page.supervision", ":material/supervisor_account:",
             "nav.section.work", frozenset({"exec_supervisor", "first_responsible", "hq_admin"})),
    PageSpec("weekly_summary", "pages/weekly_summary.py", "review.page.weekly_summary", ":material/summarize:",
             "nav.section.work", frozenset({"branch_tracker", "branch_manager", "hq_reviewer", "hq_admin",
                                            "executive"})),
)


def pages_for(actor: Actor) -> list[PageSpec]:
    return [p for p in PAGES if actor.roles & p.roles]


def page_spec(key: str) -> PageSpec:
    for spec in PAGES:
        if spec.key == key:
            return spec
    raise KeyError(key)
