"""Which pages exist; who may open each is its capability in rules/permissions."""
from __future__ import annotations

from dataclasses import dataclass

from dashboard.rules.permissions import PAGE_CAPABILITY, roles_with
from dashboard.services.actor import Actor


@dataclass(frozen=True)
class PageSpec:
    key: str  # also the URL path
    script: str  # path relative to the project root
    title_key: str
    icon: str
    section: str

    @property
    def capability(self) -> str:
        return PAGE_CAPABILITY[self.key]

    @property
    def roles(self) -> frozenset[str]:
        """The roles that see the page: those holding its capability (rules/permissions)."""
        return roles_with(self.capability)


PAGES: tuple[PageSpec, ...] = (
    PageSpec("home", "pages/home.py", "page.home", ":material/home:", "nav.section.work"),
    PageSpec("messages", "pages/messages.py", "page.messages", ":material/mail:", "nav.section.work"),
    PageSpec("appeals", "pages/appeals.py", "page.appeals", ":material/gavel:", "nav.section.work"),
    PageSpec("case_detail", "pages/case_detail.py", "page.case_detail", ":material/description:", "nav.section.work"),
    PageSpec("intake", "pages/intake.py", "page.intake", ":material/note_add:", "nav.section.work"),
    PageSpec("dispatch_board", "pages/dispatch_board.py", "page.dispatch_board", ":material/support_agent:",
             "nav.section.work"),
    PageSpec("admin_rules", "pages/admin_rules.py", "page.admin_rules", ":material/rule_settings:",
             "nav.section.admin"),
    PageSpec("people", "pages/people.py", "page.people", ":material/manage_accounts:", "nav.section.admin"),
    PageSpec("deliveries", "pages/deliveries.py", "page.deliveries", ":material/outgoing_mail:", "nav.section.admin"),
    PageSpec("overview", "pages/overview.py", "page.overview", ":material/monitoring:", "nav.section.monitor"),
    PageSpec("overdue", "pages/overdue.py", "page.overdue", ":material/timer_off:", "nav.section.monitor"),
    PageSpec("hq_review", "pages/hq_review.py", "review.page.hq_review", ":material/fact_check:", "nav.section.work"),
    PageSpec("branch_feedback", "pages/branch_feedback.py", "review.page.branch_feedback", ":material/forum:",
             "nav.section.work"),
    PageSpec("scorecard", "pages/scorecard.py", "page.scorecard", ":material/leaderboard:", "nav.section.monitor"),
    PageSpec("major_cases", "pages/major_cases.py", "page.major_cases", ":material/crisis_alert:",
             "nav.section.monitor"),
    PageSpec("special_cases", "pages/special_cases.py", "page.special_cases", ":material/approval:",
             "nav.section.work"),
    PageSpec("complaints", "pages/complaints.py", "page.complaints", ":material/sentiment_dissatisfied:",
             "nav.section.work"),
    PageSpec("supervision", "pages/supervision.py", "review.page.supervision", ":material/supervisor_account:",
             "nav.section.work"),
    PageSpec("weekly_summary", "pages/weekly_summary.py", "review.page.weekly_summary", ":material/summarize:",
             "nav.section.work"),
)


def pages_for(actor: Actor) -> list[PageSpec]:
    return [p for p in PAGES if actor.may(p.capability)]


def page_spec(key: str) -> PageSpec:
    for spec in PAGES:
        if spec.key == key:
            return spec
    raise KeyError(key)
