"""A segmented control that never becomes empty.

`st.segmented_control` lets a click on the chosen segment deselect it (its value becomes None).
Pages then fell back to some default while the control showed nothing: the overview's list went
from 「全部」 to 未决 silently, and its export held 21 cases where 全部 said 27. Here a None keeps
the last choice (and the control shows it again), so what is shown is always what is chosen."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import streamlit as st

T = TypeVar("T")


def _last_key(key: str) -> str:
    return f"{key}__kept"


def keep_segment(key: str, value: Any) -> None:
    """Choose `value` for the control `key` (from a button's callback, before the control is drawn)."""
    st.session_state[key] = value
    st.session_state[_last_key(key)] = value


def segmented_choice(label: str, options: Sequence[T], *, key: str, default: T,
                     format_func: Callable[[T], str] = str, **kwargs: Any) -> T:
    """`st.segmented_control` (single choice) whose value is always one of `options`: a click that
    would deselect keeps the last choice; a control not drawn on some runs keeps it too."""
    last = st.session_state.get(_last_key(key), default)
    if last not in options:
        last = default
    if st.session_state.get(key) not in options:
        # None (deselected), gone (Streamlit drops the state of a widget not drawn on a run) or
        # no longer offered: the last choice, which the control then shows.
        st.session_state[key] = last
    # required=True: the browser ignores a click on the chosen segment; the rest guards what it cannot.
    value = st.segmented_control(label, list(options), key=key, format_func=format_func,
                                 selection_mode="single", required=True, **kwargs)
    value = value if value in options else last
    st.session_state[_last_key(key)] = value
    return value
