"""HQ admin's view of delivery (issue 22): how many messages are in each state by channel, the ones
that failed or are being retried (recipient, channel, attempts, last error, next attempt), whether
e-mail and the group robot are configured (never a password, secret or token), and the retry of a
failed one.

A retry puts the message back in the queue at once, its attempts and last error kept (the error
clears when it is delivered); one more failure makes it `failed` again. Two admins pressing retry
at once re-queue it once: the change applies only to a row still `failed`, and the second is told
it was already re-queued."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CompoundSelect, Select, func, select, union_all, update
from sqlalchemy.orm import Session

from dashboard import clock
from dashboard.services.actor import Actor
from dashboard.services.capability import requires
from dashboard.services.cases.history import record_event
from dashboard.services.delivery.channels import ChannelStatus, DeliveryConfig
from dashboard.services.errors import NotFound
from dashboard.services.statements import as_rows, built_once, count_then_page, read
from db.models import ClaimCase, Notification, Person

# The states that wait for something (a run, working hours, HQ): counted exactly, each through its
# partial index. Sent and digested rows, millions at a national insurer's volume, are not counted
# here: a GROUP BY over the whole outbox took the page past a second (bench/RESULTS.md).
STATES = ("queued", "held", "failed")


@dataclass(frozen=True)
class StateCount:
    state: str
    channel: str | None  # the channel it went (or last tried) by; None: not tried yet
    n: int


@dataclass(frozen=True)
class TroubledMessage:
    id: int
    recipient: str
    username: str
    chosen_channel: str  # the person's choice now
    channel: str | None  # the channel of the last attempt
    state: str  # queued (being retried) or failed
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    kind: str
    case_no: str | None
    created_at: datetime


@dataclass(frozen=True)
class RetryOutcome:
    requeued: bool  # False: it was no longer failed (a colleague's retry, or delivered meanwhile)
    recipient: str


@requires("delivery.admin")
def channel_status(actor: Actor, *, config: DeliveryConfig | None = None) -> ChannelStatus:
    """What this server's environment configures (the job reads the same variables)."""
    return (config or DeliveryConfig.from_env()).status()


@requires("delivery.admin")
def delivery_counts(session: Session, actor: Actor) -> list[StateCount]:
    """Messages waiting, by state and channel, in the order of STATES."""
    rows = read(session, _waiting_by_channel(), generic=True).all()  # every month of the outbox: 0047
    order = {s: n for n, s in enumerate(STATES)}
    return sorted((StateCount(*r) for r in rows), key=lambda c: (order.get(c.state, 99), c.channel or ""))


@built_once
def _waiting_by_channel() -> CompoundSelect:
    """One statement, one index probe per state (ix_notification_queued / _held / _failed): each
    branch of the UNION ALL is planned with its own state, as three statements were."""
    return union_all(*(select(Notification.state, Notification.channel, func.count())
                       .where(Notification.state == state).group_by(Notification.state, Notification.channel)
                       for state in STATES))


_TROUBLED = (Notification.last_error.is_not(None), Notification.state.in_(("queued", "failed")))


@built_once
def _troubled_count() -> Select:
    return select(func.count()).select_from(Notification).where(*_TROUBLED)


@built_once
def _troubled_page(limit: int, offset: int) -> Select:
    """The page's messages chosen from the outbox alone, then named (recipient, case). Why: joined
    first, every troubled message was looked up in claim_case before the sort kept 50 of them; at
    10,000,000 cases that was 10,700 random reads of the case table, 107 of the page's 110 ms
    (bench/RESULTS.md, twenty-first session)."""
    failed_first = (Notification.state == "failed").label("failed_first")
    chosen = (select(Notification.id, Notification.recipient_person_id, Notification.case_id, Notification.channel,
                     Notification.state, Notification.attempts, Notification.last_error,
                     Notification.next_attempt_at, Notification.kind, Notification.created_at, failed_first)
              .where(*_TROUBLED)
              .order_by(failed_first.desc(), Notification.next_attempt_at.asc().nulls_last(), Notification.id)
              .limit(limit).offset(offset)).subquery("chosen")
    return (select(chosen.c.id, Person.full_name, Person.username, Person.notify_channel, chosen.c.channel,
                   chosen.c.state, chosen.c.attempts, chosen.c.last_error, chosen.c.next_attempt_at, chosen.c.kind,
                   ClaimCase.case_no, chosen.c.created_at)
            .select_from(chosen)
            .join(Person, Person.id == chosen.c.recipient_person_id)
            .outerjoin(ClaimCase, ClaimCase.id == chosen.c.case_id)
            .order_by(chosen.c.failed_first.desc(), chosen.c.next_attempt_at.asc().nulls_last(), chosen.c.id))


@requires("delivery.admin")
def troubled_messages(session: Session, actor: Actor, *, limit: int = 50, offset: int = 0,
                      total: int | None = None) -> tuple[int, list[TroubledMessage]]:
    """The messages whose delivery failed: failed ones first (they wait for a retry), then those
    still being retried, soonest next attempt first (index ix_notification_troubled)."""
    total, rows = count_then_page(session, _troubled_count, lambda: _troubled_page(limit, offset),
                                  limit=limit, total=total, generic=True)  # every month of the outbox: 0047
    return total, as_rows(TroubledMessage, rows)


@requires("delivery.admin")
def retry_failed(session: Session, actor: Actor, notification_id: int, *, now: datetime | None = None) -> RetryOutcome:
    """Queue a failed message again, to be sent by the next run; recorded in the history."""
    now = clock.or_now(now)
    found = session.execute(select(Notification.case_id, Person.full_name)
                            .join(Person, Person.id == Notification.recipient_person_id)
                            .where(Notification.id == notification_id)).first()
    if found is None:
        raise NotFound()
    done = session.execute(update(Notification)
                           .where(Notification.id == notification_id, Notification.state == "failed")
                           .values(state="queued", next_attempt_at=None)
                           .execution_options(synchronize_session=False)).rowcount
    if not done:
        session.rollback()
        return RetryOutcome(False, found.full_name)
    record_event(session, case_id=None, actor_id=actor.person_id, at=now, kind="notification_requeued",
                 notification_id=notification_id, about_case_id=found.case_id)
    session.commit()
    return RetryOutcome(True, found.full_name)
