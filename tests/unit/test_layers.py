"""The layers hold (docs/DESIGN.md): pages → ui → services → rules, db below services; demo data
above the services; migrations stand alone. An import against the direction fails here."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# package (as a path under the root) → module prefixes it must never import
FORBIDDEN = {
    "dashboard/rules": ("streamlit", "sqlalchemy.orm", "dashboard.services", "dashboard.ui", "dashboard.demo", "db",
                        "pages", "jobs"),
    "dashboard/services": ("streamlit", "dashboard.ui", "dashboard.demo", "pages"),
    "db": ("streamlit", "dashboard.services", "dashboard.ui", "dashboard.demo", "pages", "jobs"),
    "jobs": ("streamlit", "dashboard.ui", "pages"),
    "dashboard/ui": ("dashboard.demo", "pages"),
}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_import_against_the_layers(package):
    wrong = []
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" in path.parts and package == "db":
            continue  # tests/integration/test_migrations_stand_alone.py: they import nothing of ours
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN[package]):
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert wrong == []


def test_pages_write_no_sql():
    for path in sorted((ROOT / "pages").glob("*.py")):
        assert not any(n.startswith(("sqlalchemy", "psycopg2", "db.")) or n == "db" for n in _imports(path)), path.name


def test_the_repository_cites_only_itself():
    """Design and rules are in docs/ (DOMAIN.md, DESIGN.md): no file points outside the repository."""
    import subprocess

    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    if not tracked:  # not a git checkout (an unpacked archive): read the tree instead
        tracked = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if ".venv" not in p.parts]
    outside = []
    for name in tracked:
        path = ROOT / name
        if path.suffix not in (".py", ".md", ".toml", ".txt", ".sh") or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for needle in ("../" + "shared", "SPEC" + " §", "SPEC" + ".md"):  # (split: this file is read too)
            if needle in text:
                outside.append(f"{name}: {needle}")
    assert outside == []
    for doc in ("docs/DOMAIN.md", "docs/DESIGN.md"):
        assert (ROOT / doc).is_file(), doc
