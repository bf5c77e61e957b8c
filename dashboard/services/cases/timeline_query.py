"""The whole history of one case in one statement (the case detail page's timeline and clocks).

Why one statement: a case's history lives in a dozen tables of a few rows each. Read one table
at a time, the page spent ten times longer in round trips and row objects than PostgreSQL spent
on the data (bench/RESULTS.md, issue 7). Here every source is one branch of a UNION ALL, each
bounded by the case and a row limit, with the names of the people it mentions joined in; the
parameters travel as jsonb and are turned back into Python values by key (`decode_params`).
PostgreSQL keeps it parsed and planned per connection (`TIMELINE`, a prepared statement).

Each row: (at, kind, key, ref_id, actor_name, actor_role, params). `kind = 'clock'` rows are
the case's deadlines for the clocks table, not timeline entries.
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Any

from dashboard.services.statements import Prepared

DATETIME_KEYS = frozenset({"due_at", "closed_at", "sent_at", "started_at", "met_at", "cancelled_at"})
DECIMAL_KEYS = frozenset({"amount"})

# A D5 clock's review point (its subject `point:<id>:round:<n>`, rules.deadlines.point_subject) as
# {"seq", "round"}: one opinion's points share their clock and often their due time, and their lines
# read as duplicates without it (issue 26). Empty for every other clock.
# claims_d5_part (migration 0027) is LEAKPROOF: the point is found through its index under row-level security.
_D5_POINT = """(SELECT jsonb_build_object('seq', op.seq, 'round', claims_d5_part(dl.kind, dl.subject_key, 4))
     FROM opinion_point op WHERE op.id = claims_d5_part(dl.kind, dl.subject_key, 2))"""
_POINT = f"coalesce(({_D5_POINT}), '{{}}'::jsonb) AS point"

_TIMELINE_SQL = """
WITH src AS (
  (SELECT e.recorded_at AS at, 'estimate' AS kind, 'detail.ev.estimate' AS key, e.recorded_by AS actor_id,
          NULL::bigint AS ref_id,
          jsonb_build_object('amount', e.amount::text, 'tier_before', e.tier_before, 'tier_after', e.tier_after,
                             'note', e.note) AS params
     FROM estimate e WHERE e.case_id = :case_id ORDER BY e.recorded_at, e.id LIMIT :lim)
  UNION ALL
  (SELECT d.dispatched_at, 'dispatch', 'detail.ev.dispatch', d.dispatched_by, d.person_id,
          jsonb_build_object('person', p.full_name, 'position', d.position, 'tier', d.tier, 'reason', d.reason,
                             'contact_state', d.contact_state)
     FROM dispatch d LEFT JOIN person p ON p.id = d.person_id
    WHERE d.case_id = :case_id ORDER BY d.dispatched_at, d.id LIMIT :lim)
  UNION ALL
  (SELECT d.arrived_at, 'arrival', 'detail.ev.arrival',
          coalesce(rec.actor_id, ph.uploaded_by, coalesce(d.delegate_person_id, d.person_id)), NULL,
          jsonb_build_object('person', p.full_name, 'by_photo', rec.actor_id IS NULL AND ph.uploaded_by IS NOT NULL)
     FROM dispatch d
          -- Who recorded it (issue 27): the arrival's own record, else the 人车合影 upload that proved it.
          LEFT JOIN LATERAL (SELECT ev.actor_id, (ev.payload->>'person_id')::int AS person_id FROM case_event ev
                              WHERE ev.case_id = d.case_id AND ev.kind = 'arrived_on_scene'
                                AND ev.payload->>'dispatch_id' = d.id::text AND ev.at = d.arrived_at
                              ORDER BY ev.id LIMIT 1) rec ON true
          LEFT JOIN LATERAL (SELECT u.uploaded_by FROM upload u
                              WHERE u.case_id = d.case_id AND u.kind = 'person_vehicle_photo'
                                AND u.uploaded_at = d.arrived_at ORDER BY u.id LIMIT 1) ph ON true
          LEFT JOIN person p ON p.id = coalesce(rec.person_id, d.delegate_person_id, d.person_id)
    WHERE d.case_id = :case_id AND d.arrived_at IS NOT NULL ORDER BY d.arrived_at, d.id LIMIT :lim)
  UNION ALL
  (SELECT c.recorded_at, 'contact', 'detail.ev.contact', c.recorded_by, NULL,
          jsonb_build_object('person', p.full_name, 'outcome', c.outcome, 'reason', c.reason,
                             'delegate', dl.full_name)
     FROM contact_attempt c LEFT JOIN dispatch d ON d.id = c.dispatch_id
          LEFT JOIN person p ON p.id = d.person_id LEFT JOIN person dl ON dl.id = c.delegate_person_id
    WHERE c.case_id = :case_id ORDER BY c.recorded_at, c.id LIMIT :lim)
  UNION ALL
  (SELECT u.uploaded_at, 'upload', 'detail.ev.upload', u.uploaded_by, NULL,
          jsonb_build_object('upload_kind', u.kind, 'filename', u.filename, 'size_bytes', u.size_bytes,
                             'on_behalf', ob.full_name, 'note', u.note)
     FROM upload u LEFT JOIN person ob ON ob.id = u.on_behalf_of
    WHERE u.case_id = :case_id ORDER BY u.uploaded_at, u.id LIMIT :lim)
  UNION ALL
  (SELECT dl.due_at, 'clock', '', NULL, dl.id,
          jsonb_build_object('deadline', dl.kind, 'responsible', r.full_name, 'also_charged', ac.full_name,
                             'started_at', dl.started_at, 'due_at', dl.due_at, 'met_at', dl.met_at,
                             'cancelled_at', dl.cancelled_at) || pt.point
     FROM deadline dl LEFT JOIN person r ON r.id = dl.responsible_person_id
          LEFT JOIN person ac ON ac.id = dl.also_charged_person_id
          CROSS JOIN LATERAL (SELECT {point}) pt
    WHERE dl.case_id = :case_id ORDER BY dl.due_at, dl.id LIMIT :lim)
  UNION ALL
  (SELECT dl.met_at, 'deadline_met', 'detail.ev.deadline_met', dl.met_by, NULL,
          jsonb_build_object('deadline', dl.kind, 'due_at', dl.due_at, 'late', dl.met_at > dl.due_at) || pt.point
     FROM deadline dl CROSS JOIN LATERAL (SELECT {point}) pt
    WHERE dl.case_id = :case_id AND dl.met_at IS NOT NULL ORDER BY dl.met_at, dl.id LIMIT :lim)
  UNION ALL
  (SELECT v.found_at, 'violation', 'detail.ev.violation', NULL, NULL,
          jsonb_build_object('deadline', v.kind, 'person', p.full_name, 'due_at', v.due_at, 'charge', v.charge)
            || pt.point
     FROM violation v LEFT JOIN person p ON p.id = v.person_id LEFT JOIN deadline dl ON dl.id = v.deadline_id
          CROSS JOIN LATERAL (SELECT {point}) pt
    WHERE v.case_id = :case_id ORDER BY v.found_at, v.id LIMIT :lim)
  UNION ALL
  (SELECT o.posted_at, 'opinion',
          CASE WHEN o.kind = 'hq_review' THEN 'detail.ev.opinion_hq' ELSE 'detail.ev.opinion_supervision' END,
          o.author_id, o.id,
          jsonb_build_object('to', p.full_name, 'closed_at', o.closed_at,
                             'points', (SELECT coalesce(jsonb_agg(jsonb_build_array(op.seq, op.body, op.status)
                                                                  ORDER BY op.seq), '[]'::jsonb)
                                          FROM opinion_point op WHERE op.opinion_id = o.id))
     FROM opinion o LEFT JOIN person p ON p.id = o.addressed_to_person_id
    WHERE o.case_id = :case_id ORDER BY o.posted_at, o.id LIMIT :lim)
  UNION ALL
  (SELECT a.answered_at, 'answer', 'detail.ev.answer', a.author_id, NULL,
          jsonb_build_object('seq', op.seq, 'body', a.body, 'late', a.late)
     FROM opinion o JOIN opinion_point op ON op.opinion_id = o.id JOIN point_answer a ON a.point_id = op.id
    WHERE o.case_id = :case_id ORDER BY a.answered_at, a.id LIMIT :lim)
  UNION ALL
  (SELECT pv.decided_at, 'verdict', 'detail.ev.verdict_' || pv.verdict, pv.decided_by, NULL,
          jsonb_build_object('seq', op.seq, 'reason', pv.reason)
     FROM opinion o JOIN opinion_point op ON op.opinion_id = o.id JOIN point_verdict pv ON pv.point_id = op.id
    WHERE o.case_id = :case_id ORDER BY pv.decided_at, pv.id LIMIT :lim)
  UNION ALL
  (SELECT n.posted_at, 'progress', 'detail.ev.progress', n.author_id, NULL,
          jsonb_build_object('body', n.body, 'on_opinion', n.opinion_id IS NOT NULL)
     FROM progress_note n WHERE n.case_id = :case_id ORDER BY n.posted_at, n.id LIMIT :lim)
  UNION ALL
  (SELECT n.created_at, 'notification', 'detail.ev.notification', NULL, NULL,
          jsonb_build_object('recipient', p.full_name, 'notification_kind', n.kind, 'state', n.state,
                             'sent_at', n.sent_at, 'body', n.body)
     FROM notification n LEFT JOIN person p ON p.id = n.recipient_person_id
    WHERE n.case_id = :case_id ORDER BY n.created_at, n.id LIMIT :lim)
  UNION ALL
  (SELECT ev.at, 'event', 'detail.ev.event.' || ev.kind, ev.actor_id, NULL,
          coalesce(ev.payload, '{}'::jsonb) || jsonb_build_object('event_kind', ev.kind)
     FROM case_event ev WHERE ev.case_id = :case_id AND ev.kind <> ALL(:covered)
    ORDER BY ev.at, ev.id LIMIT :lim)
)
SELECT src.at, src.kind, src.key, src.ref_id, who.full_name AS actor_name,
       (SELECT ra.role FROM role_assignment ra WHERE ra.person_id = who.id ORDER BY ra.id LIMIT 1) AS actor_role,
       src.params
  FROM src LEFT JOIN person who ON who.id = src.actor_id
""".replace("{point}", _POINT)
# Prepared on each connection (statements.Prepared): parsing and planning the twelve branches cost
# more than running them. The name carries the text's hash, so a changed text is a new statement.
TIMELINE = Prepared(f"case_timeline_{hashlib.blake2s(_TIMELINE_SQL.encode(), digest_size=4).hexdigest()}",
                    _TIMELINE_SQL, (("case_id", "integer"), ("lim", "integer"), ("covered", "text[]")),
                    generic=True)


def decode_params(params: dict[str, Any]) -> dict[str, Any]:
    """jsonb carries timestamps as ISO text and amounts as text (never floats): restore their types,
    in `params` itself (a row's dict, decoded by the driver for one read), which is returned."""
    for key in DATETIME_KEYS.intersection(params):
        if isinstance(params[key], str):
            params[key] = datetime.fromisoformat(params[key])
    for key in DECIMAL_KEYS.intersection(params):
        if params[key] is not None:
            params[key] = Decimal(str(params[key]))
    return params
