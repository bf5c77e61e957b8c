"""`python -m jobs.scheduler`: run the jobs of jobs/crontab on their schedule, in-process.

For the embedded default (no system cron): the launcher starts it in the background of `serve`.
It reads jobs/crontab (standard cron syntax; `CRON_TZ=` sets the zone the times are read in),
takes each line's `-m jobs.<name>` module and runs `python -m jobs.<name>` as a subprocess when
due, with this Python and the project root as working directory. A module that does not exist
(yet) is skipped with a log line; a job still running from its last start is not started again
(each job also holds its own advisory lock). `--list` prints the next run of each job and exits.
"""
from __future__ import annotations

import argparse
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from croniter import croniter

from dashboard import clock
from jobs._common import job_logger

ROOT = Path(__file__).resolve().parent.parent
CRONTAB = Path(__file__).resolve().parent / "crontab"
_ENV_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")
_MODULE = re.compile(r"-m\s+(jobs\.[A-Za-z_][A-Za-z0-9_]*)")
MAX_SLEEP_SECONDS = 30.0

log = job_logger("scheduler")


@dataclass(frozen=True)
class CronEntry:
    expression: str  # the five cron fields
    module: str  # jobs.<name>
    command: str  # the line's command, as written
    tz: ZoneInfo

    @property
    def name(self) -> str:
        return self.module.split(".", 1)[1]

    def module_exists(self, root: Path = ROOT) -> bool:
        return (root / "jobs" / f"{self.name}.py").exists()

    def next_after(self, moment: datetime) -> datetime:
        """The first scheduled time strictly after `moment`, in the entry's time zone."""
        return croniter(self.expression, moment.astimezone(self.tz)).get_next(datetime)


def parse_crontab(content: str) -> list[CronEntry]:
    """Job lines of a crontab: five fields then a command naming `-m jobs.<name>`; others are ignored."""
    tz = ZoneInfo("UTC")
    entries: list[CronEntry] = []
    for number, raw in enumerate(content.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        env = _ENV_LINE.match(line)
        if env and not line[0].isdigit() and not line.startswith("*"):
            if env.group(1) in ("CRON_TZ", "TZ"):
                tz = ZoneInfo(env.group(2).strip().strip('"'))
            continue
        fields = line.split(None, 5)
        if len(fields) < 6:
            raise ValueError(f"crontab line {number}: expected five time fields and a command: {raw!r}")
        expression, command = " ".join(fields[:5]), fields[5]
        if not croniter.is_valid(expression):
            raise ValueError(f"crontab line {number}: invalid schedule {expression!r}")
        module = _MODULE.search(command)
        if module is None:
            raise ValueError(f"crontab line {number}: no `-m jobs.<name>` module in {command!r}")
        entries.append(CronEntry(expression, module.group(1), command, tz))
    return entries


def load_crontab(path: Path = CRONTAB) -> list[CronEntry]:
    return parse_crontab(path.read_text(encoding="utf-8"))


class Scheduler:
    def __init__(self, entries: list[CronEntry], *, root: Path = ROOT, python: str = sys.executable) -> None:
        self.entries = entries
        self.root = root
        self.python = python
        self.running: dict[str, subprocess.Popen] = {}
        self.stopping = False
        now = clock.now()
        self.next_run = {e.module: e.next_after(now) for e in entries}

    def start(self, entry: CronEntry) -> None:
        if not entry.module_exists(self.root):
            log.info("skipping %s: module jobs/%s.py does not exist yet", entry.module, entry.name)
            return
        previous = self.running.get(entry.module)
        if previous is not None and previous.poll() is None:
            log.info("skipping %s: the previous run (pid %d) is still going", entry.module, previous.pid)
            return
        log.info("starting %s", entry.module)
        self.running[entry.module] = subprocess.Popen([self.python, "-m", entry.module], cwd=self.root)

    def reap(self) -> None:
        for module, process in list(self.running.items()):
            code = process.poll()
            if code is not None:
                if code != 0:
                    log.error("%s exited with status %d", module, code)
                del self.running[module]

    def tick(self, now: datetime) -> None:
        """Start every entry whose time has come, then schedule its next run."""
        self.reap()
        for entry in self.entries:
            if self.next_run[entry.module] <= now:
                self.start(entry)
                self.next_run[entry.module] = entry.next_after(now)

    def run_forever(self) -> None:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        log.info("scheduler started with %d job(s): %s", len(self.entries),
                 ", ".join(f"{e.module} [{e.expression}]" for e in self.entries))
        while not self.stopping:
            now = clock.now()
            self.tick(now)
            wait = (min(self.next_run.values()) - clock.now()).total_seconds()
            slept = 0.0
            while not self.stopping and slept < max(0.5, min(MAX_SLEEP_SECONDS, wait)):
                time.sleep(0.5)  # short slices: SIGTERM from the launcher is honoured at once
                slept += 0.5
        for process in self.running.values():
            if process.poll() is None:
                process.terminate()
        log.info("scheduler stopped")

    def _stop(self, *_: object) -> None:
        self.stopping = True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.scheduler")
    parser.add_argument("--crontab", type=Path, default=CRONTAB)
    parser.add_argument("--list", action="store_true", help="print each job's next run and exit")
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        entries = load_crontab(args.crontab)
    except (OSError, ValueError) as exc:
        log.error("cannot read the schedule: %s", exc)
        return 1
    if args.list:
        now = clock.now()
        for entry in entries:
            state = "" if entry.module_exists() else "  (module missing: skipped)"
            print(f"{entry.module:<28} {entry.expression:<14} next {entry.next_after(now):%Y-%m-%d %H:%M %Z}{state}")
        return 0
    Scheduler(entries).run_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
