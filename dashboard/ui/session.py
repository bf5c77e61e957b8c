"""Signed-in state kept in st.session_state, with idle expiry and per-page role checks."""
from __future__ import annotations

import streamlit as st

from dashboard import clock
from dashboard.i18n import DEFAULT_LANGUAGE, set_language, t
from dashboard.services.actor import Actor, load_actor
from dashboard.services.rule_settings import get_setting
from dashboard.ui.db import db_session
from dashboard.ui.navigation import page_spec

_AUTH_KEY = "auth"


def sign_in(actor: Actor) -> None:
    st.session_state[_AUTH_KEY] = {"person_id": actor.person_id, "last_seen": clock.epoch_seconds()}
    st.session_state.pop("auth_notice", None)


def sign_out(notice_key: str | None = None) -> None:
    """Forget who is signed in and the case they had open (widget keys are left to Streamlit)."""
    for key in (_AUTH_KEY, "case_id"):
        st.session_state.pop(key, None)
    if notice_key:
        st.session_state["auth_notice"] = notice_key


def current_actor() -> Actor | None:
    """The signed-in actor, or None; an idle session is signed out with a notice."""
    auth = st.session_state.get(_AUTH_KEY)
    if not auth:
        return None
    with db_session() as session:
        idle_minutes = float(get_setting(session, "session.idle_minutes"))
        if clock.epoch_seconds() - auth["last_seen"] > idle_minutes * 60:
            sign_out("auth.expired")
            return None
        actor = load_actor(session, auth["person_id"])
    if actor is None:
        sign_out()
        return None
    auth["last_seen"] = clock.epoch_seconds()
    return actor


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
