"""The web server people use (server.py): Streamlit's own server plus the session routes.

Constants here are shared by the server's routes and the pages (which must not import Starlette).
"""
from __future__ import annotations

# The one entry that `python3.11 -m dashboard.launcher serve` and the browser tests start, so the
# tests test what users run (`streamlit run` finds the st.App in it).
SERVER_SCRIPT = "dashboard/web/server.py"

# The session cookie: an HttpOnly, SameSite=Strict cookie holding a random token (never in a URL).
SESSION_COOKIE = "claims_session"
ESTABLISH_PATH = "api/session/establish"
CLEAR_PATH = "api/session/clear"


def route_path(path: str, base_url_path: str | None) -> str:
    """`/api/...` under Streamlit's server.baseUrlPath (empty by default)."""
    base = (base_url_path or "").strip("/")
    return f"/{base}/{path}" if base else f"/{path}"


def cookie_path(base_url_path: str | None) -> str:
    base = (base_url_path or "").strip("/")
    return f"/{base}" if base else "/"
