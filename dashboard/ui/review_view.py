"""Streamlit pieces shared by the review, feedback, supervision and weekly pages."""
from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from dashboard.i18n import t
from dashboard.services.errors import StaleWrite, UserError, ValidationFailed
from dashboard.services.review.opinions import OpinionView
from dashboard.ui.db import db_session
from dashboard.ui.format import local_time, plain, time_left
from dashboard.ui.tables import empty_note
from dashboard.ui.tones import Tone, tagged

_FLASH = "review_flash"


def error_messages(err: UserError) -> list[str]:
    """The refusal's messages as shown (Markdown: what was typed, echoed in them, reads as text)."""
    if isinstance(err, ValidationFailed):
        return [plain(t(e.key, **e.params)) for e in err.errors]
    return [plain(t(err.key, **err.params))]


def run_action(action: Callable[[Any], object], success: str | Callable[[object], str],
               clear: tuple[str, ...] = (), on_stale: Callable[[], None] | None = None) -> None:
    """Widget callback body: run `action(session)`, then flash the outcome for the next run.

    On success the named inputs are cleared (allowed here: callbacks run before the widgets). The
    message is kept as it is shown (Markdown), a case number or name in it as text (format.plain).
    `on_stale`: keeps what was typed when the write was refused because the record moved on
    (StaleWrite): the form it was typed in may not be drawn again."""
    try:
        with db_session() as session:
            result = action(session)
    except UserError as err:
        st.session_state[_FLASH] = ("error", error_messages(err))
        if isinstance(err, StaleWrite) and on_stale is not None:
            on_stale()
        return
    message = plain(success(result) if callable(success) else success)
    st.session_state[_FLASH] = ("success", [message])
    for key in clear:
        st.session_state[key] = ""


def show_flash() -> None:
    """The last action's outcome at the top of the page, and as a toast: the buttons sit lower down
    (an HQ opinion is posted at the bottom), where a message at the top went unseen."""
    kind, messages = st.session_state.pop(_FLASH, (None, []))
    for message in messages:
        (st.error if kind == "error" else st.success)(message)
        st.toast(message, icon=":material/error:" if kind == "error" else ":material/check_circle:")


def left_text(due: datetime | None, now: datetime) -> str:
    return time_left(due, now) if due is not None else "—"


def render_opinion(view: OpinionView, now: datetime, *,
                   point_widget: Callable[[Any], None] | None = None) -> None:
    """One opinion: each point with its status, answers (oldest first) and verdicts. What people
    wrote (points, answers, reasons, names) passes through format.plain: it reads as typed, never
    as HTML or Markdown (issue 18); the <small> around the status line is ours."""
    st.markdown(f"**{t('review.opinion_header', author=plain(view.author), at=local_time(view.posted_at))}**")
    if view.closed_at:
        st.caption(t("review.hq.closed", at=local_time(view.closed_at)))
    for point in view.points:
        due = ""
        if point.status in ("open", "sent_back") and point.due_at is not None:
            due = f" · {t('review.col.due_at')} {local_time(point.due_at)}（{left_text(point.due_at, now)}）"
        st.markdown(f"{point.seq}. {plain(point.body)}  \n"
                    f"<small>{t(f'review.point_status.{point.status}')} · {t('review.round', n=point.round)}"
                    f"{due}</small>", unsafe_allow_html=True)
        for answer in point.answers:
            late = t("review.late") if answer.late else ""
            st.caption("↳ " + t("review.answer_line", author=plain(answer.author),
                                at=local_time(answer.answered_at), body=plain(answer.body)) + late)
            if answer.verdict:
                verdict = t("review.hq.accept") if answer.verdict == "accepted" else t("review.hq.send_back")
                reason = f"：{plain(answer.verdict_reason)}" if answer.verdict_reason else ""
                st.caption("　↳ " + t("review.verdict_line", by=plain(answer.verdict_by),
                                     at=local_time(answer.verdict_at), verdict=verdict, reason=reason))
        if point_widget is not None:
            point_widget(point)


def selectable_table(frame: pd.DataFrame, key: str, ids: list, target_key: str, *,
                     tones: Mapping[str, Sequence[Tone]] | None = None) -> None:
    """A list whose row click chooses that row's id in the page's picker `target_key` (call it
    before the picker is drawn); the picker stays usable, a click is applied once. `tones`: the
    columns drawn as coloured labels (see ui/tones)."""
    if empty_note(frame):
        return
    shown, config = tagged(frame, tones or {})
    sync_tick(st.session_state, key, ids, target_key)
    event = st.dataframe(shown, key=key, hide_index=True, width="stretch", on_select="rerun",
                         selection_mode="single-row", column_config=config or None)
    rows = list(event.selection.rows) if event is not None and hasattr(event, "selection") else []
    apply_row_click(st.session_state, key, rows, ids, target_key)


def _seen(key: str) -> str:
    """Where the rows last ticked in list `key` are kept: a change of them is a click (apply_row_click),
    and sync_tick sets them with the tick it draws, so its own tick is not taken for one."""
    return f"{key}_seen_rows"


def _ticked(selection: object) -> list[int]:
    try:
        return list(selection["selection"]["rows"])  # type: ignore[index]
    except (KeyError, TypeError):
        return []


def sync_tick(state: MutableMapping, key: str, ids: list, target_key: str) -> None:
    """Before the list is drawn: its tick marks the row of the case chosen in `target_key` (none when
    that case is not on this page), unless the person has just clicked a row, which apply_row_click
    then applies. Why: the selection is a row number, so once the list changed under it (the case
    just reviewed left the queue, a filter changed) the tick sat on another case than the one shown
    below, and a click on that row only unticked it (walk, issue 23)."""
    seen = _seen(key)
    ticked = _ticked(state.get(key))
    if key in state and ticked != state.get(seen):
        return  # a click since the last run: apply_row_click chooses its row
    chosen = state.get(target_key)
    wanted = [ids.index(chosen)] if chosen in ids else []
    if wanted != ticked:
        state[key] = {"selection": {"rows": wanted, "columns": [], "cells": []}}
    state[seen] = wanted


def apply_row_click(state: MutableMapping, key: str, rows: list[int], ids: list, target_key: str) -> None:
    """Choose the clicked row's id in `target_key`, once per click. Only a change of the selected
    rows is a click: the selection is a row number, and once the list changes under it (the case
    just reviewed leaves the queue) the same number points at another case, which must not be chosen."""
    seen = _seen(key)
    if rows != state.get(seen):
        state[seen] = rows
        if rows and rows[0] < len(ids):
            state[target_key] = ids[rows[0]]
