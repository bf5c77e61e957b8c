"""How many cases a person may see, from the per-sub-branch counts the database keeps (migration 0015).

Counting every case ever reported was the slowest part of the landing page for national roles
(42 ms at 1,000,000 cases, growing with every case); the kept counts are a sum over a few hundred
rows whatever the history. People who also see the cases they personally work on (surveyors, first
responsibles) are counted live: their scope is not a set of units.
"""
from __future__ import annotations

from sqlalchemy import Select, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from dashboard.services.actor import PERSONAL_ROLES, Actor, case_scope, unit_scope
from dashboard.services.statements import built_once, read
from db.models import CaseCount, ClaimCase


def visible_case_count(session: Session, actor: Actor) -> int:
    """Every case the actor may read, of any state."""
    statement = _count_statement(actor)
    return 0 if statement is None else int(read(session, statement).scalar() or 0)


@built_once
def _count_statement(actor: Actor) -> Select | None:
    if not actor.is_national and actor.has_role(*PERSONAL_ROLES):
        return select(func.count()).select_from(ClaimCase).where(case_scope(actor))
    query = select(func.coalesce(func.sum(CaseCount.cases), 0))
    if not actor.is_national:
        units = unit_scope(actor, CaseCount.branch_id, CaseCount.sub_branch_id)
        if not units:
            return None
        query = query.where(or_(*units))
    return query


def compact_case_counts(session: Session) -> tuple[int, int]:
    """Fold the count rows into one per sub-branch; (rows before, rows after).

    One statement: the rows it reads are deleted and their sums inserted together. Rows written
    meanwhile by other transactions are not seen, so they are kept for the next run, never lost
    or counted twice; a second copy running at once skips the rows the first already took."""
    before = session.scalar(select(func.count()).select_from(CaseCount)) or 0
    gone = (delete(CaseCount).returning(CaseCount.branch_id, CaseCount.sub_branch_id, CaseCount.cases)
            .cte("gone"))
    total = func.sum(gone.c.cases)
    session.execute(insert(CaseCount).from_select(
        ["branch_id", "sub_branch_id", "cases"],
        select(gone.c.branch_id, gone.c.sub_branch_id, total)
        .group_by(gone.c.branch_id, gone.c.sub_branch_id).having(total != 0)))
    after = session.scalar(select(func.count()).select_from(CaseCount)) or 0
    return before, after
