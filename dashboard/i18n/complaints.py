"""Complaints, disputes, difficult cases and special cases (docs/DOMAIN.md §7, §8)."""
from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "complaints.error.order": ("该事项不能从当前环节转到所选环节，请按流程办理。", "The item cannot go to that step from here."),
    "complaints.error.minutes_required": ("请先记录工作小组集体讨论的会议纪要及决定方案。",
                                          "Record the working group's minutes and decided plan first."),
    "complaints.error.mediation_first": ("调解不成的纠纷才能提交仲裁，请先记录调解结果。",
                                         "Only a dispute whose mediation failed goes to arbitration."),
    "complaints.error.justified_undecided": ("请先认定该投诉是否属实。", "Decide first whether the complaint is justified."),
    "complaints.error.apology_and_measure": ("投诉属实，请记录致歉情况和整改措施。",
                                             "A justified complaint records the apology and the measure taken."),
    "complaints.error.return_visit_required": ("归档前须完成回访并记录回访结果。",
                                               "A return visit, with its result, comes before archiving."),
    "special.error.type_c_excluded": ("C 类特殊赔案不适用于：{reasons}。", "Type C is not for: {reasons}."),
    "special.exclusion.drunk_driving": ("酒后驾车", "Drunk driving"),
    "special.exclusion.hit_and_run": ("肇事逃逸", "Hit-and-run"),
    "special.exclusion.crime": ("违法犯罪", "A crime"),
    "special.exclusion.drugs": ("吸毒", "Drugs"),
    "special.exclusion.media_attention": ("媒体关注", "Media attention"),
    "special.level.sub_claims_head": ("三级机构理赔负责人", "Sub-branch claims head"),
    "special.level.sub_gm": ("三级机构总经理", "Sub-branch GM"),
    "special.level.branch_line_dept": ("分公司车险/非车险管理部", "Branch motor / non-motor department"),
    "special.level.branch_gm": ("分公司总经理", "Branch GM"),
}
