"""Entry point: page config, sign-in gate and the navigation the person's roles allow.

`st.navigation` is called on every run (DESIGN pitfall): signed out, it lists only hidden
sign-in pages, so no file in pages/ can be opened by URL without signing in. The whole run is
guarded: an unexpected error shows a short message with a reference, never a traceback; an
unreachable database shows a notice and the page comes back by itself (ui/db_outage).
Served by dashboard/web/server.py (which adds the session cookie routes); AppTest runs this file.
"""
from __future__ import annotations

import streamlit as st

from dashboard.i18n import LANGUAGES, set_language, t
from dashboard.ui.app_shell import replace_streamlit_english, render_sidebar, schema_problem
from dashboard.ui.db_outage import begin_waiting, show_notice_page, wait_for_database
from dashboard.ui.navigation import PAGES, pages_for
from dashboard.ui.session import (
    current_actor, go_to_requested_page, hand_session_to_browser, remember_requested_page,
)
from dashboard.ui.sign_in import sign_in_aliases, sign_in_page
from dashboard.ui.unexpected_error import run_guarded
from db.outage import database_unavailable

# Every page's address, where a tab waiting for the database shows the notice (ui/db_outage).
ADDRESSES = [spec.key for spec in PAGES] + ["sign_in"]


def page_config() -> None:
    # The browser tab's title follows the language too.
    st.set_page_config(page_title=t("app.title"), page_icon=":material/shield:", layout="wide")


def main() -> None:
    set_language(st.session_state.setdefault("lang", LANGUAGES[0]))
    wait_for_database(page_config, ADDRESSES)
    try:
        problem = schema_problem()
        actor = None if problem else current_actor()
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        # No page chosen yet: the notice goes at the address asked for (a rerun would lose it).
        begin_waiting(exc)
        show_notice_page(page_config, ADDRESSES)
    set_language(st.session_state["lang"])  # a session found from its cookie brings its language
    page_config()
    replace_streamlit_english()
    if actor is None:
        remember_requested_page()
        st.session_state["nav_pages"] = []
        # Every page's address shows the sign-in form (no "page not found" for a shared link);
        # the page asked for opens after signing in, if the person's roles allow it.
        navigation = st.navigation([st.Page(sign_in_page, title=t("page.sign_in"), url_path="sign_in",
                                            default=True), *sign_in_aliases()], position="hidden")
        if problem:
            st.error(problem)
            st.stop()
    else:
        allowed = pages_for(actor)
        sections: dict[str, list[st.Page]] = {}
        for spec in allowed:
            sections.setdefault(t(spec.section), []).append(
                st.Page(spec.script, title=t(spec.title_key), icon=spec.icon, url_path=spec.key,
                        default=spec.key == "home"))
        # The menu is drawn by render_sidebar (config hides Streamlit's own page list).
        navigation = st.navigation(sections, position="hidden")
        st.session_state["nav_pages"] = [spec.key for spec in allowed]
        render_sidebar(actor, sections)
        with st.sidebar:  # last in the menu: its coming and going moves nothing on the page
            hand_session_to_browser()
        go_to_requested_page(actor)
    navigation.run()


run_guarded(main)
