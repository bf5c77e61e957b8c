"""A stand-in SMS gateway for the kill test of jobs/send_notifications (issue 18), plugged in as
NOTIFICATION_SENDER=tests.notification_probe:sender in a real `python -m jobs.send_notifications`.

It keeps its log in the file NOTIFICATION_PROBE_LOG, one line per call that reached it
(`key<TAB>id<TAB>accepted|duplicate<TAB>body`), written and closed before the call returns, so a
SIGKILL of the job leaves every call it made on record. Like a real gateway it deduplicates on the
message's idempotency key: a repeat is answered as a success but marked `duplicate`, not delivered
again. NOTIFICATION_PROBE_DELAY seconds of latency after accepting (the gateway's answer on its
way back) make a kill land mid-run, usually between acceptance and the job's commit.
"""
from __future__ import annotations

import fcntl
import os
import time
from dataclasses import dataclass
from pathlib import Path

from jobs.send_notifications import OutgoingMessage


@dataclass(frozen=True)
class ProbeCall:
    key: str
    notification_id: int
    outcome: str  # "accepted" (delivered to the person) or "duplicate" (dropped by key)
    body: str


def read_calls(path: Path) -> list[ProbeCall]:
    """Every call the probe gateway received, in order."""
    if not path.exists():
        return []
    calls = []
    for line in path.read_text(encoding="utf-8").splitlines():
        key, notification_id, outcome, body = line.split("\t", 3)
        calls.append(ProbeCall(key, int(notification_id), outcome, body))
    return calls


class ProbeGateway:
    def __init__(self, path: Path, delay: float) -> None:
        self._path = path
        self._delay = delay

    def send(self, message: OutgoingMessage) -> None:
        key = message.idempotency_key
        body = message.body.replace("\t", " ").replace("\n", " ")
        with self._path.open("a+", encoding="utf-8") as log:
            fcntl.flock(log, fcntl.LOCK_EX)  # one gateway: the check and the record are one step
            log.seek(0)
            seen = any(line.split("\t", 1)[0] == key for line in log.read().splitlines())
            log.write(f"{key}\t{message.notification_id}\t{'duplicate' if seen else 'accepted'}\t{body}\n")
        time.sleep(self._delay)


def sender() -> ProbeGateway:
    return ProbeGateway(Path(os.environ["NOTIFICATION_PROBE_LOG"]),
                        float(os.environ.get("NOTIFICATION_PROBE_DELAY", "0")))
