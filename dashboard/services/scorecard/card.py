"""Each branch's card for a period: every indicator's value, target, score and points, the four
group scores, the total and the ranking; an indicator's trend; the figures HQ enters; the weights.

The card reads the configuration in force (scorecard_indicator), the computed values
(services/scorecard/computed) and the entered figures (branch_financials), and scores them by
rules/scorecard. A branch person sees their own branch's card; HQ sees and ranks them all."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ARRAY, Date, Integer, Row, Select, bindparam, func, select
from sqlalchemy.orm import Session

from dashboard import clock
from dashboard.rules.scorecard import (
    GROUPS, PERIOD_KINDS, IndicatorRule, loss_ratio_pct, period_start, points, previous_periods, score_pct,
    weights_problem,
)
from dashboard.rules.typed_fields import read_amount
from dashboard.services import reference
from dashboard.services.actor import Actor
from dashboard.services.capability import requires
from dashboard.services.cases.history import record_event
from dashboard.services.errors import FieldError, NotFound, UserError, ValidationFailed
from dashboard.services.scorecard.computed import computed_values, computed_values_of_periods
from dashboard.services.stale import stale_write
from dashboard.services.statements import as_rows, built_once, read
from db.models import FINANCIAL_MONEY, FINANCIAL_PCT, BranchFinancials, ScorecardIndicator

# The entered indicators and the figure each reads (the loss ratio reads the formula's nine).
ENTERED_VALUE = {"indirect_expense": "indirect_expense_pct", "anti_fraud": "anti_fraud_score",
                 "cross_region": "cross_region_score", "parts_selection_rate": "parts_selection_pct"}


def _rule(row: ScorecardIndicator) -> IndicatorRule:
    return IndicatorRule(row.key, row.group_key, Decimal(row.weight_pct), row.source, row.scoring,
                         row.full_value, row.zero_value, row.target, row.unit)


@requires("scorecard.read")
def indicator_rules(session: Session, actor: Actor, *, fresh: bool = False) -> list[IndicatorRule]:
    """The sixteen indicators in force, in the source's order.

    Kept like the rule settings (reference.remembered): the card and the trend each read them on
    every run, and loading the sixteen rows was 0.5 ms of Python each time. Saving the weights
    forgets them (save_weights), so the change shows at once on that server, within a minute on others.
    `fresh`: read now, for the weights form. It shows the weights beside the versions its save is
    checked against; a kept copy from before a save on another server would show a colleague's
    weights as they were, with versions that let the old values overwrite theirs."""
    def load() -> tuple[IndicatorRule, ...]:
        return tuple(_rule(r) for r in session.scalars(select(ScorecardIndicator).order_by(ScorecardIndicator.position)))
    return list(load() if fresh else reference.remembered(session, "scorecard_rules", load))


def _check_period(kind: str, start: date) -> None:
    if kind not in PERIOD_KINDS or period_start(kind, start) != start:
        raise UserError("scorecard.error.period")


# ---------------------------------------------------------------- the financial figures


def loss_ratio_of(row: BranchFinancials | Row | None) -> Decimal | None:
    """The overall loss ratio by the source's formula, None until all nine figures are entered."""
    if row is None:
        return None
    figures = {name: getattr(row, name) for name in FINANCIAL_MONEY}
    if any(v is None for v in figures.values()):
        return None
    return loss_ratio_pct(paid=figures["paid"], reserve_change=figures["reserve_change"],
                          reinsurance_paid=figures["reinsurance_paid"],
                          reinsurance_recovered=figures["reinsurance_recovered"], subrogation=figures["subrogation"],
                          premium=figures["premium"], ceded=figures["ceded"], assumed=figures["assumed"],
                          unearned_change=figures["unearned_change"])


@requires("scorecard.read")
def financials(session: Session, actor: Actor, kind: str, start: date, branch_id: int) -> BranchFinancials | None:
    """The figures entered for the branch and period (None: nothing entered yet)."""
    return session.scalar(select(BranchFinancials).where(
        BranchFinancials.branch_id == branch_id, BranchFinancials.period_kind == kind,
        BranchFinancials.period_start == start))


# Negative figures: a reserve or unearned-premium change may fall; nothing else may be below 0.
_SIGNED = frozenset({"unearned_change", "reserve_change"})


