"""Estimate, tier and dispatch strings."""

MESSAGES: dict[str, tuple[str, str]] = {
    "dispatch.error.case_closed": ("案件已结案归档，不能再登记估损；如需调整请先重开案件。", "The case is closed: reopen it before recording a new estimate."),
    "dispatch.error.bad_outcome": ("联络结果无效，请选择：已联系上、联系不上、无法到场。", "Unknown contact outcome: choose reached, unreachable or unavailable."),
    "dispatch.error.delegate_not_in_branch": ("指定人员必须是本分公司（含三级机构）的在职人员。", "The delegate must be an active person of the case's branch."),
    "dispatch.error.delegate_is_self": ("指定人员不能是第一责任人本人。", "The delegate cannot be the first responsible person."),
    "dispatch.error.delegate_needs_absence": ("只有联系不上或无法到场的第一责任人才需要指定人员。", "A delegate is named only for a first responsible who is unreachable or unavailable."),
    "dispatch.contact.notified": ("已通知", "Notified"),
    "dispatch.contact.reached": ("已联系上", "Reached"),
    "dispatch.contact.unreachable": ("联系不上", "Unreachable"),
    "dispatch.contact.unavailable": ("无法到场", "Unavailable"),
    "dispatch.contact.delegated": ("已指定他人", "Delegate named"),
    "dispatch.reason.initial": ("首次调度", "Initial dispatch"),
    "dispatch.reason.escalation": ("升级调度", "Escalation"),
    "dispatch.reason.unreachable_next_tier": ("上一级别通知", "Upper tier notified"),
    "dispatch.reason.other_person": ("另一责任人", "Other person"),
    "dispatch.reason.named_by_upper": ("上级指定", "Named by upper tier"),
}
