"""`launcher serve` stopped by SIGTERM (a service manager, `docker stop`, `kill`) stops what it started.

Python's default for SIGTERM ends the process on the spot: the dashboard kept its port and the job
scheduler kept running, so the next `serve` could not start, and the embedded database was left up.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, proc: subprocess.Popen, log: Path, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            assert proc.poll() is None, log.read_text(errors="replace")
            time.sleep(0.3)
    raise AssertionError(f"the dashboard never opened port {port}:\n{log.read_text(errors='replace')}")


def test_sigterm_stops_the_dashboard_and_the_scheduler(db_url: str, org) -> None:
    # `org`: the database holds people already, so `serve` loads no demo data over them.
    port = _free_port()
    log = Path(tempfile.mkstemp(prefix="launcher-", suffix=".log")[1])
    with log.open("wb") as out:
        launcher = subprocess.Popen(
            [sys.executable, "-m", "dashboard.launcher", "serve", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=ROOT, env={**os.environ, "DATABASE_URL": db_url}, stdout=out, stderr=subprocess.STDOUT)
    children: list[psutil.Process] = []
    try:
        _wait_for_port(port, launcher, log)
        children = psutil.Process(launcher.pid).children(recursive=True)
        commands = [" ".join(c.cmdline()) for c in children]
        assert any("streamlit" in c for c in commands) and any("jobs.scheduler" in c for c in commands), commands

        launcher.send_signal(signal.SIGTERM)
        assert launcher.wait(timeout=30) is not None
        gone, alive = psutil.wait_procs(children, timeout=15)
        assert alive == [], [" ".join(p.cmdline()) for p in alive]
    finally:
        if launcher.poll() is None:
            launcher.kill()
        for child in children:
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass
        log.unlink(missing_ok=True)


def test_serve_runs_the_web_server_that_keeps_sessions_across_reloads(db_url: str, org) -> None:
    """`serve` starts dashboard/web/server.py (the app plus the session routes), the same entry the
    browser tests start, not a bare `streamlit run streamlit_app.py` that has no such routes."""
    import urllib.error
    import urllib.request

    port = _free_port()
    log = Path(tempfile.mkstemp(prefix="launcher-", suffix=".log")[1])
    with log.open("wb") as out:
        launcher = subprocess.Popen(
            [sys.executable, "-m", "dashboard.launcher", "serve", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=ROOT, env={**os.environ, "DATABASE_URL": db_url}, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, launcher, log)
        # An unknown ticket: the session route refuses it (a bare Streamlit server answers its page).
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/session/establish?ticket=unknown", timeout=30)
        assert refused.value.code == 404 and refused.value.headers["Cache-Control"] == "no-store"
        assert "set-cookie" not in {name.lower() for name in refused.value.headers}
    finally:
        children = psutil.Process(launcher.pid).children(recursive=True) if launcher.poll() is None else []
        launcher.send_signal(signal.SIGTERM)
        try:
            launcher.wait(timeout=30)
        except subprocess.TimeoutExpired:
            launcher.kill()
        for child in children:
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass
        log.unlink(missing_ok=True)
