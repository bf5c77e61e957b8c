"""AppTest helpers: run the real streamlit_app.py against the test database, signed in."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from dashboard.demo.org import DEMO_PASSWORD

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


def tag_fills(table) -> dict[str, dict[str, str]]:
    """The coloured-label columns of a shown table (ui/tones): column -> label text -> fill colour."""
    settings = json.loads(table.proto.columns or "{}")
    return {column: {option["value"]: option.get("color") for option in setting["type_config"]["options"]}
            for column, setting in settings.items()
            if setting.get("type_config", {}).get("type") == "multiselect"}


def shown_frame(table) -> pd.DataFrame:
    """A shown table as people read it: each coloured-label cell as its text ("" when it has none)."""
    frame = table.value
    for column in tag_fills(table):
        frame[column] = ["".join(labels) for labels in frame[column]]
    return frame


def cell_fills(table, column: str) -> list[str | None]:
    """The fill of each row's label in `column` (None for a cell without one)."""
    fills = tag_fills(table)[column]
    return [fills[labels[0]] if len(labels) else None for labels in table.value[column]]
