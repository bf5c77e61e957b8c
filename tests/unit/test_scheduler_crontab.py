"""jobs/crontab and the in-process scheduler that reads it (no database)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from dashboard import clock
from jobs.scheduler import CRONTAB, CronEntry, Scheduler, load_crontab, parse_crontab

SH = "Asia/Shanghai"


def test_the_project_crontab_lists_every_job_with_its_schedule_in_shanghai_time():
    entries = {e.name: e for e in load_crontab()}
    assert {name: e.expression for name, e in entries.items()} == {
        "flag_overdue": "*/5 * * * *",
        "flag_overdue_full": "33 2 * * *",
        "compact_case_counts": "2-59/5 * * * *",
        "daily_review_queue": "10 0 * * *",
        "weekly_summary": "0 17 * * 5",
        "send_notifications": "* * * * *",
        "maintain_partitions": "20 3 * * *",
    }
    assert all(str(e.tz) == SH for e in entries.values())
    lines = [line for line in CRONTAB.read_text().splitlines() if line and not line.startswith("#")]
    assert lines[0] == "CRON_TZ=Asia/Shanghai"  # cron runs in the machine's zone: pin it first


def test_weekly_summary_runs_friday_1700_shanghai_which_is_0900_utc():
    entry = {e.name: e for e in load_crontab()}["weekly_summary"]
    after = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)  # Wednesday
    assert entry.next_after(after).astimezone(timezone.utc) == datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)


def test_daily_review_queue_runs_at_0010_shanghai_the_previous_utc_evening():
    entry = {e.name: e for e in load_crontab()}["daily_review_queue"]
    after = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
    assert entry.next_after(after).astimezone(timezone.utc) == datetime(2026, 11, 25, 16, 10, tzinfo=timezone.utc)


def test_flag_overdue_runs_every_five_minutes():
    entry = {e.name: e for e in load_crontab()}["flag_overdue"]
    assert entry.next_after(datetime(2026, 11, 25, 12, 3, 20, tzinfo=timezone.utc)).minute == 5


def test_the_full_violation_pass_runs_nightly_between_two_five_minute_runs():
    entries = {e.name: e for e in load_crontab()}
    after = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
    full = entries["flag_overdue_full"].next_after(after)
    assert full.astimezone(timezone.utc) == datetime(2026, 11, 25, 18, 33, tzinfo=timezone.utc)  # 02:33 Shanghai
    assert full.minute % 5 != 0  # never started together with an incremental run (they share one lock)


def test_lines_without_a_jobs_module_or_with_a_bad_schedule_are_refused():
    with pytest.raises(ValueError, match="line 1"):
        parse_crontab("*/5 * * * * echo hello\n")
    with pytest.raises(ValueError, match="invalid schedule"):
        parse_crontab("61 * * * * python -m jobs.flag_overdue\n")


def test_environment_lines_and_comments_are_not_jobs():
    entries = parse_crontab("# c\nCRON_TZ=Asia/Shanghai\nPATH=/usr/bin\n\n0 1 * * * python -m jobs.x\n")
    assert [(e.expression, e.module, str(e.tz)) for e in entries] == [("0 1 * * *", "jobs.x", SH)]


def test_a_due_job_whose_module_does_not_exist_is_skipped_and_rescheduled(tmp_path):
    (tmp_path / "jobs").mkdir()
    entry = CronEntry("* * * * *", "jobs.not_written_yet", "python -m jobs.not_written_yet", ZoneInfo(SH))
    scheduler = Scheduler([entry], root=tmp_path)
    later = clock.now() + timedelta(minutes=2)
    scheduler.tick(later)
    assert scheduler.running == {}
    assert scheduler.next_run["jobs.not_written_yet"] > later


def test_a_due_job_that_exists_is_started_as_a_subprocess(tmp_path):
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "__init__.py").write_text("")
    marker = tmp_path / "ran.txt"
    (tmp_path / "jobs" / "touch.py").write_text(f"open({str(marker)!r}, 'w').write('ok')\n")
    scheduler = Scheduler([CronEntry("* * * * *", "jobs.touch", "python -m jobs.touch", ZoneInfo(SH))], root=tmp_path)
    scheduler.tick(clock.now() + timedelta(minutes=2))
    scheduler.running["jobs.touch"].wait(timeout=30)
    assert marker.read_text() == "ok"
