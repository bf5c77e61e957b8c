"""Sidebar (who is signed in, language, sign-out) and the start-up schema check."""
from __future__ import annotations

import json

import streamlit as st
from sqlalchemy.exc import OperationalError

from dashboard.i18n import LANGUAGES, current_language, t
from dashboard.services.actor import Actor
from dashboard.ui.session import sign_out
from db.engine import DatabaseNotConfigured, database_url, get_engine
from db.schema import SchemaOutdated, ensure_schema_current

_LANGUAGE_NAMES = {"zh": "简体中文", "en": "English"}


@st.cache_resource(show_spinner=False, ttl=30)
def _schema_status(url: str, language: str) -> str | None:
    try:
        ensure_schema_current(get_engine(url))
    except SchemaOutdated as exc:
        return t("app.schema_outdated", detail=str(exc))
    except (OperationalError, DatabaseNotConfigured) as exc:
        return t("app.db_unreachable", detail=str(exc).splitlines()[0])
    return None


def schema_problem() -> str | None:
    """None when the database is reachable and up to date; otherwise the message to show."""
    try:
        url = database_url()
    except DatabaseNotConfigured as exc:
        return t("app.db_unreachable", detail=str(exc))
    return _schema_status(url, current_language())


def render_sidebar(actor: Actor, sections: dict[str, list]) -> None:
    """The person's own menu (only the pages their roles allow), who they are, language, sign-out."""
    with st.sidebar:
        st.markdown(f"### {t('app.title')}")
        for section, pages in sections.items():
            st.caption(section)
            for page in pages:
                st.page_link(page)
        st.divider()
        st.caption(t("auth.signed_in_as", name=actor.full_name))
        roles = "、".join(sorted({t(f"role.{r}") for r in actor.roles}))
        st.caption(t("auth.roles", roles=roles))
        names = [_LANGUAGE_NAMES[code] for code in LANGUAGES]
        choice = st.selectbox(t("app.language"), names, index=LANGUAGES.index(st.session_state["lang"]),
                              key="lang_select")
        chosen = LANGUAGES[names.index(choice)]
        if chosen != st.session_state["lang"]:
            st.session_state["lang"] = chosen
            st.rerun()
        st.button(t("auth.sign_out"), key="sign_out", on_click=sign_out)


# Streamlit's own words are in English only (1.67 has no language setting):
# - the hints under text inputs ("Press Enter to submit form"): hidden; pressing Enter still works,
#   and where it matters the field's placeholder says so in the person's language;
# - the file uploader's button ("Upload") and its "200MB per file • CSV, XLSX": the button says
#   the catalog's words, the server-wide 200 MB (not the limit a page enforces) gives way to a
#   drop hint, and each uploader's label names its own limit and file types.
_UPLOADER = "[data-testid='stFileUploaderDropzone']"
_SHELL_CSS = """
[data-testid='InputInstructions'] {{ display: none; }}
{uploader} [data-testid='stBaseButton-secondary'] p {{ display: none; }}
{uploader} [data-testid='stBaseButton-secondary']::after {{ content: {choose}; font-size: 0.875rem; }}
[data-testid='stFileUploaderDropzoneInstructions'] > * {{ display: none; }}
[data-testid='stFileUploaderDropzoneInstructions']::after {{ content: {drop}; font-size: 0.875rem; opacity: 0.7; }}
"""


def replace_streamlit_english() -> None:
    css = _SHELL_CSS.format(uploader=_UPLOADER, choose=json.dumps(t("upload.choose"), ensure_ascii=False),
                            drop=json.dumps(t("upload.drop_hint"), ensure_ascii=False))
    st.html(f"<style>{css}</style>")
