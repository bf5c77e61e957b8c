"""`streamlit run ...` with the test suite's pinned clock (tests/clock_pin.py), for the browser tests.

The browser tests' server is a process of its own: it starts at the moment the test started at
(CLAIMS_TEST_CLOCK, set by the test) and time runs on from there. Without it, the real time.
"""
from __future__ import annotations

import sys

from tests.clock_pin import start_process_pin

if __name__ == "__main__":
    start_process_pin(None)
    from streamlit.web.cli import main

    sys.argv = ["streamlit", *sys.argv[1:]]
    sys.exit(main())
