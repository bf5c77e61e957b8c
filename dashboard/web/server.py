"""The dashboard's web server: `streamlit run dashboard/web/server.py` (what the launcher's `serve`
and the browser tests start).

Streamlit finds the st.App below and serves streamlit_app.py (the pages, sign-in and navigation)
with what a plain `streamlit run streamlit_app.py` lacks:
- the session routes (session_routes.py), so a signed-in session survives reloads and links;
- `on_script_error`: an unexpected error in a widget callback (on_click, on_change) shows the same
  short message with a reference as one in a page run (streamlit_app.py guards those), never a
  traceback, and the log holds the reference with the traceback;
- every run goes through streamlit_app.py, even the first one of a fresh server.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# `streamlit run` puts this file's folder first on sys.path; the project root must be there too.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402
from streamlit import config as streamlit_config  # noqa: E402

from dashboard.ui.unexpected_error import LOGGER_NAME, on_script_error  # noqa: E402
from dashboard.web.session_routes import session_routes  # noqa: E402


def _log_to_stderr() -> None:
    """The product's own log lines (e.g. an unexpected error's reference and traceback) on stderr,
    beside Streamlit's, with the time: the administrator looks a reference up there."""
    logger = logging.getLogger(LOGGER_NAME.split(".")[0])
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def _never_the_pages_directory_mode() -> None:
    """A `pages/` folder puts Streamlit in its old pages-directory mode until the first run that
    calls st.navigation (DESIGN pitfall): the first visitor of a fresh or restarted server who
    opens /case_detail would get that page's script run on its own, without the sign-in gate's
    navigation, the menu or the error guard of streamlit_app.py. This app calls st.navigation on
    every run, so it says so from the start, as st.navigation itself does."""
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False


_log_to_stderr()
_never_the_pages_directory_mode()
app = st.App(ROOT / "streamlit_app.py",
             routes=session_routes(streamlit_config.get_option("server.baseUrlPath")),
             on_script_error=on_script_error)
