"""The scorecard page's parts: the period picker, the ranking, one branch's card with an indicator's
formula, trend and the cases behind it, HQ's entry of the financial figures and of the weights."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import streamlit as st

from dashboard import clock
from dashboard.i18n import t
from dashboard.rules.scorecard import GROUPS, PERIOD_KINDS, IndicatorRule, period_label, period_start, previous_periods
from dashboard.services import reference
from dashboard.services.actor import Actor
from dashboard.services.scorecard.card import (
    BranchCard, IndicatorResult, financials, indicator_rules, indicator_trend, save_financials, save_weights,
    weight_versions,
)
from dashboard.services.scorecard.computed import cases_behind
from dashboard.services.stale import shown_time
from dashboard.settings import BUSINESS_TZ
from dashboard.ui import charts
from dashboard.ui.db import db_session, read_session
from dashboard.ui.format import local_time, money, typed_number
from dashboard.ui.forms import run_write, show_outcome
from dashboard.ui.tables import case_table, download_buttons, pager
from db.models import FINANCIAL_MONEY, FINANCIAL_PCT

SLOT = "scorecard"
_HOW_MANY = {"year": 3, "quarter": 8, "month": 12}


def pick_period() -> tuple[str, date]:
    """The period kind and which one (the current one first, then earlier ones)."""
    today = clock.now().astimezone(BUSINESS_TZ).date()
    left, right = st.columns(2)
    kind = left.selectbox(t("scorecard.period_kind"), PERIOD_KINDS, index=2, key="sc_kind",
                          format_func=lambda k: t(f"scorecard.kind.{k}"))
    starts = list(reversed(previous_periods(kind, period_start(kind, today), _HOW_MANY[kind])))
    start = right.selectbox(t("scorecard.period"), starts, key=f"sc_period_{kind}",
                            format_func=lambda d: period_label(kind, d))
    if start == starts[0]:
        # The page opens on the period under way (six days of December on the 6th): its figures are
        # so far, and a branch head ranked last on them should read that before anything else.
        st.caption(t("scorecard.period_open", today=today.isoformat()))
    return kind, start


def value_text(rule: IndicatorRule, value: Decimal | None, *, bound: bool = False) -> str:
    """A value in its unit (52.38%, 15.5 天, ¥20,000); a band's bound without needless decimals."""
    if value is None:
        return t("scorecard.no_data")
    if rule.unit == "yuan" or (bound and value == value.to_integral_value()):
        shown = f"{value:,.0f}"
    else:
        shown = f"{value:,.2f}"
    return t(f"scorecard.unit.{rule.unit}", v=shown)


def band_text(result: IndicatorResult) -> str:
    rule = result.rule
    if rule.scoring == "loss_ratio_bands":
        budget = value_text(rule, result.budget_pct, bound=True) if result.budget_pct is not None \
            else t("scorecard.no_data")
        return t("scorecard.band.loss_ratio", budget=budget)
    if rule.scoring == "closeness":
        return t("scorecard.band.closeness", target=value_text(rule, rule.target, bound=True),
                 zero=value_text(rule, rule.zero, bound=True))
    return t("scorecard.band.linear", full=value_text(rule, rule.full, bound=True),
             zero=value_text(rule, rule.zero, bound=True))


def formula_text(key: str, stale_days: int) -> str:
    return t(f"scorecard.formula.{key}", days=stale_days)


# ---------------------------------------------------------------- the ranking


def render_ranking(cards: list[BranchCard], kind: str, start: date) -> None:
    if not cards:
        st.caption(t("common.list_empty"))
        return
    frame = pd.DataFrame({
        t("scorecard.col.rank"): [c.rank for c in cards],
        t("scorecard.col.branch"): [c.branch for c in cards],
        t("scorecard.col.total"): [float(round(c.total, 2)) for c in cards],
        **{t(f"scorecard.group.{g}"): [float(round(c.groups[g], 2)) for c in cards] for g in GROUPS},
        t("scorecard.col.missing"): [c.missing for c in cards],
    })
    long = pd.DataFrame([{"branch": c.branch, "group": t(f"scorecard.group.{g}"), "points": float(c.groups[g]),
                          "total": float(c.total)} for c in cards for g in GROUPS])
    st.altair_chart(charts.scorecard_ranking_chart(long), width="stretch")
    # Two decimals throughout: the grid drew 10 beside 9.68.
    points = st.column_config.NumberColumn(format="%.2f")
    st.dataframe(frame, hide_index=True, width="stretch",
                 column_config={t("scorecard.col.total"): points, **{t(f"scorecard.group.{g}"): points for g in GROUPS}})
    download_buttons(lambda: _export(cards), f"scorecard_{period_label(kind, start)}", key="sc_dl")


