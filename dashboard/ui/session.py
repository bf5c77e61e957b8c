"""Who is signed in, for every page: a web_session row (dashboard/services/web_sessions) that the
tab remembers, or that a new tab or a reload finds again from the browser's session cookie.

Each run checks the row, so a sign-out in one tab (or on another server), or the idle timeout,
refuses every other tab at its next action. The cookie is HttpOnly and reaches the server with the
tab's connection (st.context.cookies); it is set and cleared by dashboard/web/session_routes.py,
loaded here in a hidden same-origin frame. AppTest has no HTTP routes and no cookies: there the
in-app sign-in and st.session_state carry the session on their own.
"""
from __future__ import annotations

import streamlit as st
from streamlit import config as streamlit_config

from dashboard.i18n import DEFAULT_LANGUAGE, set_language, t
from dashboard.services.actor import Actor, db_scope, load_actor
from dashboard.services.web_sessions import (
    SessionState, check, end_web_session, open_web_session, resume, set_session_language,
)
from dashboard.ui.db import DB_SCOPE_KEY, db_session
from dashboard.ui.navigation import page_spec
from dashboard.services.web_sessions import CLEAR_PATH, ESTABLISH_PATH, SESSION_COOKIE, route_path

_AUTH_KEY = "auth"
# Whether this tab has looked at the cookie it connected with (once per tab: the cookie a tab
# presents never changes while it stays open), and whether the browser may hold a dead one.
_COOKIE_LOOKED_AT = "session_cookie_looked_at"
_DEAD_COOKIE = "session_cookie_dead"


def sign_in(actor: Actor) -> None:
    """After the password was checked: a new session, handed to the browser on the next run."""
    with db_session() as session:
        opened = open_web_session(session, actor.person_id, st.session_state.get("lang", DEFAULT_LANGUAGE))
    st.session_state[_AUTH_KEY] = {"person_id": actor.person_id, "web_session_id": opened.id,
                                   "ticket": opened.ticket}
    st.session_state.pop("auth_notice", None)


def sign_out(notice_key: str | None = None) -> None:
    """The sign-out button: the session ends for every tab and server holding it, and this tab
    forgets the person and the case they had open (widget keys are left to Streamlit)."""
    auth = st.session_state.get(_AUTH_KEY)
    if auth and auth.get("web_session_id"):
        with db_session() as session:
            end_web_session(session, auth["web_session_id"])
    _forget(notice_key)


def _forget(notice_key: str | None = None) -> None:
    for key in (_AUTH_KEY, "case_id", DB_SCOPE_KEY):
        st.session_state.pop(key, None)
    st.session_state[_COOKIE_LOOKED_AT] = True
    st.session_state[_DEAD_COOKIE] = True
    if notice_key:
        st.session_state["auth_notice"] = notice_key


def _session_cookie() -> str | None:
    try:
        token = st.context.cookies.get(SESSION_COOKIE)
    except Exception:  # no browser connection (bare mode)
        return None
    return token if isinstance(token, str) else None  # AppTest's stand-in client answers a mock


def _ended_notice(state: SessionState) -> str:
    return {"idle": "auth.expired", "disabled": "auth.inactive"}.get(state.end_reason or "", "auth.ended_elsewhere")


def _resume_from_cookie(session) -> SessionState | None:
    """A new tab or a reload: the live session its cookie names, once per tab."""
    if st.session_state.get(_COOKIE_LOOKED_AT):
        return None
    token = _session_cookie()
    if not token:
        st.session_state[_COOKIE_LOOKED_AT] = True
        return None
    state = resume(session, token)
    # Looked at once it was read: a tab opened while the database was down looks again when it is back.
    st.session_state[_COOKIE_LOOKED_AT] = True
    if not state.live:
        st.session_state[_DEAD_COOKIE] = True
        if state.status == "idle":
            st.session_state["auth_notice"] = "auth.expired"
        return None
    st.session_state[_AUTH_KEY] = {"person_id": state.person_id, "web_session_id": state.id}
    st.session_state["lang"] = state.language
    set_language(state.language)
    return state


