"""Complaints, disputes and difficult cases (投诉、纠纷、疑难案件处理制度; 保险理赔纠纷管理制度;
docs/DOMAIN.md §7): the steps an item goes through and which step may follow which. Pure.

registered → assigned → (escalated: technical difficulty → working group: collective decision as
minutes) → handled → return visit done → archived. A return visit is mandatory before archiving
(第九条: 处理结束后，须进行回访). A complaint found justified records the apology and the measure
taken before it counts as handled. A dispute may go to mediation and, when mediation fails, to
arbitration (调解不成 → 仲裁), each with its outcome; never to arbitration first.
"""
from __future__ import annotations

from dataclasses import dataclass

KINDS = ("complaint", "dispute", "difficult")
# Why the customer came (the summary analysis counts by it) and how the item reached us.
CAUSES = ("amount", "speed", "attitude", "liability", "documents", "survey", "other")
CHANNELS = ("phone", "visit", "letter", "online", "regulator", "media")
# How a handled item ended: a complaint justified or not; a dispute settled, mediated or arbitrated;
# a difficult case resolved.
OUTCOMES = ("justified", "unjustified", "settled", "mediated", "arbitrated", "resolved")
OPEN_STEPS = ("registered", "assigned", "escalated", "working_group", "mediation", "arbitration")
MEDIATION_OUTCOMES = ("agreed", "failed")
STEPS = ("registered", "assigned", "escalated", "working_group", "mediation", "arbitration", "handled",
         "return_visited", "archived")
# Which step may follow which (the kind narrows it further, see next_steps).
_FOLLOWS: dict[str, tuple[str, ...]] = {
    "registered": ("assigned",),
    "assigned": ("escalated", "working_group", "mediation", "handled"),
    "escalated": ("working_group", "mediation", "handled"),
    "working_group": ("mediation", "handled"),
    "mediation": ("arbitration", "handled"),
    "arbitration": ("handled",),
    "handled": ("return_visited",),
    "return_visited": ("archived",),
    "archived": (),
}
_DISPUTE_ONLY = frozenset({"mediation", "arbitration"})


@dataclass(frozen=True)
class ItemFacts:
    """What a step's check reads of the item."""

    kind: str
    justified: bool | None = None  # a complaint: found justified (None: not decided)
    apology: str | None = None
    measure: str | None = None
    minutes: str | None = None  # the working group's collective decision
    mediation_outcome: str | None = None  # "agreed" / "failed"
    return_visit: str | None = None  # its result


def next_steps(kind: str, step: str) -> tuple[str, ...]:
    """The steps the item may take from `step`: mediation and arbitration for disputes only."""
    if kind not in KINDS or step not in _FOLLOWS:
        raise ValueError(f"unknown kind or step: {kind!r}, {step!r}")
    return tuple(s for s in _FOLLOWS[step] if kind == "dispute" or s not in _DISPUTE_ONLY)


def outcome_of(facts: ItemFacts, step: str) -> str:
    """What a handled item's outcome is, from its kind and what was recorded on the way."""
    if facts.kind == "complaint":
        return "justified" if facts.justified else "unjustified"
    if facts.kind == "dispute":
        if step == "arbitration":
            return "arbitrated"
        return "mediated" if step == "mediation" and facts.mediation_outcome == "agreed" else "settled"
    return "resolved"


def step_refusal(facts: ItemFacts, step: str, target: str) -> str | None:
    """None when the item may move from `step` to `target`; else the i18n key saying why not."""
    if target not in next_steps(facts.kind, step):
        return "complaints.error.order"
    if step == "working_group" and not (facts.minutes or "").strip():
        return "complaints.error.minutes_required"
    if target == "arbitration" and facts.mediation_outcome != "failed":
        return "complaints.error.mediation_first"
    if target == "handled" and facts.kind == "complaint":
        if facts.justified is None:
            return "complaints.error.justified_undecided"
        if facts.justified and not ((facts.apology or "").strip() and (facts.measure or "").strip()):
            return "complaints.error.apology_and_measure"
    if target == "archived" and not (facts.return_visit or "").strip():
        return "complaints.error.return_visit_required"
    return None
