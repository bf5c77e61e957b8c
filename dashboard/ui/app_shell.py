"""Sidebar (the person's menu, who is signed in, language, sign-out) and the start-up schema check."""
from __future__ import annotations

import json

import streamlit as st
from sqlalchemy.exc import OperationalError

from dashboard.i18n import DEFAULT_LANGUAGE, LANGUAGES, current_language, t
from dashboard.services.actor import Actor
from dashboard.ui.format import plain
from dashboard.ui.session import remember_language, sign_out
from db.engine import DatabaseNotConfigured, database_url, owner_engine
from db.outage import database_unavailable
from db.schema import SchemaOutdated, ensure_schema_current

@st.cache_resource(show_spinner=False, ttl=30)
def _schema_status(url: str, language: str) -> str | None:
    try:
        # As the URL's own user: a database from before migration 0027 has no claims_app role yet,
        # and the person must read "run migrate", not a connection error.
        ensure_schema_current(owner_engine(url))
    except SchemaOutdated as exc:
        return t("app.schema_outdated", detail=str(exc))
    except (OperationalError, DatabaseNotConfigured) as exc:
        if database_unavailable(exc):
            raise  # not cached: the page waits for the database and retries (ui/db_outage)
        return t("app.db_unreachable", detail=str(exc).splitlines()[0])  # e.g. a wrong password
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
        st.caption(t("auth.signed_in_as", name=plain(actor.full_name)))
        st.caption(t("auth.roles", roles=roles_text(actor)))
        language_picker("lang_select")
        st.button(t("auth.sign_out"), key="sign_out", on_click=sign_out)
        # On a phone the menu lies over the page: close it once a page is chosen (issue 27).
        st.html(_CLOSE_MENU_AFTER_CHOICE, unsafe_allow_javascript=True)


def roles_text(actor: Actor) -> str:
    """The person's roles as the menu names them: a first responsible person's post beside the role
    (第一责任人（三级机构理赔负责人）), since the post is what decides their approvals and dispatches."""
    names = {t("auth.role_post", role=t(f"role.{a.role}"), post=t(f"position.{a.position}")) if a.position
             else t(f"role.{a.role}") for a in actor.assignments}
    return "、".join(sorted(names))


def language_picker(key: str, width: int | str = "stretch") -> None:
    """简体中文 / English, on the sign-in page and in the menu; the choice is the session's, so a
    reload or a new tab keeps it. The callback runs before the page, which is drawn in the new language."""
    current = st.session_state.get("lang", DEFAULT_LANGUAGE)
    st.selectbox(t("app.language"), LANGUAGES, index=LANGUAGES.index(current), key=key,
                 format_func=lambda code: t(f"auth.language_name.{code}"),
                 on_change=lambda: remember_language(st.session_state[key]), width=width)


# Streamlit closes its own page menu on a phone after a choice, but not a sidebar of page links.
# Below its "md" breakpoint (768 px) the sidebar covers the page: a chosen link closes it, as the
# sidebar's own close button does. Installed once per browser tab.
_CLOSE_MENU_AFTER_CHOICE = """<script>
(() => {
  if (window.claimsCloseMenuAfterChoice) return;
  window.claimsCloseMenuAfterChoice = true;
  document.addEventListener("click", (event) => {
    const link = event.target.closest("[data-testid='stSidebar'] [data-testid='stPageLink-NavLink']");
    if (!link || !window.matchMedia("(max-width: 768px)").matches) return;
    const close = document.querySelector("[data-testid='stSidebarCollapseButton'] button");
    if (close) close.click();
  }, true);
})();
</script>"""


# The page-wide style. The hidden frames that hand the session cookie to the browser and take it
# back (ui/session.py) take no room. Streamlit's own words are in English only (1.67 has no
# language setting):
# - the hints under text inputs ("Press Enter to submit form"): hidden; pressing Enter still works,
#   and where it matters the field's placeholder says so in the person's language; a field with a
#   length limit shows its character counter again while typing, without the English line;
# - the file uploader's button ("Upload") and its "200MB per file • CSV, XLSX": the button says
#   the catalog's words, the server-wide 200 MB (not the limit a page enforces) gives way to a
#   drop hint, and each uploader's label names its own limit and file types.
_UPLOADER = "[data-testid='stFileUploaderDropzone']"
_SHELL_CSS = """
[data-testid='InputInstructions'] {{ display: none; }}
[data-testid='InputInstructions']:has(> span + span) {{ display: block !important; }}
[data-testid='InputInstructions'] > span:first-child:has(+ span) {{ display: none; }}
[data-testid='InputInstructions'] > span + span::before {{ content: none !important; }}
{uploader} [data-testid='stBaseButton-secondary'] p {{ display: none; }}
{uploader} [data-testid='stBaseButton-secondary']::after {{ content: {choose}; font-size: 0.875rem; }}
[data-testid='stFileUploaderDropzoneInstructions'] > * {{ display: none; }}
[data-testid='stFileUploaderDropzoneInstructions']::after {{ content: {drop}; font-size: 0.875rem; opacity: 0.7; }}
.stElementContainer:has(iframe[src*='/api/session/']) {{ display: none; }}
{date} [data-placeholder='true'] {{ font-size: 0 !important; }}
{date} [data-placeholder='true']::after {{ font-size: 14px; }}
{date} [data-placeholder='true'][data-type='year']::after {{ content: {year}; }}
{date} [data-placeholder='true'][data-type='month']::after {{ content: {month}; }}
{date} [data-placeholder='true'][data-type='day']::after {{ content: {day}; }}
"""
# - an empty date field's parts read "yyyy-mm-dd" (its field is always drawn in en-US): each empty
#   part shows the catalog's 年/月/日 instead (its own text is drawn at size 0: the part stays where
#   it was, focusable and typed into as before).
_DATE_FIELD = "[data-testid='stDateInputField']"

