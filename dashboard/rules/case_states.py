"""Case life cycle (docs/DOMAIN.md §2, 公司理赔管理制度): which state changes a person may make by hand. Pure."""
from __future__ import annotations

# docs/DOMAIN.md §2 order: reported → surveyed → dispatched → investigating → assessed → approved → paid → closed.
STATE_ORDER = ("reported", "surveyed", "dispatched", "investigating", "assessed", "approved", "paid", "closed")
REOPENED = "reopened"
# `surveyed` and `dispatched` follow from recording an estimate and dispatching (dispatch service),
# never from a button: a person cannot mark a case dispatched when nobody was dispatched.
SYSTEM_SET_STATES = frozenset({"surveyed", "dispatched"})
# A reopened case (零结案重开) resumes the claim work after dispatch.
_RANK = {state: index for index, state in enumerate(STATE_ORDER)}
_RANK[REOPENED] = _RANK["dispatched"]


def manual_targets(current: str) -> tuple[str, ...]:
    """States a person may move a case in `current` to, in life-cycle order."""
    if current == "closed":
        return (REOPENED,)
    if current == "reported" or current not in _RANK:
        return ()  # the survey estimate comes first (record_estimate moves it to surveyed)
    rank = _RANK[current]
    return tuple(s for s in STATE_ORDER if _RANK[s] > rank and s not in SYSTEM_SET_STATES)


def transition_error(current: str, target: str) -> str | None:
    """None when `current` → `target` is allowed; otherwise the i18n key explaining why not."""
    if target not in _RANK:
        return "detail.state.unknown"
    if target == current:
        return "detail.state.same"
    if current == "reported":
        return "detail.state.needs_estimate"
    if target in SYSTEM_SET_STATES:
        return "detail.state.system_only"
    if target == REOPENED and current != "closed":
        return "detail.state.reopen_only_closed"
    if current == "closed" and target != REOPENED:
        return "detail.state.closed_reopen_first"
    if target not in manual_targets(current):
        return "detail.state.backwards"
    return None


def is_pending(state: str) -> bool:
    """未决: every case not closed."""
    return state != "closed"
