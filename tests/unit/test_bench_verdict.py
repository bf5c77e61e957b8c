"""The benchmark's verdict on a page (bench/run.py): the issue's targets applied to its figures,
and several rounds judged by the median of each figure, the worst kept beside it."""
from __future__ import annotations

import pytest

from bench.run import _median_runs, over_rounds, within_targets


def _page(key: str = "case_detail", *, median: float = 4.5, p95: float = 6.0, sql: float = 3.2, ratio: float = 1.45,
          code: float = 0.7, python: float = 0.8, speed: float = 2.0) -> dict:
    return dict(key=key, title=key, median_ms=median, p95_ms=p95, sql_ms=sql, sql_ratio=ratio, code_ms=code,
                python_ms=python, speed_ms=speed)


@pytest.mark.parametrize(("figures", "ok"), [
    (dict(code=1.0, sql=2.9, ratio=1.9), True),     # at the 1.0 ms line
    (dict(code=1.1, sql=2.9, ratio=1.4), False),    # over it, and too little SQL for the ratio to count
    (dict(code=1.1, sql=3.1, ratio=1.5), True),     # over 3 ms of SQL the ratio may carry it
    (dict(code=1.1, sql=3.1, ratio=1.59), False),
    (dict(code=0.3, median=151.0), False),          # slow pages fail whatever the overhead
    (dict(code=0.3, p95=301.0), False),
])
def test_a_page_is_judged_by_median_p95_and_what_our_code_adds(figures, ok):
    assert within_targets(_page(**figures)) is ok


def test_rounds_are_judged_by_each_figures_median_and_the_worst_is_kept():
    rounds = [[_page(code=0.7), _page("home", code=0.4, sql=0.2, ratio=4.1)],
              [_page(code=1.1, ratio=1.59, sql=3.5), _page("home", code=0.3, sql=0.2, ratio=3.9)],
              [_page(code=0.8), _page("home", code=1.2, sql=0.2, ratio=6.0)]]
    summary = {r["key"]: r for r in over_rounds(rounds)}
    detail, home = summary["case_detail"], summary["home"]
    assert (detail["code_ms"], detail["worst_code_ms"], detail["sql_ms"]) == (0.8, 1.1, 3.2)
    assert (detail["rounds"], detail["met"], detail["ok"]) == (3, 2, True)
    assert (home["code_ms"], home["worst_code_ms"], home["met"], home["ok"]) == (0.4, 1.2, 2, True)
    slow = over_rounds([[_page(code=1.2, sql=2.9)], [_page(code=1.3, sql=2.9)], [_page(code=0.6, sql=2.9)]])[0]
    assert (slow["code_ms"], slow["met"], slow["ok"]) == (1.2, 1, False)


def test_apptest_runs_in_turn_are_judged_by_each_pages_median():
    """bench_apptest --rounds: a page's seconds over the runs made in turn with the other databases'."""
    runs = [{"overview": dict(user="admin", seconds=s, cold=c, runs=[s], exception=None)}
            for s, c in ((0.050, 0.100), (0.090, 0.300), (0.060, 0.110))]
    assert _median_runs(runs) == {"overview": dict(user="admin", seconds=0.060, cold=0.110, runs=[0.050],
                                                   exception=None)}
