"""The executive overview's lists: which list a figure opens, its columns on screen and in Excel,
and the workbook of the whole page (figures, charts' data, the list on screen)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.i18n import has_key, t
from dashboard.services.figures.overview import STATUS_OF_FIGURE, Drill, OverviewFigures
from dashboard.ui.format import local_time, money, tier_label
from dashboard.ui.segmented import keep_segment
from dashboard.ui.workbook import HOURS, INTEGER, MONEY, PERCENT, Sheet, typed_workbook

DRILL_KEY = "ov_drill"
STATUS_KEY = "ov_status"
CASE = ("case_no", "risk_colour", "branch", "sub_branch", "tier", "state", "estimate", "report_time")
STATUS_COLUMNS = (*CASE, "tiered_at", "surveyor", "closed_at")
# Which columns each list shows, after the case's own.
COLUMNS: dict[str, tuple[str, ...]] = {
    "dispatch": (*CASE, "tiered_at", "due_at", "done_at", "on_time", "surveyor"),
    "ageing": STATUS_COLUMNS,
    "d2": (*CASE, "item", "person", "due_at", "done_at", "on_time"),
    "d3": (*CASE, "item", "person", "due_at", "done_at", "on_time"),
    "unit": (*CASE, "item", "person", "due_at", "done_at", "on_time"),
    "violations": (*CASE, "item", "person", "due_at", "done_at"),
    "open_points": (*CASE, "item", "person"),
    "avg_answer": (*CASE, "answers", "answer_hours", "surveyor"),
}
TIMES = ("report_time", "tiered_at", "closed_at", "due_at", "done_at")


def open_list(figure: str, value: str | int | None = None) -> None:
    """A button's callback: list what `figure` (and its row or bar `value`) counts, below."""
    if figure in STATUS_OF_FIGURE:
        st.session_state.pop(DRILL_KEY, None)
        keep_segment(STATUS_KEY, STATUS_OF_FIGURE[figure])
    else:
        st.session_state[DRILL_KEY] = Drill(figure, value)


def close_list() -> None:
    st.session_state.pop(DRILL_KEY, None)


def current_drill() -> Drill | None:
    drill = st.session_state.get(DRILL_KEY)
    return drill if isinstance(drill, Drill) else None


def columns_of(drill: Drill | None) -> tuple[str, ...]:
    return STATUS_COLUMNS if drill is None else COLUMNS[drill.figure]


def header(column: str, drill: Drill | None) -> str:
    kind = None if drill is None else ("dispatch" if drill.figure == "dispatch" else drill.item)
    if column == "item" and kind:
        return t(f"overview.col.item.{kind}")
    specific = f"overview.col.{column}.{kind}"
    return t(specific) if kind and has_key(specific) else t(f"overview.col.{column}")


def _item(code: str | None, drill: Drill | None) -> str:
    if code is None:
        return "—"
    return t("overview.point_seq", seq=code) if drill is not None and drill.item == "point" \
        else t(f"detail.deadline.{code}")


def _answer_hours(row: dict) -> float | None:
    return None if not row.get("answers") else round(float(row["answer_seconds"]) / row["answers"] / 3600, 1)


def _cell(row: dict, column: str, drill: Drill | None, typed: bool) -> object:
    value = row.get(column)
    if column == "tier":
        return tier_label(value) if value else "—"
    if column == "risk_colour":
        return t(f"risk.badge.{value or 'none'}")
    if column == "state":
        return t(f"state.{value}") if value else "—"
    if column == "item":
        return _item(value, drill)
    if column == "on_time":
        return "—" if value is None else t("overview.in_time.yes" if value else "overview.in_time.no")
    if column == "answer_hours":
        return _answer_hours(row)
    if column == "estimate":
        return value if typed else money(value)
    if column in TIMES:
        return value if typed else local_time(value)
    if value is None:
        return None if typed else "—"
    return value


def colour_tones(rows: list[dict], drill: Drill | None) -> dict[str, list]:
    """The list's red / yellow / blue column as coloured labels (ui/tones), where the list has it."""
    if "risk_colour" not in columns_of(drill):
        return {}
    from dashboard.ui.risk_view import colour_tones as tones  # noqa: PLC0415 - the one list that shows it

    return {header("risk_colour", drill): tones(row.get("risk_colour") for row in rows)}


def _frame(rows: list[dict], drill: Drill | None, typed: bool) -> pd.DataFrame:
    columns = columns_of(drill)
    heads = [header(c, drill) for c in columns]
    return pd.DataFrame([[row.get("case_id"), *(_cell(row, c, drill, typed) for c in columns)] for row in rows],
                        columns=["case_id", *heads])


def screen_frame(rows: list[dict], drill: Drill | None) -> pd.DataFrame:
    """The list as shown: case_id (hidden, opens the case) and text cells."""
    return _frame(rows, drill, typed=False)


def export_sheet(rows: list[dict], drill: Drill | None) -> Sheet:
    """The list for Excel: amounts, times and counts as numbers and dates."""
    frame = _frame(rows, drill, typed=True).drop(columns=["case_id"])
    amount = t("overview.col.amount")  # the unit in the header: 估损金额（元）
    return Sheet(frame.rename(columns={header("estimate", drill): amount}),
                 formats={amount: MONEY, header("answer_hours", drill): HOURS, header("answers", drill): INTEGER})


