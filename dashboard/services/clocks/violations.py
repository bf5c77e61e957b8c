"""Flag missed deadlines as violations, once each, and queue the notifications — set-based SQL.

One statement finds every clock past due and not met on time (open past due, or met late: late
stays late), inserts one violation per charged person (the responsible person, and the
`also_charged_person_id` of 第三章 五) with ON CONFLICT DO NOTHING on (deadline, person), and
queues in the same statement, per run, to each charged person the message naming the case and
clock when the run found one of theirs, or ONE digest (counts by deadline kind) when it found
several, and ONE digest per superior (the tracker page has the list). Killed half way, the
transaction rolls back whole; run again, nothing already recorded is recorded twice.

Urgent (issue 22): a message reporting a breach of a tiered case whose current estimate is at or
above notify.urgent_amount is queued `urgent`, delivered at any hour instead of waiting for working
hours (services/delivery/quiet); a digest is urgent when one of the breaches it counts is.

Incremental (docs/SCALING.md step 5): the job's run (record_violations_since_last_run) reads only the
clocks that fell due since the previous run's moment or whose deciding columns changed since that run
began (deadline.updated_at, migration 0036), then moves the job's watermark in the same transaction;
with no watermark, or with full=True (the nightly pass), it reads every clock that can be late.

Why digests: a superior answers for a whole branch; a message per violation buried them (a
first run over old data would send a branch manager thousands), and a surveyor with forty missed
clocks reads one list better than forty messages. A message per violation also doubled the job's
writes (one notification row per violation row, each with its key and foreign-key checks).

Superior (who is told besides the charged person): a person who works in a sub-branch (surveyor,
sub-branch heads) → the branch's 分公司分级案件管理责任人 (branch_manager); a person of a branch
or of HQ → the HQ 分级案件管理责任人 (hq_admin). Never the charged person themself.
"""
from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, literal_column, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from dashboard.i18n import CATALOG
from dashboard.rules.deadlines import DEADLINE_KINDS, sql_met_late, sql_open_late
from dashboard.rules.tiers import NOT_TIERED
from dashboard.services import reference


@dataclass(frozen=True)
class FlagResult:
    violations: int
    notifications: int
    late_read: int = 0  # late clocks the run read (the unique key skips those already recorded)
    incremental: bool = False  # read only what fell due or changed since the previous run


@dataclass(frozen=True)
class Watermark:
    """Where the job's previous run left off (table job_watermark, migration 0036)."""

    as_of: datetime  # the business moment it ran as of (dashboard/clock.py, or --as-of)
    started_at: datetime  # the database's time its transaction started: what deadline.updated_at is compared with


WATERMARK_JOB = "flag_overdue"
# Re-read a little before the previous run. Its moment: a clock due exactly then was not late yet.
# Its start: deadline.updated_at is stamped when a change is made, not when it commits, so a change
# made before the previous run began but committed after its snapshot was invisible to it; one
# committed within this margin is read now. Re-reading is harmless (the unique key skips what is
# recorded); a writer holding a clock's change uncommitted longer than this is caught by the
# nightly full pass (jobs/crontab).
SAFETY_MARGIN = timedelta(minutes=15)


def _zh(key: str) -> str:
    return CATALOG[key][0]


def _sql_template(template: str, expressions: dict[str, str], prefix: str) -> tuple[str, dict[str, str]]:
    """Turn a catalog template with {placeholders} into a SQL concat() of bound literals and columns."""
    parts: list[str] = []
    params: dict[str, str] = {}
    for n, (literal, field, _spec, _conv) in enumerate(string.Formatter().parse(template)):
        if literal:
            name = f"{prefix}{n}"
            params[name] = literal
            parts.append(f"CAST(:{name} AS text)")
        if field:
            parts.append(expressions[field])
    return "concat(" + ", ".join(parts) + ")", params


def _as_text(condition) -> str:
    """A rule's SQL expression (rules/deadlines) as text for this statement (:as_of bound by name)."""
    return str(condition.compile(dialect=_NAMED_PARAMS))