def current_actor() -> Actor | None:
    """The signed-in actor, or None; a session ended elsewhere or idle is signed out with a notice."""
    auth = st.session_state.get(_AUTH_KEY)
    with db_session() as session:
        if not auth:
            state = _resume_from_cookie(session)
            if state is None:
                return None
        else:
            state = check(session, auth["web_session_id"])
            if not state.live:
                _forget(_ended_notice(state))
                return None
            if not state.needs_cookie:
                auth.pop("ticket", None)
        actor = load_actor(session, state.person_id)
        if actor is None:  # deactivated since signing in
            end_web_session(session, state.id)
    if actor is None:  # disabled by HQ since signing in
        _forget("auth.inactive")
        return None
    st.session_state[DB_SCOPE_KEY] = db_scope(actor)
    return actor


def hand_session_to_browser() -> None:
    """Right after an in-app sign-in: the hidden frame whose response sets the session cookie.
    Drawn on each run until the browser has collected it (the ticket is then consumed)."""
    auth = st.session_state.get(_AUTH_KEY) or {}
    if auth.get("ticket"):
        _hidden_frame(f"{route_path(ESTABLISH_PATH, _base_url_path())}?ticket={auth['ticket']}")


def clear_dead_cookie() -> None:
    """On the sign-in page after a session ended: the hidden frame that removes its cookie (the
    route removes only a cookie whose session has ended, never a live one)."""
    if st.session_state.get(_DEAD_COOKIE):
        _hidden_frame(route_path(CLEAR_PATH, _base_url_path()))


def _hidden_frame(src: str) -> None:
    """A same-origin frame the person never sees (app_shell's CSS hides it); only its response matters."""
    st.iframe(src, width=1, height=1, tab_index=-1)


def _base_url_path() -> str:
    return streamlit_config.get_option("server.baseUrlPath") or ""


def remember_language(language: str) -> None:
    """The language chosen in a tab is the session's, so a reload or a new tab keeps it.

    The language the tab already shows writes nothing: Streamlit can call a value widget's
    on_change with no change when a click lands during a run (streamlit#10102, open). CI saw the
    menu's language box write its unchanged language beside a sign-out click, and the person's
    sign-out wait behind a write nobody asked for."""
    if language == st.session_state.get("lang"):
        return
    st.session_state["lang"] = language
    auth = st.session_state.get(_AUTH_KEY)
    if auth and auth.get("web_session_id"):
        with db_session() as session:
            set_session_language(session, auth["web_session_id"], language)


def require_page(key: str) -> Actor:
    """First line of every page: the page checks the role itself, whatever the navigation shows."""
    set_language(st.session_state.get("lang", DEFAULT_LANGUAGE))
    actor = current_actor()
    spec = page_spec(key)
    if actor is None:
        st.warning(t("auth.sign_in_first"))
        st.markdown(f"[{t('auth.go_to_sign_in')}](/)")
        st.stop()
    if not (actor.roles & spec.roles):
        st.error(t("common.forbidden"))
        st.stop()
    return actor


_REQUESTED = "after_sign_in"


def remember_requested_page() -> None:
    """A signed-out visitor who opened a link (e.g. /case_detail?case_no=...) gets there after signing in."""
    if _REQUESTED in st.session_state:
        return
    from urllib.parse import urlparse

    try:
        path = urlparse(st.context.url or "").path.rstrip("/").rsplit("/", 1)[-1]
    except Exception:  # no browser context (AppTest, bare mode)
        path = ""
    st.session_state[_REQUESTED] = {"page": path, "params": st.query_params.to_dict()}


def go_to_requested_page(actor: Actor) -> None:
    """Once, right after sign-in: open the page the link asked for, if the person's roles allow it."""
    from dashboard.ui.navigation import pages_for

    requested = st.session_state.pop(_REQUESTED, None)
    if not requested or not requested["page"] or requested["page"] == "home":
        return
    for spec in pages_for(actor):
        if spec.key == requested["page"]:
            st.switch_page(spec.script, query_params=requested["params"] or None)
