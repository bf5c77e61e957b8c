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
    PageSpec("overview", "pages/overview.py", "page.overview", ":material/monitoring:", "nav.section.monitor",
             frozenset({"executive", "hq_admin", "hq_reviewer"})),
    PageSpec("overdue", "pages/overdue.py", "page.overdue", ":material/timer_off:", "nav.section.monitor",
             frozenset({"hq_admin", "hq_reviewer", "call_center", "executive", "branch_manager",
                        "branch_tracker", "exec_supervisor"})),
)


def pages_for(actor: Actor) -> list[PageSpec]:
    return [p for p in PAGES if actor.roles & p.roles]


def page_spec(key: str) -> PageSpec:
    for spec in PAGES:
        if spec.key == key:
            return spec
    raise KeyError(key)
