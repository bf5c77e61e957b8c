"""Peak memory of a real Streamlit server after a national user opened every page.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_claims .venv/bin/python -m bench.browser_memory

Starts `streamlit run streamlit_app.py` on a free port, signs in with Playwright + /usr/bin/chromium
as `admin` (hq_admin, national), clicks every page of the sidebar menu in turn and waits until the
page has finished running; RSS of the server process (children included) is sampled every 100 ms by
psutil. Prints one JSON line.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

from dashboard.i18n import CATALOG
from dashboard.ui.navigation import PAGES

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic", "--no-first-run"]
USER = "admin"
ADMIN_ROLES = {"hq_admin"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(proc: psutil.Process) -> float:
    total = proc.memory_info().rss
    for child in proc.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 2**20


def wait_idle(page, timeout: float = 120) -> None:
    """Until Streamlit's 'running' indicator has been gone for a moment."""
    deadline = time.monotonic() + timeout
    quiet_since = None
    while time.monotonic() < deadline:
        running = page.locator('[data-testid="stStatusWidget"]').count() > 0
        if running:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > 1.0:
            return
        time.sleep(0.1)
    raise TimeoutError("page did not finish running")


def main() -> int:
    from playwright.sync_api import sync_playwright

    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
                               "--server.address", "127.0.0.1", "--server.headless", "true"],
                              cwd=ROOT, env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    proc = psutil.Process(server.pid)
    peak = [0.0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            try:
                peak[0] = max(peak[0], rss_mb(proc))
            except psutil.NoSuchProcess:
                return
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("streamlit did not start")
                time.sleep(0.3)
        sampler.start()
        result = dict(user=USER, pages=[])
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(base + "/")
            page.get_by_label("用户名").wait_for(timeout=60_000)
            wait_idle(page)
            result["start_rss_mb"] = rss_mb(proc)
            page.get_by_label("用户名").fill(USER)
            page.get_by_label("密码").fill("demo1234")
            page.get_by_role("button", name="登录").click()
            page.get_by_role("button", name="退出登录").wait_for(timeout=60_000)
            wait_idle(page)
            result["signin_rss_mb"] = rss_mb(proc)
            for spec in PAGES:
                if not (spec.roles & ADMIN_ROLES):
                    continue
                title = CATALOG[spec.title_key][0]
                started = time.perf_counter()
                page.get_by_role("link", name=title).first.click()
                wait_idle(page)
                seconds = time.perf_counter() - started - 1.0  # wait_idle's quiet second
                errors = page.locator('[data-testid="stException"]').count()
                result["pages"].append(dict(page=spec.key, title=title, rss_mb=rss_mb(proc), seconds=seconds,
                                            exceptions=errors))
                print(f"{spec.key}: {result['pages'][-1]['rss_mb']:.0f} MB, {seconds:.1f} s", file=sys.stderr,
                      flush=True)
            browser.close()
        stop.set()
        result["peak_rss_mb"] = max(peak[0], *(p["rss_mb"] for p in result["pages"]))
        print(json.dumps(result))
        return 0
    finally:
        stop.set()
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    sys.exit(main())