def _clean_figures(typed: dict[str, object]) -> dict[str, Decimal | None]:
    errors: list[FieldError] = []
    values: dict[str, Decimal | None] = {}
    for name in (*FINANCIAL_MONEY, *FINANCIAL_PCT):
        raw = typed.get(name)
        text = "" if raw is None else str(raw).strip()
        negative = name in _SIGNED and text.startswith(("-", "－", "−"))
        amount = read_amount(errors, name, text[1:] if negative else text, required=False)
        if amount is not None and negative:
            amount = -amount
        if amount is not None and name in FINANCIAL_PCT and amount > 1000:
            errors.append(FieldError(name, "scorecard.error.pct_range"))
        values[name] = amount
    if errors:
        raise ValidationFailed([FieldError(f"scorecard.{e.field}", e.key, e.params) for e in errors])
    return values


@requires("scorecard.enter")
def save_financials(session: Session, actor: Actor, kind: str, start: date, branch_id: int,
                    typed: dict[str, object], *, expected_version: int, now: datetime | None = None
                    ) -> BranchFinancials:
    """Enter (or correct) the branch's figures for the period, all or nothing. `expected_version`:
    the version the form showed (0: nothing entered then); a colleague's save since is refused."""
    now = clock.or_now(now)
    _check_period(kind, start)
    if branch_id not in {b.id for b in reference.branches(session)}:
        raise NotFound()
    values = _clean_figures(typed)
    row = session.scalar(select(BranchFinancials).where(
        BranchFinancials.branch_id == branch_id, BranchFinancials.period_kind == kind,
        BranchFinancials.period_start == start).with_for_update())
    if (row.version if row else 0) != expected_version:
        raise stale_write(session, row.entered_by if row else None, row.entered_at if row else None)
    if row is None:
        row = BranchFinancials(branch_id=branch_id, period_kind=kind, period_start=start, version=1,
                               entered_by=actor.person_id, entered_at=now, **values)
        session.add(row)
    else:
        for name, value in values.items():
            setattr(row, name, value)
        row.version, row.entered_by, row.entered_at = row.version + 1, actor.person_id, now
    record_event(session, case_id=None, actor_id=actor.person_id, kind="financials_entered", at=now,
                 branch_id=branch_id, period_kind=kind, period_start=start.isoformat())
    session.commit()
    return row


# ---------------------------------------------------------------- the card

# What the card reads of the entered figures: the loss ratio's nine and its budget, the four entered values.
_CARD_FIGURES = ("branch_id", "period_start", *FINANCIAL_MONEY, "loss_ratio_budget_pct", *ENTERED_VALUE.values())


@built_once
def _entered_statement() -> Select:
    t = BranchFinancials.__table__
    return select(*(t.c[name] for name in _CARD_FIGURES)).where(
        t.c.period_kind == bindparam("kind"), t.c.period_start == func.any(bindparam("starts", type_=ARRAY(Date))),
        t.c.branch_id == func.any(bindparam("branches", type_=ARRAY(Integer))))


def _entered(session: Session, kind: str, starts: list[date], branch_ids: list[int]) -> list[Row]:
    """The entered figures of the branches and periods, as rows named like BranchFinancials' columns.

    A prepared read of the columns the card reads: loading them as BranchFinancials objects, with a
    statement built anew for each list of branches, was 0.8 ms of Python on every run of the card and
    of the trend."""
    return read(session, _entered_statement(), {"kind": kind, "starts": starts, "branches": branch_ids},
                prepared=True).all()


@dataclass(frozen=True)
class IndicatorResult:
    rule: IndicatorRule
    value: Decimal | None
    score: Decimal | None  # share of the weight earned, 0–100 (120 for the loss ratio's best band)
    points: Decimal
    budget_pct: Decimal | None = None  # the loss ratio's budget target


@dataclass(frozen=True)
class BranchCard:
    branch_id: int
    branch: str
    total: Decimal
    groups: dict[str, Decimal]
    indicators: list[IndicatorResult]
    missing: int  # indicators without a value (earn nothing)
    rank: int = 0


def _card(rules: list[IndicatorRule], branch_id: int, branch: str, computed: dict[str, Decimal | None],
          figures: BranchFinancials | Row | None) -> BranchCard:
    # One pass: the ranking scores every branch's sixteen indicators on each run (576 at 36 branches).
    results, groups, missing = [], dict.fromkeys(GROUPS, Decimal(0)), 0
    for rule in rules:
        budget = None
        if rule.key == "loss_ratio":
            value = loss_ratio_of(figures)
            budget = figures.loss_ratio_budget_pct if figures is not None else None
        elif rule.source == "entered":
            value = getattr(figures, ENTERED_VALUE[rule.key]) if figures is not None else None
        else:
            value = computed.get(rule.key)
        score = score_pct(rule, value, budget_pct=budget)
        earned = points(rule, score)
        if rule.group in groups:
            groups[rule.group] += earned
        missing += score is None
        results.append((rule, value, score, earned, budget))
    return BranchCard(branch_id, branch, sum(groups.values(), Decimal(0)), groups,
                      as_rows(IndicatorResult, results), missing)


