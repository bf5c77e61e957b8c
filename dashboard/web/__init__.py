"""The web server people use (server.py): Streamlit's own server plus the session routes
(session_routes.py; the cookie's name and paths are services/web_sessions', shared with the pages)."""
from __future__ import annotations

# The one entry that `python3.11 -m dashboard.launcher serve` and the browser tests start, so the
# tests test what users run (`streamlit run` finds the st.App in it).
SERVER_SCRIPT = "dashboard/web/server.py"
