"""The page scripts run with Streamlit's magic off (.streamlit/config.toml): a bare value on its own
line, which magic would write to the screen, would then show nothing. Every page draws through
explicit st.* calls; this names the line of any page that would rely on magic."""
from __future__ import annotations

import ast
import tomllib
from pathlib import Path

from streamlit.runtime.scriptrunner import magic

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = [ROOT / "streamlit_app.py", *sorted((ROOT / "pages").glob("*.py"))]


def _magic_lines(path: Path) -> list[int]:
    tree = magic.add_magic(path.read_text(encoding="utf-8"), str(path))
    return [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute) and node.func.attr == "transparent_write"]


def test_magic_is_off_for_the_server_and_for_apptest():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["runner"]["magicEnabled"] is False


def test_no_page_shows_a_bare_value_that_only_magic_would_write():
    assert len(SCRIPTS) > 10
    relying = {path.name: lines for path in SCRIPTS if (lines := _magic_lines(path))}
    assert relying == {}, f"lines that show nothing with magic off (use st.write): {relying}"


def test_the_scan_sees_a_bare_value(tmp_path: Path):
    page = tmp_path / "page.py"
    page.write_text('"""doc"""\nimport streamlit as st\nrows = 3\nrows\nst.write(rows)\n', encoding="utf-8")
    assert _magic_lines(page) == [4]
