"""The sign-in page: the only page a signed-out visitor can reach."""
from __future__ import annotations

import streamlit as st

from dashboard.i18n import t
from dashboard.services.auth import authenticate
from dashboard.services.errors import UserError
from dashboard.ui.app_shell import language_picker
from dashboard.ui.db import db_session
from dashboard.ui.session import clear_dead_cookie, sign_in


def sign_in_page() -> None:
    clear_dead_cookie()
    st.title(t("auth.heading"))
    notice = st.session_state.pop("auth_notice", None)
    if notice:
        st.info(t(notice))
    with st.form("sign_in", clear_on_submit=False):
        username = st.text_input(t("auth.username"), key="sign_in_username")
        password = st.text_input(t("auth.password"), type="password", key="sign_in_password")
        submitted = st.form_submit_button(t("auth.submit"), type="primary")
    # Outside the form: a form's widgets change nothing until it is submitted.
    language_picker("sign_in_lang", width=260)
    if submitted:
        try:
            with db_session() as session:
                actor = authenticate(session, username, password)
        except UserError as err:
            st.error(t(err.key, **err.params))
            return
        if not actor.roles:
            st.error(t("auth.no_roles"))
            return
        sign_in(actor)
        st.rerun()


def sign_in_aliases() -> list:
    """One hidden sign-in page at each page's address, so a link opened signed out shows the form."""
    from dashboard.ui.navigation import PAGES

    aliases = []
    for spec in PAGES:
        def alias() -> None:
            sign_in_page()

        alias.__name__ = f"sign_in_for_{spec.key}"
        aliases.append(st.Page(alias, title=t("page.sign_in"), url_path=spec.key))
    return aliases
