"""A short-lived, per-person cache for the aggregate figures and charts a page shows.

Why: Streamlit reruns the whole page on every click. The executive overview re-read its five
aggregates over months of cases (≈120 ms at 1M cases) just to turn a page of its case list, and the
landing page re-counted every pending case on each visit. Figures over months of cases do not
change meaningfully within a minute, so they are kept FIGURES_CACHE_SECONDS and say when they were
read; the person can refresh them at once. Work lists (dispatch board, review queue, inbox, case
detail, the tracker's rows) are never cached: they are what people act on.

The key is the database, the person, the function and its arguments: what one person may see is
never served to another (scope and permissions are per person), nor one database's to another's.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import streamlit as st

from dashboard import clock
from dashboard.i18n import t
from dashboard.services.actor import Actor
from dashboard.settings import BUSINESS_TZ, FIGURES_CACHE_SECONDS
from dashboard.ui.db import read_session
from db.engine import get_engine

T = TypeVar("T")
_NONCE = "figures_refresh_nonce"


@st.cache_data(ttl=FIGURES_CACHE_SECONDS, show_spinner=False, max_entries=5000)
def _cached(database: str, person_id: int, name: str, arguments: str, nonce: int,
            _compute: Callable[[], Any]) -> tuple[Any, datetime]:
    return _compute(), clock.now()


def cached_figures(actor: Actor, fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, datetime]:
    """`fn(session, actor, *args, **kwargs)` read at most FIGURES_CACHE_SECONDS ago, and when it was read.

    Arguments must be plain values whose repr says everything (ids, dates, dataclass filters)."""
    def compute() -> T:
        with read_session() as session:
            return fn(session, actor, *args, **kwargs)

    database = get_engine().url.render_as_string(hide_password=True)
    arguments = repr((args, sorted(kwargs.items())))
    return _cached(database, actor.person_id, f"{fn.__module__}.{fn.__qualname__}", arguments,
                   st.session_state.get(_NONCE, 0), compute)


def figures_freshness(read_at: datetime, key: str, message: str = "common.figures_as_of") -> None:
    """Say when the figures were read (`message`, an i18n key with {time} and {s}), with a button
    to read them again now (this person only)."""
    left, right = st.columns([5, 1], vertical_alignment="center")
    left.caption(t(message, time=read_at.astimezone(BUSINESS_TZ).strftime("%H:%M:%S"), s=FIGURES_CACHE_SECONDS))
    if right.button(t("common.refresh"), key=key, icon=":material/refresh:", type="tertiary"):
        st.session_state[_NONCE] = st.session_state.get(_NONCE, 0) + 1
        st.rerun()