# Messages Streamlit's browser code writes itself, in English, into a tooltip, a screen-reader line or
# a dialog: a date outside the field's range (any date field: Streamlit allows ten years either side
# of its value), a file over the server's upload limit or of a type not accepted, an address that is
# not one of the person's pages. Each text node of those
# places that matches one of these patterns is rewritten in place with the catalog's words ({1}, {2}:
# the pattern's groups); a node that no longer matches is left alone, so the rewrite settles.
_STREAMLIT_MESSAGES = (
    (r"^Error$", "shell.error"),
    (r"^Error: $", "shell.error_prefix"),
    (r"^: Date set outside allowed range\. Please select a date between (.+) and (.+)\.$", "shell.date_out_of_range"),
    (r"^: Date set outside allowed range\. Please select a date on or after (.+)\.$", "shell.date_too_early"),
    (r"^: Date set outside allowed range\. Please select a date on or before (.+)\.$", "shell.date_too_late"),
    (r"^(?:Error: )?File must be (.+) or smaller\.$", "shell.upload_too_large"),
    (r"^(?:Error: )?(.+) files are not allowed\.$", "shell.upload_wrong_type"),
    (r"^(?:Error: )?Only one file is allowed\.$", "shell.upload_one_file"),
    (r"^(?:Error: )?Unexpected error\. Please try again\.$", "shell.upload_failed"),
    (r"^add icon$", "shell.add_file"),
    # An address the person's menu does not hold (a page their roles cannot open, or none at all):
    # Streamlit opens the home page under a dialog of its own.
    (r"^Page not found$", "shell.page_not_found_title"),
    (r"^The page that you have requested does not seem to exist\. Running the app's main page\.$",
     "shell.page_not_found"),
    (r"^You have requested page /(.+), but no corresponding file was found in the app's pages/ directory\. "
     r"Running the app's main page\.$", "shell.page_not_found"),
)
_TRANSLATE = """<script>
(() => {
  window.claimsMessages = %s;
  if (window.claimsTranslate) { window.claimsTranslate(); return; }
  const places = "[data-testid='stTooltipErrorContent'], [data-testid='stFileUploader'], [role='dialog']";
  window.claimsTranslate = () => {
    for (const place of document.querySelectorAll(places)) {
      const walker = document.createTreeWalker(place, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (const [pattern, words] of window.claimsMessages) {
          const match = node.nodeValue.match(new RegExp(pattern));
          if (!match) continue;
          const text = words.replace(/\{(\d)\}/g, (_, i) => match[+i] ?? "");
          if (text !== node.nodeValue) node.nodeValue = text;
          break;
        }
      }
    }
  };
  new MutationObserver(window.claimsTranslate).observe(document.body,
    {childList: true, subtree: true, characterData: true});
  window.claimsTranslate();
})();
</script>"""


def replace_streamlit_english() -> None:
    css = _SHELL_CSS.format(uploader=_UPLOADER, choose=json.dumps(t("upload.choose"), ensure_ascii=False),
                            drop=json.dumps(t("upload.drop_hint"), ensure_ascii=False), date=_DATE_FIELD,
                            year=json.dumps(t("shell.date.year"), ensure_ascii=False),
                            month=json.dumps(t("shell.date.month"), ensure_ascii=False),
                            day=json.dumps(t("shell.date.day"), ensure_ascii=False))
    st.html(f"<style>{css}</style>")
    messages = [(pattern, t(key)) for pattern, key in _STREAMLIT_MESSAGES]
    st.html(_TRANSLATE % json.dumps(messages, ensure_ascii=False), unsafe_allow_javascript=True)