_NAMED_PARAMS = postgresql.psycopg2.dialect(paramstyle="named")
_DUE, _MET = literal_column("d.due_at"), literal_column("d.met_at")
# Late stays late (is_violation): open past due, or met after due. A met-late clock is recorded
# only once its due time is behind the run's moment (a moment replayed in the past finds nothing new).
_LATE_SQL = (_as_text(sql_open_late(_DUE, _MET, bindparam("as_of"))), _as_text(sql_met_late(_DUE, _MET)))


def read_watermark(session: Session, *, lock: bool = False) -> Watermark | None:
    """The job's watermark, or None before its first run; `lock` holds the row until commit."""
    row = session.execute(text("SELECT as_of, started_at FROM job_watermark WHERE job = :job"
                               + (" FOR UPDATE" if lock else "")), {"job": WATERMARK_JOB}).one_or_none()
    return None if row is None else Watermark(row.as_of, row.started_at)


def record_violations_since_last_run(session: Session, as_of: datetime, *, full: bool = False) -> FlagResult:
    """The job's run: every violation as of `as_of`, reading only what fell due or changed since the
    previous run (all that can be late when there is none, or with `full`), and the new watermark in
    the same transaction: the caller commits both, or a failed run leaves the old one."""
    since = None if full else read_watermark(session, lock=True)
    result = record_violations(session, as_of, since=since)
    # now(): when this transaction began, on the database's clock, as updated_at is stamped.
    session.execute(text("""
        INSERT INTO job_watermark (job, as_of, started_at) VALUES (:job, :as_of, now())
        ON CONFLICT (job) DO UPDATE SET as_of = excluded.as_of, started_at = excluded.started_at"""),
                    {"job": WATERMARK_JOB, "as_of": as_of})
    return result


def record_violations(session: Session, as_of: datetime, *, deadline_ids: Sequence[int] | None = None,
                      since: Watermark | None = None) -> FlagResult:
    """Record every violation as of `as_of` (optionally only for `deadline_ids`; with `since`, only
    among the clocks that fell due after its moment or changed after its start, less SAFETY_MARGIN);
    caller commits."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    expressions = {
        # Clocks without a case (D6 weekly summary) name the branch instead.
        "subject": ("CASE WHEN c.case_no IS NULL THEN ou.name "
                    "ELSE concat(CAST(:subj_pre AS text), c.case_no, CAST(:subj_post AS text)) END"),
        "kind_name": "kn.name",
        "due": "to_char(nv.due_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')",
        "person": "p.full_name",
    }
    body_self, params_self = _sql_template(_zh("deadlines.notify.violation"), expressions, "ts")
    digest_expressions = {
        "as_of": "to_char(CAST(:as_of AS timestamptz) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')",
        "total": "CAST(dg.total AS text)",
        "kinds": "dg.kinds",
    }
    body_sup, params_sup = _sql_template(_zh("deadlines.notify.violation_digest"), digest_expressions, "tp")
    body_own, params_own = _sql_template(_zh("deadlines.notify.own_violation_digest"), digest_expressions, "to")
    digest_item, params_item = _sql_template(_zh("deadlines.notify.digest_item"),
                                             {"kind_name": "kn.name", "n": "CAST(pk.n AS text)"}, "ti")
    pre, post = _zh("deadlines.notify.subject_case").split("{case_no}")
    kind_values = ", ".join(f"(CAST(:kn_{k} AS text), CAST(:kname_{k} AS text))" for k in DEADLINE_KINDS)
    kind_params: dict[str, str] = {}
    for k in DEADLINE_KINDS:
        kind_params[f"kn_{k}"] = k
        kind_params[f"kname_{k}"] = _zh(f"deadlines.kind.{k}")
    only = "AND d.id IN :ids" if deadline_ids is not None else ""
    if since is not None:
        # A clock late now that neither fell due nor changed since the previous run was late then
        # too, with the same charged persons: that run recorded it.
        only += " AND (d.due_at > :due_after OR d.updated_at > :changed_after)"
    open_late, met_late = _LATE_SQL
    sql = f"""
