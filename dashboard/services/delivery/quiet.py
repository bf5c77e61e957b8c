"""Quiet hours and digests (issue 22): people are not woken by the outbox.

Messages leave in working hours only: a working day of the working calendar (services/clocks/
calendar), from notify.work_from until notify.work_until, Asia/Shanghai. Outside them a queued
message is `held`, except an `urgent` one (a breach of a tiered case estimated at or above
notify.urgent_amount; services/clocks/violations), which goes at any hour. At the first run inside
working hours each person's held messages are folded into ONE digest (kind `digest`, queued like
any message): the held messages in short, the review points waiting for the person's answer, their
clocks due today and their violations since the last digest; the held rows become `digested`,
naming it. They stay on 我的消息, addressed to the person.

Once per person per window, however many runs: the fold of a person takes a transaction-level
advisory lock on them and re-reads their held rows under it, so a second run (or a copy running at
the same moment) finds none left; the digest's dedupe key `digest:<person>:<first held id>` would
refuse a second one anyway.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from dashboard.rules.delivery import in_working_hours
from dashboard.rules.work_calendar import parse_clock_time
from dashboard.services.clocks.calendar import load_calendar
from dashboard.services.outbox import kind_zh, zh
from dashboard.services.reference import all_settings
from dashboard.settings import BUSINESS_TZ

# First key of the per-person advisory lock of a fold (the jobs' own locks use 20261125).
DIGEST_LOCK_NAMESPACE = 20261222
DIGEST_KIND = "digest"
_SHOWN = 10  # lines per section of a digest; the rest are counted and are on 我的消息
_HELD_SHOWN = 20
_SNIPPET = 60


@dataclass(frozen=True)
class DeliveryRules:
    """What a run of the drain goes by, read once at its start."""
    working: bool  # inside working hours now
    retry_base_minutes: float
    max_attempts: int


def delivery_rules(session: Session, moment: datetime) -> DeliveryRules:
    settings = all_settings(session)
    working = in_working_hours(moment, load_calendar(session, moment), parse_clock_time(settings["notify.work_from"]),
                               parse_clock_time(settings["notify.work_until"]))
    return DeliveryRules(working, float(settings["notify.retry_base_minutes"]), int(settings["notify.max_attempts"]))


_HOLD = text("""
UPDATE notification SET state = 'held'
 WHERE id IN (SELECT id FROM notification
               WHERE state = 'queued' AND NOT urgent AND kind <> :digest
               ORDER BY id FOR UPDATE SKIP LOCKED)
""")


def hold_until_working_hours(conn: Connection) -> int:
    """Outside working hours: every queued message that is not urgent waits (`held`). A digest that
    is being retried stays queued (it goes at the next working hour, never into another digest);
    a row another run is sending is left to it. Commits; returns how many were held."""
    held = conn.execute(_HOLD, {"digest": DIGEST_KIND}).rowcount or 0
    conn.commit()
    return held


_HELD_PEOPLE = text("SELECT DISTINCT recipient_person_id FROM notification WHERE state = 'held' ORDER BY 1")
_LOCK_PERSON = text("SELECT pg_advisory_xact_lock(:ns, :person)")
_HELD_ROWS = text("""
SELECT n.id, n.kind, n.body, c.case_no, n.created_at
  FROM notification n LEFT JOIN claim_case c ON c.id = n.case_id
 WHERE n.recipient_person_id = :person AND n.state = 'held'
 ORDER BY n.id
   FOR UPDATE OF n
""")
_LAST_DIGEST = text("SELECT max(created_at) FROM notification WHERE recipient_person_id = :person AND kind = :digest")
# The review points waiting for the person's answer: their open D5 clocks (one per point and round).
_OPEN_POINTS = text("""
SELECT c.case_no, p.seq, p.body, d.due_at, count(*) OVER () AS total
  FROM deadline d
  JOIN opinion_point p ON p.id = claims_d5_part(d.kind, d.subject_key, 2)
  LEFT JOIN claim_case c ON c.id = d.case_id
 WHERE d.responsible_person_id = :person AND d.kind = 'D5' AND d.met_at IS NULL AND d.cancelled_at IS NULL
 ORDER BY d.due_at, d.id
 LIMIT :shown
""")
_DUE_TODAY = text("""
SELECT d.kind, c.case_no, ou.name AS unit, d.due_at, count(*) OVER () AS total
  FROM deadline d
  LEFT JOIN claim_case c ON c.id = d.case_id
  LEFT JOIN org_unit ou ON ou.id = d.branch_id
 WHERE (d.responsible_person_id = :person OR d.also_charged_person_id = :person)
   AND d.met_at IS NULL AND d.cancelled_at IS NULL AND d.due_at >= :day_start AND d.due_at < :day_end
 ORDER BY d.due_at, d.id
 LIMIT :shown
""")
_NEW_VIOLATIONS = text("""
SELECT v.kind, c.case_no, ou.name AS unit, v.due_at, count(*) OVER () AS total
  FROM violation v
  LEFT JOIN claim_case c ON c.id = v.case_id
  LEFT JOIN org_unit ou ON ou.id = v.branch_id
 WHERE v.person_id = :person AND v.found_at >= :since
   AND NOT EXISTS (SELECT 1 FROM violation_appeal a WHERE a.violation_id = v.id AND a.status = 'accepted')
 ORDER BY v.found_at DESC, v.id DESC
 LIMIT :shown