def drill_title(drill: Drill, everything: OverviewFigures, hours: str, unit_names: dict[int, str]) -> str:
    h = everything.headline
    if drill.figure == "dispatch":
        what = t("overview.drill.dispatch", h=hours, num=f"{h.dispatched_within.numerator:,}")
    elif drill.figure in ("d2", "d3"):
        share = h.d2_on_time if drill.figure == "d2" else h.d3_on_time
        what = t(f"overview.drill.{drill.figure}", num=f"{share.numerator:,}")
    elif drill.figure == "violations":
        what = t("overview.drill.violations", kind=t(f"detail.deadline.{drill.value}"))
    elif drill.figure == "ageing":
        what = t("overview.drill.ageing", bucket=t(f"overview.ageing.{drill.value}"))
    elif drill.figure == "unit":
        on_time = next((r["on_time"] for r in everything.on_time_by_unit if r["unit_id"] == drill.value), 0)
        what = t("overview.drill.unit", unit=unit_names.get(drill.value, "—"), num=f"{on_time:,}")
    elif drill.figure == "avg_answer":
        what = t("overview.drill.avg_answer", answers=f"{h.answers:,}")
    else:
        what = t(f"overview.drill.{drill.figure}")
    return t("overview.list_of", what=what)


def overview_workbook(everything: OverviewFigures, hours: str, list_sheet: Sheet,
                      about: list[tuple[str, object]] | None = None) -> bytes:
    """Every sheet of the overview: Chinese headers and labels, typed cells; first, what it holds
    (`about`: the filters, the list and who exported it when)."""
    h = everything.headline
    shares = (h.dispatched_within, h.d2_on_time, h.d3_on_time)
    basis = lambda s: t("overview.basis.share", num=f"{s.numerator:,}", den=f"{s.denominator:,}")  # noqa: E731
    metric, value, basis_col = t("overview.col.metric"), t("overview.col.value"), t("overview.col.basis")
    figures = pd.DataFrame({
        metric: [t("overview.kpi.reported"), t("overview.kpi.pending"), t("overview.kpi.closed"),
                 t("overview.kpi.pending_amount"), t("overview.kpi.dispatched_within", h=hours), t("overview.kpi.d2"),
                 t("overview.kpi.d3"), t("overview.kpi.open_points"), t("overview.kpi.avg_answer")],
        value: [h.tiered_reported, h.pending, h.closed, h.pending_amount, *(s.rate for s in shares),
                h.open_review_points, None if h.avg_answer_hours is None else round(h.avg_answer_hours, 1)],
        basis_col: [None, None, None, None, *(basis(s) for s in shares), None,
                    t("overview.basis.answers", answers=f"{h.answers:,}")],
    })
    figure_formats = [INTEGER, INTEGER, INTEGER, MONEY, PERCENT, PERCENT, PERCENT, INTEGER, HOURS]
    kind, count = t("overview.col.kind"), t("overview.col.count")
    violations = pd.DataFrame([[t(f"detail.deadline.{k}"), n] for k, n in h.violations_by_type.items()],
                              columns=[kind, count])
    unit, tier, cases, amount = (t("overview.col.unit"), t("overview.col.tier"), t("overview.col.cases"),
                                 t("overview.col.amount"))
    pending = pd.DataFrame([[r["unit"], tier_label(r["tier"]), r["cases"], r["amount"]]
                            for r in everything.pending_by_unit], columns=[unit, tier, cases, amount])
    week, violations_col = t("overview.col.week"), t("overview.col.violations")
    trend = pd.DataFrame([[r["week"], t(f"detail.deadline.{r['kind']}"), r["violations"]]
                          for r in everything.violations_by_week], columns=[week, kind, violations_col])
    rate, on_time, decided = t("overview.col.rate"), t("overview.col.on_time"), t("overview.col.decided")
    ranking = pd.DataFrame([[r["unit"], r["on_time"], r["decided"], r["rate"]] for r in everything.on_time_by_unit],
                           columns=[unit, on_time, decided, rate])
    age = t("overview.col.ageing")
    ageing = pd.DataFrame([[t(f"overview.ageing.{r['bucket']}"), r["cases"], r["amount"]] for r in everything.ageing],
                          columns=[age, cases, amount])
    sheets = {}
    if about:
        sheets[t("overview.sheet.about")] = Sheet(pd.DataFrame(about, columns=[t("overview.about.item"),
                                                                        t("overview.about.value")]))
    return typed_workbook({
        **sheets,
        t("overview.sheet.figures"): Sheet(figures, cell_formats={value: figure_formats}),
        t("overview.sheet.violations"): Sheet(violations, formats={count: INTEGER}),
        t("overview.sheet.pending"): Sheet(pending, formats={cases: INTEGER, amount: MONEY}),
        t("overview.sheet.trend"): Sheet(trend, formats={violations_col: INTEGER}),
        t("overview.sheet.on_time"): Sheet(ranking, formats={rate: PERCENT, on_time: INTEGER, decided: INTEGER}),
        t("overview.sheet.ageing"): Sheet(ageing, formats={cases: INTEGER, amount: MONEY}),
        t("overview.sheet.cases"): list_sheet,
    })
