"""工作日历 (issue 22): the years the clocks run into, which are known, the named days of one year,
and HQ admin's form for a later year's holidays and 调休. A year nobody entered is a warning at the
top, never silently all working days (the clocks fall back to Monday–Friday for it)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.i18n import t
from dashboard.services.actor import Actor
from dashboard.services.clocks.calendar import calendar_days, calendar_years, confirm_year, set_calendar_day
from dashboard.ui.db import read_session
from dashboard.ui.forms import run_write, show_outcome

SLOT = "calendar"
WEEKDAYS = "一二三四五六日"
KINDS = ("holiday", "makeup", "weekday")  # what the form sets a day to


def _year_frame(statuses) -> pd.DataFrame:
    return pd.DataFrame({
        t("calendar.col.year"): [str(s.year) for s in statuses],
        t("calendar.col.status"): [t(f"calendar.status.{s.source or 'unknown'}") for s in statuses],
        t("calendar.col.holidays"): [s.holidays for s in statuses],
        t("calendar.col.makeup"): [s.makeup_days for s in statuses],
    })


def _save(actor: Actor) -> None:
    state = st.session_state
    kind = state.get("cal_kind")
    working = {"holiday": False, "makeup": True}.get(kind)
    run_write(lambda s: set_calendar_day(s, actor, state.get("cal_day"), working, state.get("cal_name")),
              lambda view: t(f"calendar.saved.{kind}", day=view.day.isoformat(), name=view.name),
              slot=SLOT, heading_key="calendar.not_saved",
              on_success=lambda _v: [state.pop(k, None) for k in ("cal_day", "cal_name")])


def render_calendar(actor: Actor) -> None:
    with read_session() as session:
        statuses = calendar_years(session, actor)
    unknown = [s.year for s in statuses if not s.known]
    for year in unknown:
        st.warning(t("calendar.unknown_year", year=year))
    st.caption(t("calendar.help"))
    st.dataframe(_year_frame(statuses), hide_index=True, key="cal_years")
    years = [s.year for s in statuses]
    year = st.selectbox(t("calendar.pick_year"), years, key="cal_year",
                        index=years.index(unknown[0]) if unknown else 0)
    with read_session() as session:
        days = calendar_days(session, actor, year)
    if days:
        st.dataframe(pd.DataFrame({
            t("calendar.col.day"): [d.day.isoformat() for d in days],
            t("calendar.col.weekday"): [t("calendar.weekday", d=WEEKDAYS[d.day.weekday()]) for d in days],
            t("calendar.col.kind"): [t("calendar.kind.makeup" if d.working else "calendar.kind.holiday") for d in days],
            t("calendar.col.name"): [d.name for d in days],
            t("calendar.col.source"): [t(f"calendar.source.{d.source}") for d in days],
        }), hide_index=True, key="cal_days")
    else:
        st.info(t("calendar.no_days", year=year))
    with st.form("cal_form"):
        st.markdown(t("calendar.form.title"))
        left, middle, right = st.columns(3)
        left.text_input(t("calendar.field.calendar_day"), key="cal_day", placeholder="2027-01-01", max_chars=10)
        middle.selectbox(t("calendar.field.kind"), KINDS, key="cal_kind", format_func=lambda k: t(f"calendar.kind.{k}"))
        right.text_input(t("calendar.field.calendar_name"), key="cal_name", max_chars=32,
                         placeholder=t("calendar.placeholder.name"))
        st.form_submit_button(t("calendar.form.submit"), type="primary", on_click=_save, args=(actor,))
    show_outcome(SLOT)
    if year in unknown:
        st.button(t("calendar.confirm", year=year), key="cal_confirm",
                  on_click=lambda: run_write(lambda s: confirm_year(s, actor, year),
                                             t("calendar.confirmed", year=year), slot=SLOT))