def _export(cards: list[BranchCard]) -> pd.DataFrame:
    return pd.DataFrame([{
        t("scorecard.col.rank"): c.rank, t("scorecard.col.branch"): c.branch,
        t("scorecard.col.total"): float(round(c.total, 2)), t("scorecard.col.group"): t(f"scorecard.group.{r.rule.group}"),
        t("scorecard.col.indicator"): t(f"scorecard.ind.{r.rule.key}"), t("scorecard.col.weight"): float(r.rule.weight_pct),
        t("scorecard.col.value"): None if r.value is None else float(round(r.value, 4)),
        t("scorecard.col.score"): None if r.score is None else float(round(r.score, 2)),
        t("scorecard.col.points"): float(round(r.points, 2)),
    } for c in cards for r in c.indicators])


# ---------------------------------------------------------------- one branch's card


def render_branch(actor: Actor, cards: list[BranchCard], kind: str, start: date) -> None:
    if not cards:
        st.caption(t("common.list_empty"))
        return
    names = {c.branch_id: c.branch for c in cards}
    branch_id = st.selectbox(t("scorecard.pick_branch"), list(names), format_func=names.get, key="sc_branch")
    card = next(c for c in cards if c.branch_id == branch_id)
    st.markdown(f"**{t('scorecard.branch_total', branch=card.branch, period=period_label(kind, start), total=f'{card.total:.2f}', rank=card.rank, n=len(cards))}**")
    cols = st.columns(4)
    for col, group in zip(cols, GROUPS):
        weight = sum(r.rule.weight_pct for r in card.indicators if r.rule.group == group)
        col.metric(t(f"scorecard.group.{group}"), f"{card.groups[group]:.2f} / {weight.normalize():f}")
    with read_session() as session:
        stale_days = int(reference.rule_settings(session)["scorecard.stale_days"])
    frame = pd.DataFrame({
        t("scorecard.col.group"): [t(f"scorecard.group.{r.rule.group}") for r in card.indicators],
        t("scorecard.col.indicator"): [t(f"scorecard.ind.{r.rule.key}") for r in card.indicators],
        t("scorecard.col.weight"): [f"{r.rule.weight_pct.normalize():f}%" for r in card.indicators],
        t("scorecard.col.value"): [value_text(r.rule, r.value) for r in card.indicators],
        t("scorecard.col.score"): ["—" if r.score is None else f"{r.score:.1f}%" for r in card.indicators],
        t("scorecard.col.points"): [f"{r.points:.2f}" for r in card.indicators],
        t("scorecard.col.source"): [t(f"scorecard.source.{r.rule.source}") for r in card.indicators],
        # The long scoring rule last: before 得分 it pushed the points out of sight at 1400 px.
        t("scorecard.col.target"): [band_text(r) for r in card.indicators],
    })
    st.dataframe(frame, hide_index=True, width="stretch")
    keys = [r.rule.key for r in card.indicators]
    key = st.selectbox(t("scorecard.pick_indicator"), keys, key="sc_indicator",
                       format_func=lambda k: t(f"scorecard.ind.{k}"))
    result = next(r for r in card.indicators if r.rule.key == key)
    st.caption(formula_text(key, stale_days))
    with read_session() as session:
        trend = indicator_trend(session, actor, kind, start, branch_id, key)
    line = pd.DataFrame({"period": [period_label(kind, p.period) for p in trend],
                         "value": [None if p.value is None else float(p.value) for p in trend],
                         "score": [None if p.score is None else float(p.score) for p in trend]})
    st.markdown(f"**{t('scorecard.trend', n=len(trend))}**")
    st.altair_chart(charts.scorecard_trend_chart(line, t(f"scorecard.ind.{key}")), width="stretch")
    if result.rule.source != "computed":
        st.caption(t("scorecard.entered_no_cases"))
        return
    _render_behind(actor, kind, start, branch_id, key)


