"""The database stopped while people work (issue 18, "nothing lost"): a page says so in the
person's language and comes back by itself, and what was typed is still there.

A run that finds the database unreachable (db/outage.py tells an outage from other errors) keeps
what the person typed or chose in the tab's state, logs one line (no traceback: nothing is wrong
with the program), marks the tab as waiting and reruns. A waiting tab's run shows only the notice,
without touching the database, at the address the person was on; a fragment on the notice retries
every RETRY_SECONDS and, once the database answers, reruns the page, which puts the kept input back
into its fields (a form is not submitted again: the person checks it and submits).

Kept input: Streamlit drops a field's value from the browser and the server once a run ends
without drawing it, so the values are copied under their own keys and set again through
st.session_state before the fields are drawn, which sends them back to the browser. Buttons,
uploads, password fields and tables are left out (Streamlit refuses a value set for them, or it
must not travel back).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date, datetime, time as time_of_day
from decimal import Decimal
from typing import Any, NoReturn

import streamlit as st
from sqlalchemy import text
from streamlit.errors import StreamlitAPIException
from streamlit.navigation.page import StreamlitPage

from dashboard.i18n import DEFAULT_LANGUAGE, set_language, t
from db.engine import get_engine
from db.outage import first_line

WAITING_KEY = "_db_outage_since"  # monotonic time the tab began to wait for the database
KEPT_KEY = "_db_outage_kept_input"
ATTEMPTS_KEY = "_db_outage_attempts"
RETRY_SECONDS = 3.0
# A try is due this long after the last one (the fragment's timer is not exact to the millisecond).
_DUE_AFTER = RETRY_SECONDS * 0.8
LOGGER_NAME = "dashboard.database"
_log = logging.getLogger(LOGGER_NAME)

# Widget value types whose value Streamlit does not let the script set (buttons, uploads, chat).
_NOT_SETTABLE = frozenset({"trigger_value", "string_trigger_value", "json_trigger_value", "chat_input_value",
                           "file_uploader_state_value", "bytes_value", "arrow_value", "json_value"})
_PLAIN = (str, int, float, Decimal, date, datetime, time_of_day)


def database_answers() -> bool:
    """One short round trip as the pages connect (a dead pooled connection is replaced: pre-ping)."""
    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not yet"
        return False


def _settable(value: Any, value_type: str) -> bool:
    if isinstance(value, bool):
        return value_type == "bool_value"  # a checkbox or toggle; a button's is a trigger
    if isinstance(value, _PLAIN):
        return True
    if isinstance(value, (list, tuple)) and value:  # multiselect, pills, a date range
        return all(isinstance(item, _PLAIN) and not isinstance(item, bool) for item in value)
    return False


def _widget_values() -> dict[str, Any]:
    """The keyed fields of this run whose value can be set again: key -> value."""
    from streamlit.runtime.state import get_session_state

    try:
        state = get_session_state()._state
        widgets = dict(state._key_id_mapper.id_key_mapping)
        metadata = state._new_widget_state.widget_metadata
    except AttributeError:  # Streamlit's internals moved (requirements pin it): keep nothing
        return {}
    values: dict[str, Any] = {}
    for widget_id, key in widgets.items():
        meta = metadata.get(widget_id)
        if meta is None or meta.value_type in _NOT_SETTABLE or "password" in key:
            continue
        try:
            value = st.session_state[key]
        except KeyError:  # a field of an earlier page, already gone
            continue
        if _settable(value, meta.value_type):
            values[key] = value
    return values


def keep_typed_input() -> None:
    """Copy the fields' values under their keys, to be set again once the page is back."""
    kept = dict(st.session_state.get(KEPT_KEY) or {})
    kept.update(_widget_values())
    st.session_state[KEPT_KEY] = kept


def restore_typed_input() -> None:
    """Before any field is drawn: set what was kept, so the fields (and the browser) show it."""
    kept = st.session_state.pop(KEPT_KEY, None) or {}
    for key, value in kept.items():
        try:
            st.session_state[key] = value
        except StreamlitAPIException:  # a field already drawn in this run keeps its own value
            pass


def _where() -> str:
    try:
        url = st.context.url or ""
    except Exception:  # noqa: BLE001 - no browser (AppTest)
        url = ""
    auth = st.session_state.get("auth") or {}
    return f"page={url or '-'} person={auth.get('person_id', '-')}"


def begin_waiting(error: BaseException) -> None:
    """The database is unreachable: keep the input, log one line (once per outage), mark the tab."""
    keep_typed_input()
    if WAITING_KEY not in st.session_state:
        _log.warning("database unavailable, the page waits and retries (%s): %s", _where(), first_line(error))
        st.session_state[ATTEMPTS_KEY] = 0
    st.session_state[WAITING_KEY] = time.monotonic()


def waiting() -> bool:
    return WAITING_KEY in st.session_state


def still_waiting() -> bool:
    """At the start of a run of a waiting tab: True while the database does not answer. A rerun
    sooner than RETRY_SECONDS after the last failure does not even try, so a page that keeps
    failing cannot rerun in a tight loop."""
    if time.monotonic() - st.session_state[WAITING_KEY] < _DUE_AFTER:
        return True
    if database_answers():
        st.session_state.pop(WAITING_KEY, None)
        st.session_state.pop(ATTEMPTS_KEY, None)
        _log.info("database reachable again (%s)", _where())
        return False
    st.session_state[WAITING_KEY] = time.monotonic()
    return True


def show_database_unavailable() -> None:
    """The notice, and the retry that brings the page back by itself."""
    st.warning(t("app.db_unavailable"), icon=":material/cloud_off:")
    st.caption(t("app.db_unavailable_hint"))
    _retry_when_back()


@st.fragment(run_every=RETRY_SECONDS)
def _retry_when_back() -> None:
    since = st.session_state.get(WAITING_KEY)
    if since is None:  # the database came back meanwhile: the page is being drawn again
        return
    set_language(st.session_state.get("lang", DEFAULT_LANGUAGE))  # a fragment's run skips the page's
    if time.monotonic() - since >= _DUE_AFTER:
        st.session_state[ATTEMPTS_KEY] = st.session_state.get(ATTEMPTS_KEY, 0) + 1
        if database_answers():
            st.rerun(scope="app")
        st.session_state[WAITING_KEY] = time.monotonic()
    attempts = st.session_state.get(ATTEMPTS_KEY, 0)
    if attempts:
        st.caption(t("app.db_retrying", n=attempts))


def notice_navigation(page_keys: list[str]) -> StreamlitPage:
    """The notice at every page's address: the address stays, so the page that comes back is the
    one the person was on."""
    pages = []
    for key in page_keys:
        def notice() -> None:
            show_database_unavailable()

        notice.__name__ = f"database_unavailable_{key}"
        pages.append(st.Page(notice, title=t("app.db_unavailable_title"), url_path=key, default=key == "home"))
    return st.navigation(pages, position="hidden")


def show_notice_page(page_config: Callable[[], None], page_keys: list[str]) -> NoReturn:
    """The run shows the notice alone, at the address asked for, and stops."""
    page_config()
    notice_navigation(page_keys).run()
    st.stop()


def wait_for_database(page_config: Callable[[], None], page_keys: list[str]) -> None:
    """First thing in a run: a tab waiting for the database shows the notice and stops; once the
    database answers, the kept input goes back before anything is drawn."""
    if waiting() and still_waiting():
        show_notice_page(page_config, page_keys)
    restore_typed_input()
