"""Each person's choice of where their messages go (issue 22): the 我的消息 page, e-mail, or the
WeCom / DingTalk group robot, and their e-mail address.

The choice is saved whatever the server has configured: a channel the server cannot use yet sends
by the 我的消息 page (rules/delivery.effective_channel), and the form says so. The save names the
version of the person's record the form drew, so a second tab's older form is refused rather than
undoing the newer choice."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard import clock
from dashboard.rules.delivery import check_preferences, effective_channel
from dashboard.services.actor import Actor
from dashboard.services.capability import requires
from dashboard.services.cases.history import record_event
from dashboard.services.delivery.channels import DeliveryConfig
from dashboard.services.errors import NotFound, StaleWrite, ValidationFailed
from db.models import Person


@dataclass(frozen=True)
class NotifyPreferences:
    channel: str  # the person's choice
    email: str | None
    version: int  # of the person's record, for the save
    effective: str  # the channel their messages really go by now
    email_ready: bool  # the server has an SMTP server configured
    webhook_ready: bool  # the server has a group robot configured


@dataclass(frozen=True)
class PreferencesSaved:
    preferences: NotifyPreferences
    changed: bool  # False: the same choice was saved again (nothing written)


def _preferences(person: Person, config: DeliveryConfig) -> NotifyPreferences:
    email_ready, webhook_ready = config.smtp is not None, config.webhook is not None
    return NotifyPreferences(person.notify_channel, person.email, person.version,
                             effective_channel(person.notify_channel, person.email, email_ready=email_ready,
                                               webhook_ready=webhook_ready),
                             email_ready, webhook_ready)


@requires("notify.preferences")
def my_notify_preferences(session: Session, actor: Actor, *, config: DeliveryConfig | None = None) -> NotifyPreferences:
    person = session.get(Person, actor.person_id)
    if person is None:
        raise NotFound()
    return _preferences(person, config or DeliveryConfig.from_env())


@requires("notify.preferences")
def save_notify_preferences(session: Session, actor: Actor, channel: object, email: object, *, expected_version: int,
                            now: datetime | None = None, config: DeliveryConfig | None = None) -> PreferencesSaved:
    """Save the actor's own channel and address, as of the version their form drew. Every problem
    is named at once (ValidationFailed); a stale form is refused (StaleWrite); history records it."""
    now = clock.or_now(now)
    config = config or DeliveryConfig.from_env()
    chosen, address, errors = check_preferences(channel, email)
    if errors:
        raise ValidationFailed(errors)
    person = session.scalar(select(Person).where(Person.id == actor.person_id).with_for_update())
    if person is None:
        raise NotFound()
    if person.version != expected_version:
        raise StaleWrite()
    if (person.notify_channel, person.email) == (chosen, address):
        return PreferencesSaved(_preferences(person, config), False)
    before = person.notify_channel
    person.notify_channel, person.email = chosen, address
    person.version += 1
    # The history names the channels, not the address (personal data stays on the person's record).
    record_event(session, case_id=None, actor_id=actor.person_id, at=now, kind="notify_preferences_changed",
                 person_id=actor.person_id, channel_before=before, channel_after=chosen,
                 email_given=address is not None)
    session.commit()
    return PreferencesSaved(_preferences(person, config), True)
