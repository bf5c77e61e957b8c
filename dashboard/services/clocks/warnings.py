"""Early warnings (issue 22): each open clock warns its responsible person when a configured share
of its time has gone (settings deadline.warn_first_pct / deadline.warn_second_pct, 50 % and 80 %),
once per threshold — the breach itself is the violation job's message.

Set-based, one statement, run with the violation job (jobs/flag_overdue). Once each, whatever runs:
the message's dedupe key names the clock, the threshold and the person, and the outbox's unique key
drops a repeat, from a rerun or a copy running at the same moment. A run that finds a clock past
both thresholds (the job was down; the clock is short) sends the later warning only: the earlier
one would arrive stale and the person would read two messages for one clock."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from dashboard.i18n import CATALOG
from dashboard.rules.deadlines import DEADLINE_KINDS
from dashboard.services import reference
from dashboard.services.clocks.violations import _sql_template


@dataclass(frozen=True)
class WarningResult:
    warned: int


def _zh(key: str) -> str:
    return CATALOG[key][0]


def warning_shares(session: Session) -> tuple[int, ...]:
    """The thresholds in force, ascending, as whole percent of a clock's time."""
    shares = {int(reference.get_setting(session, key)) for key in ("deadline.warn_first_pct", "deadline.warn_second_pct")}
    return tuple(sorted(s for s in shares if 0 < s < 100))


def queue_warnings(session: Session, as_of: datetime) -> WarningResult:
    """Queue the warnings due as of `as_of`; the caller commits."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    shares = warning_shares(session)
    if not shares:
        return WarningResult(0)
    pre, post = _zh("deadlines.notify.subject_case").split("{case_no}")
    body, params = _sql_template(_zh("deadlines.notify.warning"), {
        "subject": ("CASE WHEN c.case_no IS NULL THEN ou.name "
                    "ELSE concat(CAST(:subj_pre AS text), c.case_no, CAST(:subj_post AS text)) END"),
        "kind_name": "kn.name", "share": "CAST(w.share AS text)",
        "due": "to_char(w.due_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')",
    }, "tw")
    kind_values = ", ".join(f"(CAST(:kn_{k} AS text), CAST(:kname_{k} AS text))" for k in DEADLINE_KINDS)
    kinds = {f"kn_{k}": k for k in DEADLINE_KINDS} | {f"kname_{k}": _zh(f"deadlines.kind.{k}") for k in DEADLINE_KINDS}
    sql = f"""
WITH kn (kind, name) AS (VALUES {kind_values}),
w AS (
    -- Each open clock not yet due, with the highest threshold its elapsed time has reached.
    SELECT d.id, d.case_id, d.branch_id, d.kind, d.due_at, d.responsible_person_id AS person_id,
           (SELECT max(s) FROM unnest(CAST(:shares AS int[])) s
             WHERE d.started_at + (d.due_at - d.started_at) * s / 100.0 <= :as_of) AS share
      FROM deadline d
     WHERE d.met_at IS NULL AND d.cancelled_at IS NULL AND d.due_at > :as_of
       AND d.responsible_person_id IS NOT NULL
       AND d.started_at + (d.due_at - d.started_at) * :first / 100.0 <= :as_of
),
queued AS (
    INSERT INTO notification (case_id, recipient_person_id, kind, body, dedupe_key, created_at, state, attempts)
    SELECT w.case_id, w.person_id, 'deadline_warning', {body},
           'warn:' || w.id || ':' || w.share || ':to:' || w.person_id, CAST(:as_of AS timestamptz), 'queued', 0
      FROM w JOIN kn ON kn.kind = w.kind
      LEFT JOIN claim_case c ON c.id = w.case_id
      LEFT JOIN org_unit ou ON ou.id = w.branch_id
     ORDER BY w.due_at, w.id
    RETURNING id  -- a key queued before is skipped by the outbox's trigger (migration 0047)
)
SELECT count(*) FROM queued
"""
    warned = session.execute(text(sql), {"as_of": as_of, "shares": list(shares), "first": shares[0],
                                         "subj_pre": pre, "subj_post": post, **params, **kinds}).scalar()
    return WarningResult(int(warned or 0))
