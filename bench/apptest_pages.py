"""Every page run whole through Streamlit's AppTest against DATABASE_URL; prints one JSON line.

Run by bench.run (1M-case database, an empty one with the same people, a 10,000-case one):
    DATABASE_URL=... .venv/bin/python -m bench.apptest_pages --case-id 123

Each page: one untimed run (a live server is past its start-up), then --cold first runs, the
figures cache emptied before each (`cold`: every aggregate read
from the database; median), then --repeat reruns (`warm`: what a click on the page costs, with
the figures cached for a minute by ui/read_cache; work lists are read live either way).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.demo.org import DEMO_PASSWORD

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")
# (page key, who opens it): a national HQ admin for every page it may open, a branch manager for
# the branch's own feedback page.
PAGES = (("home", "admin"), ("dispatch_board", "admin"), ("overdue", "admin"), ("hq_review", "admin"),
         ("overview", "admin"), ("weekly_summary", "admin"), ("supervision", "admin"), ("case_detail", "admin"),
         ("intake", "admin"), ("admin_rules", "admin"), ("branch_feedback", "b01_manager"))


def signed_in(username: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    if "sign_in_username" not in {w.key for w in at.text_input}:
        # A database behind the code's migrations (a bench database generated before the last one,
        # say) opens on a notice instead of the sign-in form: say so rather than a KeyError.
        shown = [e.value for e in (*at.error, *at.warning, *at.info)]
        raise SystemExit(f"no sign-in form on {APP}; the page shows: {shown or at.exception}")
    at.text_input(key="sign_in_username").input(username)
    at.text_input(key="sign_in_password").input(DEMO_PASSWORD)
    at.button[0].click()
    at.run()
    if at.exception:
        raise SystemExit(f"sign-in failed for {username}: {at.exception}")
    return at


def compile_once() -> None:
    """Every run of this process shares one script cache, as a live server does: it compiles each
    page's script once, while AppTest compiles (and rewrites for Streamlit's magic) the app and the
    page again on every run, 1-17 ms a page that no click on a server pays. Added to both sides of
    a ratio, that constant brings every page closer to its empty self."""
    from streamlit.testing.v1 import app_test, local_script_runner

    shared = app_test.ScriptCache()
    app_test.ScriptCache = local_script_runner.ScriptCache = lambda: shared


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--case-id", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--cold", type=int, default=9)
    parser.add_argument("--pages", default="", help="comma-separated page keys (default: every page)")
    parser.add_argument("--compile-once", action="store_true",
                        help="compile each script once for the whole process, as a live server does")
    args = parser.parse_args(argv)
    if args.compile_once:
        compile_once()
    only = {p.strip() for p in args.pages.split(",") if p.strip()}
    out = {}
    for key, username in PAGES:
        if only and key not in only:
            continue
        at = signed_in(username)
        if key == "case_detail" and args.case_id:
            at.session_state["case_id"] = args.case_id
        at.switch_page(f"pages/{key}.py")
        # One untimed run first: a live server has already imported the page's modules, compiled
        # its statements and built its chart schemas for earlier visitors. Without it the "first
        # run" measured this process's start-up (the tracker: 258 ms once, then ~65 ms), which a
        # page that draws no chart (an empty database) does not pay.
        at.run()
        # First runs: the figures cache (ui/read_cache) emptied before each; the median of a few, as
        # one sample on a shared machine was sometimes several times the others (a garbage
        # collection pass or the machine's other work).
        cold = []
        for _ in range(args.cold):
            st.cache_data.clear()
            started = time.perf_counter()
            at.run()
            cold.append(time.perf_counter() - started)
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - started)
        exception = [str(e.message)[:200] for e in at.exception] if at.exception else None
        out[key] = dict(user=username, cold=statistics.median(cold), seconds=statistics.median(times),
                        runs=cold + times, exception=exception)
        print(f"{key}: cold {statistics.median(cold):.2f} s, warm {statistics.median(times):.2f} s", file=sys.stderr,
              flush=True)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
