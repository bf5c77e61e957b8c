"""Coloured tags for the list cells whose colour carries meaning (DESIGN: red for overdue or late,
amber for due soon, everything else neutral), one look on every page.

Why tags and not a pandas Styler: Streamlit renders a Styler by turning every cell of the table
into HTML attributes and sending the table twice (values and display text). That took ~12 ms for a
50-row list, more than the list's own SQL at 1,000,000 cases (bench/RESULTS.md). A tag column is
the same table with one column as a list of one label, coloured by a small column setting
(`st.column_config.MultiselectColumn`, read-only in `st.dataframe`).
"""
from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

import pandas as pd
import streamlit as st

Tone = Literal["red", "amber", "blue"] | None
RED: Tone = "red"
AMBER: Tone = "amber"
BLUE: Tone = "blue"  # the blue (fast-track) case of red / yellow / blue, never a status
# Light fills, so that Streamlit writes the label dark on them and a list of fifty overdue rows
# stays readable; neutral labels are grey.
FILLS: dict[Tone, str] = {RED: "#ffccc7", AMBER: "#ffe7ba", BLUE: "#d6e4ff", None: "#eef0f4"}
_STRENGTH: dict[Tone, int] = {None: 0, BLUE: 1, AMBER: 1, RED: 2}


def due_tone(due: datetime | None, now: datetime, soon_hours: float) -> Tone:
    """Red once past due, amber within the due-soon window (a rule setting), else neutral."""
    if due is None:
        return None
    if due < now:
        return RED
    if due - now <= timedelta(hours=float(soon_hours)):
        return AMBER
    return None


# Cells that say "nothing here": no label (a grey "—" pill on every row read as a status).
_NO_LABEL = frozenset({"", "—"})


def tagged(frame: pd.DataFrame, tones: Mapping[str, Sequence[Tone]], *,
           widths: Mapping[str, str | int] | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """`frame` to show, with each column named in `tones` drawn as one coloured label per cell,
    and the column settings that colour them: give both to `st.dataframe`. `widths`: a width per
    tagged column ("small", "medium", "large" or pixels); without one, the column is as wide as its
    header and its longest label need (`fitting_width`).

    For text columns (a status, the time left), not counts: a label is text, left-aligned and
    sorted as text. `frame` itself is not changed: downloads stay plain text. A label's colour
    belongs to its text (a column setting colours options, not cells); where one text comes with
    two tones, the stronger wins. An empty cell, or "—", gets no label."""
    shown = frame.copy()
    config: dict[str, Any] = {}
    for column, column_tones in tones.items():
        texts = ["" if pd.isna(v) else str(v) for v in frame[column]]
        if len(column_tones) != len(texts):
            raise ValueError(f"{column}: {len(column_tones)} tones for {len(texts)} rows")
        tone_of: dict[str, Tone] = {}
        for text, tone in zip(texts, column_tones):
            if text not in _NO_LABEL and (text not in tone_of or _STRENGTH[tone] > _STRENGTH[tone_of[text]]):
                tone_of[text] = tone
        shown[column] = [[] if text in _NO_LABEL else [text] for text in texts]
        config[column] = st.column_config.MultiselectColumn(
            options=list(tone_of), color=[FILLS[tone] for tone in tone_of.values()] or None,
            width=(widths or {}).get(column) or fitting_width(column, tone_of))
    return shown, config


# What the list draws around a label's text (the label's own padding and the cell's), and around
# the header's (the cell's padding and the sort arrow), in pixels.
_LABEL_EDGES, _HEADER_EDGES = 40, 32


def text_width(text: str) -> int:
    """About how many pixels the list's 14 px font takes for `text`: a Chinese character is a
    square, a Latin letter, digit or sign about half of one."""
    return sum(14 if unicodedata.east_asian_width(c) in "WF" else 8 for c in text)


def fitting_width(header: str, labels: Sequence[str]) -> int | None:
    """A tagged column's width in pixels, wide enough for its header and its longest label, or None
    (the list's own choice) when it has no label. Why: the list sizes a column of labels by its
    header alone, and cut 红·严查 and 黄·常规 under 红黄蓝 to their first two characters."""
    if not labels:
        return None
    return max(max(text_width(label) for label in labels) + _LABEL_EDGES, text_width(header) + _HEADER_EDGES)
