"""Showing service refusals in the person's language: every field named, every problem listed."""
from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from dashboard.i18n import has_key, t
from dashboard.services.errors import FieldError, UserError, ValidationFailed

# Field names whose label lives under another key than cases.field.<name>.
_LABELS = {"estimate": "cases.estimate.amount", "delegate": "board.act.delegate_person",
           "outcome": "board.act.outcome"}


def field_label(field: str | None) -> str | None:
    if not field:
        return None
    for key in (_LABELS.get(field, ""), f"cases.field.{field}", f"admin.setting.{field}"):
        if key and has_key(key):
            return t(key)
    return None


def error_line(error: FieldError) -> str:
    label = field_label(error.field)
    message = t(error.key, **error.params)
    return f"{label}：{message}" if label else message


def show_error(err: UserError) -> None:
    """st.error with one line per field at fault (ValidationFailed) or the single message."""
    if isinstance(err, ValidationFailed) and err.errors:
        lines = "\n".join(f"- {error_line(e)}" for e in err.errors)
        st.error(f"{t('cases.form_errors', n=len(err.errors))}\n\n{lines}")
    else:
        label = field_label(err.field)
        message = t(err.key, **err.params)
        st.error(f"{label}：{message}" if label else message)



_FLASH = "flash_message"


def flash_and_rerun(message: str) -> None:
    """Keep a success message across the rerun that redraws lists with the change just made."""
    st.session_state[_FLASH] = message
    st.rerun()


def show_flash() -> None:
    message = st.session_state.pop(_FLASH, None)
    if message:
        st.success(message)


def keep_choice_offered(key: str, options: Sequence[object]) -> None:
    """Before a selectbox whose options follow another filter (the sub-branches of the chosen
    branch): a kept choice no longer offered goes back to the first option (全部). Streamlit would
    otherwise show a blank box reading "Choose an option" while the list was already unfiltered.
    The choice is dropped rather than set to the first option: that option is often None (全部),
    which Streamlit takes for "nothing chosen"."""
    if key in st.session_state and st.session_state[key] not in options:
        del st.session_state[key]