WITH late AS (
    SELECT d.id, d.case_id, d.branch_id, d.kind, d.due_at, d.responsible_person_id, d.also_charged_person_id
      FROM deadline d
     WHERE d.cancelled_at IS NULL AND {open_late} {only}
    UNION ALL
    SELECT d.id, d.case_id, d.branch_id, d.kind, d.due_at, d.responsible_person_id, d.also_charged_person_id
      FROM deadline d
     WHERE d.cancelled_at IS NULL AND {met_late} AND d.due_at < :as_of {only}
),
charged AS (
    SELECT l.*, l.responsible_person_id AS person_id, 'responsible' AS charge
      FROM late l WHERE l.responsible_person_id IS NOT NULL
    UNION ALL
    SELECT l.*, l.also_charged_person_id, 'also_charged'
      FROM late l
     WHERE l.also_charged_person_id IS NOT NULL
       AND l.also_charged_person_id IS DISTINCT FROM l.responsible_person_id
),
nv AS (
    INSERT INTO violation (deadline_id, person_id, case_id, branch_id, kind, due_at, found_at, charge)
    SELECT ch.id, ch.person_id, ch.case_id,
           coalesce(ch.branch_id, (SELECT cc.branch_id FROM claim_case cc WHERE cc.id = ch.case_id)),
           ch.kind, ch.due_at, :as_of, ch.charge
      FROM charged ch
    -- In case order: the foreign-key checks and the join to claim_case below then walk the cases'
    -- pages in order instead of at random (most of a big first run's time; measured at 1M cases).
     ORDER BY ch.case_id, ch.id
    -- No NOT EXISTS pre-filter: probing `violation` while this statement inserts into it rescans the
    -- new rows (quadratic on a first run); the unique index probe of ON CONFLICT is cheap and exact.
    ON CONFLICT ON CONSTRAINT uq_violation_deadline_person DO NOTHING
    RETURNING id, deadline_id, person_id, case_id, branch_id, kind, due_at
),
person_level AS (
    SELECT ra.person_id, max(CASE u.level WHEN 'hq' THEN 3 WHEN 'branch' THEN 2 ELSE 1 END) AS lvl
      FROM role_assignment ra JOIN org_unit u ON u.id = ra.unit_id
     GROUP BY ra.person_id
),
superior AS (
    SELECT nv.id AS violation_id, nv.kind, ra.person_id AS recipient_id
      FROM nv
      JOIN person_level pl ON pl.person_id = nv.person_id AND pl.lvl = 1
      JOIN role_assignment ra ON ra.role = 'branch_manager' AND ra.unit_id = nv.branch_id
     WHERE ra.person_id <> nv.person_id
    UNION ALL
    SELECT nv.id, nv.kind, ra.person_id
      FROM nv
      LEFT JOIN person_level pl ON pl.person_id = nv.person_id
      JOIN role_assignment ra ON ra.role = 'hq_admin'
     WHERE coalesce(pl.lvl, 3) >= 2 AND ra.person_id <> nv.person_id
),
-- The new violations that may wake someone: a breach of a tiered case at or above the urgent amount.
-- Each new violation's case looked up by its key (a subquery per row, never flattened into a join):
-- a join was planned as a hash of every tiered case (200,000 at 1,000,000 cases, 0.15 s), on every
-- incremental run that found anything, however few.
urgent AS (
    SELECT w.violation_id FROM (
        SELECT nv.id AS violation_id,
               (SELECT uc.tier IS NOT NULL AND uc.tier <> :not_tiered
                       AND uc.current_estimate >= CAST(:urgent_amount AS numeric)
                  FROM claim_case uc WHERE uc.id = nv.case_id) AS wakes
          FROM nv) AS w
     WHERE w.wakes
),
-- Who is told of which new violation: the charged person (own) and their superiors.
told AS (
    SELECT nv.id AS violation_id, nv.kind, nv.person_id AS recipient_id, true AS own FROM nv
    UNION ALL
    SELECT violation_id, kind, recipient_id, false FROM superior
),
kn (kind, name) AS (VALUES {kind_values}),
per_kind AS (
    SELECT told.own, told.recipient_id, told.kind, count(DISTINCT told.violation_id) AS n,
           min(told.violation_id) AS first_id, bool_or(u.violation_id IS NOT NULL) AS urgent
      FROM told LEFT JOIN urgent u ON u.violation_id = told.violation_id
     GROUP BY told.own, told.recipient_id, told.kind
),
-- One line per person told, counted by deadline kind. A superior always gets it as a digest; the
-- charged person gets it when the run found several of theirs (a first run over old data, a bad
-- day), and otherwise the message naming the case and the clock.
dg AS (
    SELECT pk.own, pk.recipient_id, sum(pk.n) AS total, min(pk.first_id) AS first_id, bool_or(pk.urgent) AS urgent,
           string_agg({digest_item}, '、' ORDER BY pk.kind) AS kinds
      FROM per_kind pk JOIN kn ON kn.kind = pk.kind
     GROUP BY pk.own, pk.recipient_id
),
queued AS (
    INSERT INTO notification (case_id, recipient_person_id, kind, body, dedupe_key, created_at, state, attempts,
                              urgent)
    SELECT * FROM (
        SELECT nv.case_id, nv.person_id, 'deadline_violation', {body_self},
               'violation:' || nv.id || ':to:' || nv.person_id, CAST(:as_of AS timestamptz), 'queued', 0,
               EXISTS (SELECT 1 FROM urgent u WHERE u.violation_id = nv.id)
          FROM nv
          JOIN dg ON dg.own AND dg.recipient_id = nv.person_id AND dg.total = 1
          JOIN person p ON p.id = nv.person_id
          JOIN kn ON kn.kind = nv.kind
          LEFT JOIN claim_case c ON c.id = nv.case_id
          LEFT JOIN org_unit ou ON ou.id = nv.branch_id
         ORDER BY nv.case_id, nv.id) AS own
    UNION ALL
    -- A digest is keyed by the run's first violation for that person: a re-run adds none.
    SELECT NULL, dg.recipient_id, 'deadline_violation_own_digest', {body_own},
           'violation_own_digest:' || dg.first_id || ':to:' || dg.recipient_id,
           CAST(:as_of AS timestamptz), 'queued', 0, dg.urgent
      FROM dg WHERE dg.own AND dg.total > 1
    UNION ALL
    SELECT NULL, dg.recipient_id, 'deadline_violation_digest', {body_sup},
           'violation_digest:' || dg.first_id || ':to:' || dg.recipient_id, CAST(:as_of AS timestamptz), 'queued', 0,
           dg.urgent
      FROM dg WHERE NOT dg.own
    RETURNING id  -- a key queued before is skipped by the outbox's trigger (migration 0047)
)
SELECT (SELECT count(*) FROM nv), (SELECT count(*) FROM queued), (SELECT count(*) FROM late)
"""
    params: dict[str, object] = {"as_of": as_of, "subj_pre": pre, "subj_post": post, "not_tiered": NOT_TIERED,
                                 "urgent_amount": reference.get_setting(session, "notify.urgent_amount"),
                                 **params_self, **params_sup, **params_own, **params_item, **kind_params}
    if since is not None:
        params["due_after"] = since.as_of - SAFETY_MARGIN
        params["changed_after"] = since.started_at - SAFETY_MARGIN
    statement = text(sql)
    if deadline_ids is not None:
        if not deadline_ids:
            return FlagResult(0, 0)
        statement = statement.bindparams(bindparam("ids", expanding=True))
        params["ids"] = list(deadline_ids)
    # Big first runs sort and hash a few hundred thousand rows: keep them in memory, skip JIT start-up.
    session.execute(text("SET LOCAL work_mem = '64MB'"))
    session.execute(text("SET LOCAL jit = off"))
    violations, notifications, late_read = session.execute(statement, params).one()
    return FlagResult(int(violations), int(notifications), int(late_read), since is not None)
