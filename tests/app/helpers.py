"""AppTest helpers: run the real streamlit_app.py against the test database, signed in."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from db.demo_org import DEMO_PASSWORD

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
TIMEOUT = 60


def new_app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=TIMEOUT)


def sign_in(at: AppTest, username: str, password: str = DEMO_PASSWORD) -> AppTest:
    at.run()
    at.text_input(key="sign_in_username").input(username)
    at.text_input(key="sign_in_password").input(password)
    at.button[0].click()
    at.run()
    return at


def signed_in_app(db_url: str, username: str, page_key: str | None = None) -> AppTest:
    """Signed in as `username` (DATABASE_URL already points at db_url via the fixture)."""
    at = sign_in(new_app(), username)
    assert not at.exception, at.exception
    if page_key:
        at.switch_page(f"pages/{page_key}.py")
        at.run()
    return at