@requires("scorecard.read")
def scorecards(session: Session, actor: Actor, kind: str, start: date) -> list[BranchCard]:
    """Every branch the actor may see, ranked by total (ties share a rank)."""
    _check_period(kind, start)
    rules = indicator_rules(session, actor)
    branches = reference.branch_choices(session, actor)
    ids = [b.id for b in branches]
    # A national reader asks for every branch: no id list, so the planner sees one aggregate over the
    # period instead of an IN list it misjudges (measured: 3 s at 1,000,000 cases after ANALYZE).
    computed = computed_values(session, actor, kind, start, None if actor.is_national else ids)
    entered = {row.branch_id: row for row in _entered(session, kind, [start], ids)}
    cards = sorted((_card(rules, b.id, b.name, computed.get(b.id, {}), entered.get(b.id)) for b in branches),
                   key=lambda c: (-c.total, c.branch))
    ranked, last_total, rank = [], None, 0
    for n, card in enumerate(cards, 1):
        if card.total != last_total:
            rank, last_total = n, card.total
        ranked.append(BranchCard(**{**card.__dict__, "rank": rank}))
    return ranked


@dataclass(frozen=True)
class TrendPoint:
    period: date
    value: Decimal | None
    score: Decimal | None


@requires("scorecard.read")
def indicator_trend(session: Session, actor: Actor, kind: str, start: date, branch_id: int, key: str,
                    periods: int = 6) -> list[TrendPoint]:
    """The indicator's value and score for the branch over the last `periods` periods, oldest first."""
    _check_period(kind, start)
    if branch_id not in {b.id for b in reference.branch_choices(session, actor)}:
        raise NotFound()
    rule = next((r for r in indicator_rules(session, actor) if r.key == key), None)
    if rule is None:
        raise NotFound()
    starts = list(previous_periods(kind, start, periods))
    # The periods' entered figures in one read, and their computed values in one statement (plus
    # one for the stale boundaries): the trend was three statements a period.
    figures = {row.period_start: row for row in _entered(session, kind, starts, [branch_id])}
    computed = computed_values_of_periods(session, actor, kind, starts, [branch_id]) \
        if rule.source == "computed" else {}
    out = []
    for period in starts:
        values = computed.get(period, {}).get(branch_id, {})
        result = next(r for r in _card([rule], branch_id, "", values, figures.get(period)).indicators)
        out.append(TrendPoint(period, result.value, result.score))
    return out


# ---------------------------------------------------------------- the weights


@requires("scorecard.enter")
def save_weights(session: Session, actor: Actor, weights: dict[str, object], *, expected_versions: dict[str, int],
                 now: datetime | None = None) -> None:
    """HQ's new weights (percent), all sixteen at once: refused unless they sum to 100 %; a weight a
    colleague changed since the form was drawn is refused naming them."""
    now = clock.or_now(now)
    rows = {r.key: r for r in session.scalars(select(ScorecardIndicator).with_for_update())}
    errors: list[FieldError] = []
    cleaned: dict[str, Decimal] = {}
    for key, row in rows.items():
        value = read_amount(errors, key, weights.get(key, row.weight_pct), required=True)
        if value is not None:
            cleaned[key] = value
    if errors:
        raise ValidationFailed([FieldError(f"scorecard.weight.{e.field}", e.key, e.params) for e in errors])
    rules = [IndicatorRule(k, rows[k].group_key, v, rows[k].source, rows[k].scoring) for k, v in cleaned.items()]
    problem = weights_problem(rules)
    if problem:
        raise UserError(problem, total=f"{sum(cleaned.values(), Decimal(0)).normalize():f}")
    for key, row in rows.items():
        if key in expected_versions and row.version != expected_versions[key]:
            session.rollback()
            raise stale_write(session, row.updated_by, row.updated_at)
    for key, row in rows.items():
        if row.weight_pct != cleaned[key]:
            record_event(session, case_id=None, actor_id=actor.person_id, kind="scorecard_weight_changed", at=now,
                         key=key, before=row.weight_pct, after=cleaned[key])
            row.weight_pct, row.version, row.updated_by, row.updated_at = cleaned[key], row.version + 1, \
                actor.person_id, now
    reference.forget_with(session)  # the kept rules (indicator_rules)
    session.commit()


@requires("scorecard.read")
def weight_versions(session: Session, actor: Actor) -> dict[str, int]:
    return dict(session.execute(select(ScorecardIndicator.key, ScorecardIndicator.version)).tuples().all())
