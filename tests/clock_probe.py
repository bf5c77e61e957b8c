"""Run only by tests/unit/test_clock.py, in a pytest of its own with --clock: prints the moment a
test and the product's clock see, so the outer test can check that --clock pinned them."""
from __future__ import annotations

from datetime import datetime, timezone

from dashboard import clock


def test_print_the_moment_seen() -> None:
    print(f"PRODUCT={clock.business_now().isoformat()} PLAIN={datetime.now(timezone.utc).isoformat()}")
