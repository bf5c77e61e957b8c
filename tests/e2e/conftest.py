"""A real Streamlit server and a real headless Chromium (Debian package, driven by Playwright)."""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard import clock
from dashboard.web import SERVER_SCRIPT
from tests.clock_pin import CLOCK_ENV, pinned_moment

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerAddress(str):
    """The server's base URL (a str, as every test uses it) that also knows the server's log file,
    for a test that looks something up in the log as an administrator would."""

    log: Path


@pytest.fixture
def app_server(db_url: str, org, request: pytest.FixtureRequest, _pinned_clock: None) -> Iterator[str]:
    """The web server users run (dashboard/web/server.py, as `launcher serve` starts it) against this
    test's database; yields its base URL. The server starts at the test's own moment when the test
    states one or the suite is pinned (--clock)."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": db_url}
    if pinned_moment() is not None or request.node.get_closest_marker("moment") is not None:
        env[CLOCK_ENV] = clock.now().isoformat()
    # The server's output goes to a file, never an unread pipe (a full pipe would stall the server
    # mid-test); its end is printed at teardown, which pytest shows when the test failed.
    log = tempfile.NamedTemporaryFile("w+b", prefix="streamlit-", suffix=".log", delete=False)
    proc = subprocess.Popen([sys.executable, "-m", "tests.e2e.pinned_streamlit", "run", SERVER_SCRIPT, "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = ServerAddress(f"http://127.0.0.1:{port}")
    base.log = Path(log.name)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(Path(log.name).read_text(errors="replace"))
            time.sleep(0.3)
    try:
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        tail = Path(log.name).read_text(errors="replace").splitlines()[-60:]
        print("\n--- streamlit server log (end) ---\n" + "\n".join(tail), file=sys.stderr)
        os.unlink(log.name)


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        message = (f"BROWSER TESTS SKIPPED: {CHROMIUM} is not installed and could not be installed "
                   "(the launcher installs Debian chromium when run as root with apt-get).")
        print("\n" + "!" * 80 + "\n" + message + "\n" + "!" * 80, file=sys.stderr)
        pytest.skip(message)
    assert shutil.which("chromium") or Path(CHROMIUM).exists()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def sign_in(page, base: str, username: str, password: str = "demo1234") -> None:
    page.goto(base + "/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def wait_until_idle(page, timeout: float = 30_000) -> None:
    """Until the page's script run has finished (Streamlit's running indicator is gone): a button
    clicked mid-run may belong to elements the run is about to replace."""
    from playwright.sync_api import expect

    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=timeout)


def wait_for_db(read, session, until=bool, seconds: float = 20):
    """Read from the database until the browser's action has committed (or time runs out)."""
    deadline = time.monotonic() + seconds
    while True:
        session.rollback()
        value = read()
        if until(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.3)


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def settle(page, timeout: float = 30_000) -> None:
    """Until the rerun a click started has ended: its running status gone and no element of the
    previous run left on screen (Streamlit marks those data-stale until the run replaces them)."""
    from playwright.sync_api import expect

    page.wait_for_timeout(400)  # the rerun may not show its running status at once
    wait_until_idle(page)
    expect(page.locator("[data-stale='true']")).to_have_count(0, timeout=timeout)


def choose(page, label: str, option: str) -> None:
    """Open a dropdown once the page has settled, pick `option`, and check the box shows it. A rerun
    landing while the list is open closes it, and one landing just after the pick can draw the box
    again without it (under load, e.g. CI's two workers, or on a phone): then pick again."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect

    box = page.get_by_role("combobox", name=label)
    for attempt in range(3):
        settle(page)
        box.scroll_into_view_if_needed()
        box.click()
        try:
            page.get_by_role("option", name=option).first.click(timeout=8_000)
            settle(page)
            expect(box).to_have_value(re.compile(re.escape(option)), timeout=5_000)  # names match by part
            return
        except (PlaywrightTimeout, AssertionError):
            page.keyboard.press("Escape")
            if attempt == 2:
                raise