def _render_behind(actor: Actor, kind: str, start: date, branch_id: int, key: str) -> None:
    query = (kind, start, branch_id, key)
    with read_session() as session:
        total, _ = cases_behind(session, actor, kind, start, branch_id, key, limit=0)
    st.markdown(f"**{t('scorecard.behind', n=f'{total:,}')}**")
    if not total:
        st.caption(t("scorecard.behind_none"))
        return
    offset = pager(total, 50, key="sc_behind_page", filters=query)
    with read_session() as session:
        _, rows = cases_behind(session, actor, kind, start, branch_id, key, limit=50, offset=offset, total=total)
    frame = pd.DataFrame({
        "case_id": [r.case_id for r in rows],
        t("scorecard.col.case_no"): [r.case_no for r in rows],
        t("scorecard.col.report_time"): [local_time(r.report_time) for r in rows],
        t("scorecard.col.closed_at"): [local_time(r.closed_at) if r.closed_at else "—" for r in rows],
        t("scorecard.col.state"): [t(f"state.{r.state}") for r in rows],
        t("scorecard.col.first_estimate"): [money(r.first_estimate) for r in rows],
        t("scorecard.col.current_estimate"): [money(r.current_estimate) for r in rows],
        t("scorecard.col.paid"): [money(r.paid_amount) for r in rows],
        t("scorecard.col.measure"): ["—" if r.measure is None else f"{r.measure:,.2f}" for r in rows],
    })
    case_table(frame, key="sc_behind")


# ---------------------------------------------------------------- HQ enters


def render_entry(actor: Actor, kind: str, start: date) -> None:
    show_outcome(f"{SLOT}_enter")
    with read_session() as session:
        branches = reference.branch_choices(session, actor)
    names = {b.id: b.name for b in branches}
    branch_id = st.selectbox(t("scorecard.pick_branch"), list(names), format_func=names.get, key="sc_enter_branch")
    with db_session() as session:
        row = financials(session, actor, kind, start, branch_id)
        who = None
        if row is not None:
            from db.models import Person
            who = session.get(Person, row.entered_by).full_name
    version = row.version if row else 0
    label = period_label(kind, start)
    st.caption(t("scorecard.enter.caption", branch=names[branch_id], period=label))
    if row is not None:
        st.caption(t("scorecard.enter.last", who=who, at=shown_time(row.entered_at)))
    key = f"sc_fin_{branch_id}_{kind}_{start}_{version}"
    with st.form(key):
        cols = st.columns(3)
        for n, name in enumerate((*FINANCIAL_MONEY, *FINANCIAL_PCT)):
            current = getattr(row, name) if row is not None else None
            cols[n % 3].text_input(t(f"scorecard.field.{name}"), value=typed_number(current), key=f"{key}_{name}",
                                   max_chars=20)

        def _save(chosen: int = branch_id, drawn: int = version) -> None:
            typed = {name: st.session_state.get(f"{key}_{name}") for name in (*FINANCIAL_MONEY, *FINANCIAL_PCT)}
            run_write(lambda db: save_financials(db, actor, kind, start, chosen, typed, expected_version=drawn),
                      t("scorecard.enter.saved", branch=names[chosen], period=label), slot=f"{SLOT}_enter",
                      heading_key="scorecard.not_saved")

        st.form_submit_button(t("scorecard.enter.submit"), type="primary", on_click=_save)


def render_weights(actor: Actor) -> None:
    show_outcome(f"{SLOT}_weights")
    with db_session() as session:
        rules = indicator_rules(session, actor, fresh=True)  # beside the versions its save is checked against
        versions = weight_versions(session, actor)
    key = "sc_w_" + "_".join(str(versions[r.key]) for r in rules)
    typed_total = sum((_number(st.session_state.get(f"{key}_{r.key}"), r.weight_pct) for r in rules), Decimal(0))
    st.caption(t("scorecard.weights.caption", total=f"{typed_total.normalize():f}"))
    with st.form(key):
        for group in GROUPS:
            st.markdown(f"**{t(f'scorecard.group.{group}')}**")
            members = [r for r in rules if r.group == group]
            cols = st.columns(len(members))
            for col, r in zip(cols, members):
                col.text_input(t(f"scorecard.ind.{r.key}"), value=f"{r.weight_pct.normalize():f}", key=f"{key}_{r.key}",
                               max_chars=6)

        def _save() -> None:
            typed = {r.key: st.session_state.get(f"{key}_{r.key}") for r in rules}
            run_write(lambda db: save_weights(db, actor, typed, expected_versions=versions),
                      t("scorecard.weights.saved"), slot=f"{SLOT}_weights", heading_key="scorecard.not_saved")

        st.form_submit_button(t("scorecard.weights.submit"), type="primary", on_click=_save)


def _number(text: object, default: Decimal) -> Decimal:
    try:
        return Decimal(str(text)) if text not in (None, "") else default
    except ArithmeticError:
        return default
