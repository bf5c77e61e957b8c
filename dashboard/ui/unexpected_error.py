"""No page ever shows a traceback (issue 26): an unexpected error shows a short message in the
person's language with a reference, and the log holds that reference with the traceback.

Two ways in, one message: `run_guarded` wraps each page run (streamlit_app.py, so AppTest sees it
too) and `on_script_error` is st.App's hook for errors in widget callbacks (dashboard/web/server.py).
st.stop / st.rerun / st.switch_page raise Streamlit's ScriptControlException, a BaseException,
so `except Exception` leaves that control flow alone.

An unreachable database is not an unexpected error (issue 18): both ways in hand it to
ui/db_outage, which says so in the person's language and brings the page back by itself.
"""
from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

import streamlit as st
from streamlit.errors import FragmentHandledException

from dashboard import clock
from dashboard.i18n import DEFAULT_LANGUAGE, set_language, t
from dashboard.ui.db_outage import begin_waiting, show_database_unavailable
from db.outage import database_unavailable

LOGGER_NAME = "dashboard.unexpected_error"
_log = logging.getLogger(LOGGER_NAME)


def new_reference() -> str:
    """Short enough to read out on the phone, dated so the administrator knows which log to open."""
    return f"E{clock.business_now():%Y%m%d}-{secrets.token_hex(3).upper()}"


def _where() -> str:
    try:
        url = st.context.url or ""
    except Exception:  # no browser (AppTest)
        url = ""
    auth = st.session_state.get("auth") or {}
    return f"page={url or '-'} person={auth.get('person_id', '-')}"


def report_unexpected_error(exc: BaseException) -> str:
    """Log the exception with a new reference (and where it happened); return the reference."""
    reference = new_reference()
    _log.error("unexpected error %s (%s)", reference, _where(), exc_info=exc)
    return reference


def show_unexpected_error(exc: BaseException) -> str:
    reference = report_unexpected_error(exc)
    # A callback's error comes before the page run has set the person's language.
    set_language(st.session_state.get("lang", DEFAULT_LANGUAGE))
    st.error(t("error.unexpected", reference=reference), icon=":material/error:")
    return reference


def on_script_error(exc: Exception) -> bool:
    """st.App's hook: our message instead of Streamlit's exception box (True = suppress it)."""
    if database_unavailable(exc):  # a callback's write found no database: the page waits
        begin_waiting(exc)
        set_language(st.session_state.get("lang", DEFAULT_LANGUAGE))
        show_database_unavailable()
        return True
    show_unexpected_error(exc)
    return True


def run_guarded(body: Callable[[], None]) -> None:
    """Run the page; an unexpected error ends it with the message, not a traceback."""
    try:
        body()
    except FragmentHandledException:
        raise  # a fragment's error was already shown (through on_script_error) where it happened
    except Exception as exc:
        if database_unavailable(exc):  # the next run shows the notice alone, at the same address
            begin_waiting(exc)
            st.rerun()
        show_unexpected_error(exc)
