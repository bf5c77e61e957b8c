"""Demo rows of the deadline area: material uploaded on the dispatched demo cases through the real
upload service — most on time, some late (some of them by the surveyor on the first responsible's
behalf, which charges both), some never — then the violation job's function as of now, so the
overdue tracker opens on a realistic mix.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.rules.deadlines import FIRST_RESPONSIBLE_MATERIAL, SURVEY_MATERIAL, dispatch_subject
from dashboard.services.actor import Actor, load_actor
from dashboard.services.errors import UserError
from dashboard.services.evidence.uploads import record_upload
from dashboard.services.clocks.violations import record_violations
from dashboard.demo.files import demo_material
from dashboard.demo.org import DemoOrg
from db.models import ClaimCase, Deadline, Dispatch

# (on time, late, never) shares per clock (第三章 时效要求: most are met, a minority late or missing).
OUTCOMES = {"D1": (0.75, 0.14, 0.11), "D2": (0.70, 0.16, 0.14), "D3": (0.62, 0.20, 0.18)}
MATERIAL_FOR = {clock: kind for kind, clock in FIRST_RESPONSIBLE_MATERIAL.items()}


def _when(rng: random.Random, clock: Deadline) -> datetime | None:
    on_time, late, _never = OUTCOMES[clock.kind]
    draw = rng.random()
    window = (clock.due_at - clock.started_at).total_seconds() / 3600
    if draw < on_time:
        return clock.started_at + timedelta(hours=rng.uniform(0.5, window - 0.2))
    if draw < on_time + late:
        return clock.due_at + timedelta(hours=rng.uniform(0.3, 60))
    return None


def populate(session: Session, org: DemoOrg, rng: random.Random, now: datetime) -> None:
    actors: dict[int, Actor | None] = {}

    def actor(person_id: int) -> Actor | None:
        if person_id not in actors:
            actors[person_id] = load_actor(session, person_id)
        return actors[person_id]

    clocks = session.execute(
        select(Deadline, ClaimCase.surveyor_id).join(ClaimCase, ClaimCase.id == Deadline.case_id)
        .where(Deadline.kind.in_(("D1", "D2", "D3")), Deadline.met_at.is_(None), Deadline.cancelled_at.is_(None))
        .order_by(Deadline.started_at, Deadline.id)).all()
    dispatches = {dispatch_subject(d.id): d for d in session.scalars(select(Dispatch))}
    for clock, surveyor_id in clocks:
        at = _when(rng, clock)
        if at is None or at >= now:
            continue
        surveyor = actor(surveyor_id)
        try:
            if clock.kind == "D1":
                for n, kind in enumerate(SURVEY_MATERIAL):
                    uploaded_at = at - timedelta(minutes=20 * (len(SURVEY_MATERIAL) - 1 - n))
                    ending, content = demo_material(kind, uploaded_at)
                    record_upload(session, surveyor, clock.case_id, kind, f"{kind}_{clock.case_id}.{ending}", content,
                                  now=uploaded_at)
                continue
            dispatch = dispatches.get(clock.subject_key)
            if dispatch is None:
                continue
            person = dispatch.delegate_person_id or dispatch.person_id
            kind = MATERIAL_FOR[clock.kind]
            ending, content = demo_material(kind, at)
            if rng.random() < 0.8:  # 客服经理代为上传, the usual way
                record_upload(session, surveyor, clock.case_id, kind, f"{kind}_{dispatch.id}.{ending}", content,
                              on_behalf_of_person_id=person, now=at)
            elif actor(person) is not None:
                record_upload(session, actor(person), clock.case_id, kind, f"{kind}_{dispatch.id}.{ending}", content,
                              now=at)
        except UserError:
            session.rollback()  # e.g. the case was archived before that moment: the material never came
    record_violations(session, now)
    session.commit()