""")
_QUEUE_DIGEST = text("""
INSERT INTO notification (case_id, recipient_person_id, kind, body, dedupe_key, created_at, state, attempts)
VALUES (NULL, :person, :digest, :body, :key, :at, 'queued', 0)
RETURNING id
""")  # no row back: the key was queued before (the outbox's trigger skips it, migration 0047)
# By the person's index: the outbox is partitioned by month and the key is unique in notification_key,
# which no role of the product reads.
_DIGEST_BY_KEY = text("SELECT id FROM notification WHERE recipient_person_id = :person AND dedupe_key = :key")
_FOLD = text("UPDATE notification SET state = 'digested', digest_id = :digest WHERE id = ANY(:ids) AND state = 'held'")


def _at(moment: datetime, fmt: str = "%m-%d %H:%M") -> str:
    return moment.astimezone(BUSINESS_TZ).strftime(fmt)


def _snippet(body: str) -> str:
    one_line = " ".join(body.split())
    return one_line if len(one_line) <= _SNIPPET else one_line[:_SNIPPET - 1] + "…"


def _subject(case_no: str | None, unit: str | None) -> str:
    return zh("deadlines.notify.subject_case", case_no=case_no) if case_no else (unit or "—")


def _section(title_key: str, lines: list[str], total: int) -> list[str]:
    out = [zh(title_key, n=total)]
    if not lines:
        return out + [zh("delivery.digest.none")]
    out += [f"{n}. {line}" for n, line in enumerate(lines, 1)]
    if total > len(lines):
        out.append(zh("delivery.digest.more", n=total - len(lines)))
    return out


def digest_body(conn: Connection, person_id: int, held: list, moment: datetime) -> str:
    """The digest in Chinese: held messages in short, open points, clocks due today, new violations."""
    local = moment.astimezone(BUSINESS_TZ)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    since = conn.execute(_LAST_DIGEST, {"person": person_id, "digest": DIGEST_KIND}).scalar() or held[0].created_at
    points = conn.execute(_OPEN_POINTS, {"person": person_id, "shown": _SHOWN}).all()
    due = conn.execute(_DUE_TODAY, {"person": person_id, "shown": _SHOWN, "day_start": day_start,
                                    "day_end": day_start + timedelta(days=1)}).all()
    violations = conn.execute(_NEW_VIOLATIONS, {"person": person_id, "shown": _SHOWN, "since": since}).all()

    lines = [zh("delivery.digest.head", day=local.strftime("%Y-%m-%d"), n=len(held))]
    lines += _section("delivery.digest.held", [
        zh("delivery.digest.held_line", at=_at(r.created_at), kind=kind_zh(r.kind), body=_snippet(r.body))
        for r in held[:_HELD_SHOWN]], len(held))
    lines += _section("delivery.digest.points", [
        zh("delivery.digest.point_line", case=_subject(r.case_no, None), seq=r.seq, body=_snippet(r.body),
            due=_at(r.due_at)) for r in points], points[0].total if points else 0)
    lines += _section("delivery.digest.due_today", [
        zh("delivery.digest.due_line", subject=_subject(r.case_no, r.unit), kind=zh(f"deadlines.kind.{r.kind}"),
            due=_at(r.due_at, "%H:%M")) for r in due], due[0].total if due else 0)
    lines += _section("delivery.digest.violations", [
        zh("delivery.digest.violation_line", subject=_subject(r.case_no, r.unit),
            kind=zh(f"deadlines.kind.{r.kind}"), due=_at(r.due_at)) for r in violations],
        violations[0].total if violations else 0)
    lines.append(zh("delivery.digest.foot"))
    return "\n".join(lines)


def fold_digests(conn: Connection, moment: datetime, log: logging.Logger | None = None) -> int:
    """In working hours: fold each person's held messages into one digest, one transaction per
    person; returns how many digests were queued."""
    people = list(conn.execute(_HELD_PEOPLE).scalars())
    conn.commit()
    made = 0
    for person_id in people:
        conn.execute(_LOCK_PERSON, {"ns": DIGEST_LOCK_NAMESPACE, "person": person_id})
        held = conn.execute(_HELD_ROWS, {"person": person_id}).all()
        if not held:  # another run folded them meanwhile
            conn.commit()
            continue
        key = f"digest:{person_id}:{held[0].id}"
        digest_id = conn.execute(_QUEUE_DIGEST, {"person": person_id, "digest": DIGEST_KIND, "key": key, "at": moment,
                                                 "body": digest_body(conn, person_id, held, moment)}).scalar()
        made += digest_id is not None
        if digest_id is None:
            digest_id = conn.execute(_DIGEST_BY_KEY, {"person": person_id, "key": key}).scalar_one()
        conn.execute(_FOLD, {"digest": digest_id, "ids": [r.id for r in held]})
        conn.commit()
        if log is not None:
            log.info("digest %d queued for person %d: %d held message(s)", digest_id, person_id, len(held))
    return made
