"""How many cases a person may see, and how many of them are pending (and tiered, with their
estimate), from the per-sub-branch figures the database keeps (migrations 0015, 0018).

Counting every case ever reported was the slowest part of the landing page for national roles
(42 ms at 1,000,000 cases, growing with every case), and the pending figures read every pending
case (~15 ms for 87,000); the kept figures are a sum over a few hundred rows whatever the history.
People who also see the cases they personally work on (surveyors, first responsibles) are counted
live: their scope is not a set of units.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Select, and_, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from dashboard.services.actor import PERSONAL_ROLES, Actor, case_scope, unit_scope
from dashboard.services.statements import built_once, read
from dashboard.services.capability import requires
from db.models import CaseCount, CaseFiguresDay, CaseTallyDay, ClaimCase, LateCount, ScorecardCell, ViolationWeek

SCORECARD_FIGURES = ("cases", "forced", "motor_zero", "motor_zero_reopened", "paid_cases", "paid_sum", "paid_estimated",
                     "paid_estimate_sum", "deviation_sum", "deviation_base", "motor_large_cases", "motor_large_paid",
                     "small_cases", "small_cycle_seconds", "small_motor_transfers", "small_motor_transfer_seconds",
                     "estimate_sum")


@dataclass(frozen=True)
class VisibleCounts:
    cases: int
    pending: int
    pending_tiered: int
    pending_tiered_amount: Decimal


@requires("case.read")
def visible_counts(session: Session, actor: Actor) -> VisibleCounts:
    """Every case the actor may read (any state), how many are pending, how many of those are
    tiered, and their current estimate."""
    statement = _counts_statement(actor)
    if statement is None:
        return VisibleCounts(0, 0, 0, Decimal(0))
    cases, pending, tiered, amount = read(session, statement).one()
    return VisibleCounts(int(cases), int(pending), int(tiered), Decimal(amount))


@requires("case.read")
def visible_case_count(session: Session, actor: Actor) -> int:
    """Every case the actor may read, of any state."""
    return visible_counts(session, actor).cases


@built_once
def _counts_statement(actor: Actor) -> Select | None:
    if not actor.is_national and actor.has_role(*PERSONAL_ROLES):
        pending, tiered = ClaimCase.state != "closed", and_(ClaimCase.state != "closed", ClaimCase.tier != "T0")
        return (select(func.count(), func.count().filter(pending), func.count().filter(tiered),
                       func.coalesce(func.sum(ClaimCase.current_estimate).filter(tiered), 0))
                .select_from(ClaimCase).where(case_scope(actor)))
    query = select(*(func.coalesce(func.sum(column), 0) for column in (
        CaseCount.cases, CaseCount.pending, CaseCount.pending_tiered, CaseCount.pending_tiered_amount)))
    if not actor.is_national:
        units = unit_scope(actor, CaseCount.branch_id, CaseCount.sub_branch_id)
        if not units:
            return None
        query = query.where(or_(*units))
    return query


@built_once
def pending_tiered_statement(branch_ids: tuple[int, ...] | None, branch_id: int | None = None) -> Select:
    """How many pending tiered cases (tier not T0, not closed) the given branches hold (None: every
    branch), optionally only `branch_id` of them, from the kept per-sub-branch figures: a sum over a
    few hundred rows, where counting the cases read every one (95,000 nationally at 10,000,000)."""
    query = select(func.coalesce(func.sum(CaseCount.pending_tiered), 0))
    if branch_ids is not None:
        query = query.where(CaseCount.branch_id.in_(sorted(branch_ids) or [-1]))
    if branch_id:
        query = query.where(CaseCount.branch_id == branch_id)
    return query


def compact_case_counts(session: Session) -> tuple[int, int]:
    """Fold the case count rows into one per sub-branch; (rows before, rows after)."""
    return fold_counts(session, CaseCount, ("branch_id", "sub_branch_id"),
                       ("cases", "pending", "pending_tiered", "pending_tiered_amount"))


def compact_late_counts(session: Session) -> tuple[int, int]:
    """Fold the late clock and violation count rows (migration 0020) into one per branch and type."""
    return fold_counts(session, LateCount, ("branch_id", "kind"), ("clocks_met_late", "violations"))


def compact_scorecard_cells(session: Session) -> tuple[int, int]:
    """Fold the scorecard's kept case figures (migration 0035) into one row per sub-branch, report
    month and close month."""
    return fold_counts(session, ScorecardCell, ("branch_id", "sub_branch_id", "report_month", "close_month"),
                       SCORECARD_FIGURES)


def compact_violation_weeks(session: Session) -> tuple[int, int]:
    """Fold the overview's kept violations by week (migration 0044) into one row per report day,
    branch, tier, week and deadline type."""
    return fold_counts(session, ViolationWeek, ("report_day", "branch_id", "tier", "week", "kind"), ("violations",))


def compact_case_figures_days(session: Session) -> tuple[int, int]:
    """Fold the overview's kept case figures by report day (migration 0045) into one row per report
    day, branch and tier."""
    return fold_counts(session, CaseFiguresDay, ("report_day", "branch_id", "tier"), CaseFiguresDay.FIGURES)


def compact_case_tally_days(session: Session) -> tuple[int, int]:
    """Fold the overview's kept tallies of tiered cases by report day (migration 0051) into one row
    per report day, branch and tier."""
    return fold_counts(session, CaseTallyDay, ("report_day", "branch_id", "tier"), CaseTallyDay.FIGURES)


def fold_counts(session: Session, model, keys: tuple[str, ...], figures: tuple[str, ...]) -> tuple[int, int]:
    """Fold a table of +n / -n count rows into one row per key; (rows before, rows after).

    One statement: the rows it reads are deleted and their sums inserted together. Rows written
    meanwhile by other transactions are not seen, so they are kept for the next run, never lost
    or counted twice; a second copy running at once skips the rows the first already took.

    Only the keys with more than one row are rewritten: a key already folded, and not written since,
    stays as it is. The overview's kept tables hold a row per report day and branch (hundreds of
    thousands at 10,000,000 cases), nearly all untouched between two runs five minutes apart;
    rewriting every one of them each run would be the job's whole cost. (A window count, not
    GROUP BY ... IN: a NULL key, late_count's violations without a branch, is one key too.)"""
    before = session.scalar(select(func.count()).select_from(model)) or 0
    shared = select(model.id, func.count().over(partition_by=[getattr(model, k) for k in keys]).label("n")).subquery()
    repeated = select(shared.c.id).where(shared.c.n > 1)
    gone = (delete(model).where(model.id.in_(repeated))
            .returning(*(getattr(model, c) for c in (*keys, *figures))).cte("gone"))
    sums = [func.sum(gone.c[f]) for f in figures]
    session.execute(insert(model).from_select(
        [*keys, *figures],
        select(*(gone.c[k] for k in keys), *sums).group_by(*(gone.c[k] for k in keys))
        .having(or_(*(total != 0 for total in sums)))))
    after = session.scalar(select(func.count()).select_from(model)) or 0
    return before, after
