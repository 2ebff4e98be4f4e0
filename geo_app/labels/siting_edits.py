"""Labels of editing a proposal on the map: key -> (zh, en)."""

from __future__ import annotations

TEXT: dict[str, tuple[str, str]] = {
    # solver steps and statuses
    "solver_greedy": ("贪心算法", "greedy"),
    "solver_swap": ("交换改进", "swap improvement"),
    "solver_highs-mip": ("HiGHS 混合整数规划", "HiGHS mixed-integer programme"),
    "solver_highs-bound": ("HiGHS 求界", "HiGHS bound"),
    "solver_lagrangian-bound": ("拉格朗日求界", "Lagrangian bound"),
    "solver_greedy-capacitated": ("容量约束贪心算法", "capacitated greedy"),
    "solver_evaluation": ("给定站点评估", "evaluation of given sites"),
    "solver_other": ("其他算法", "other method"),
    "st_optimal": ("最优解", "Optimal"),
    "st_time_limit": ("达到时间上限(非最优)", "Time limit reached"),
    "st_heuristic": ("启发式解(未证明最优)", "Heuristic (not proven optimal)"),
    "st_given": ("给定方案", "Given sites"),
    "st_infeasible": ("无可行解", "Infeasible"),
    "st_iteration_limit": ("达到迭代上限(非最优)", "Iteration limit reached"),
    "st_solution_limit": ("达到解数量上限(非最优)", "Solution limit reached"),
    "st_interrupted": ("求解被中断", "Interrupted"),
    "st_other": ("其他求解状态", "Other solver status"),
    # editing on the map
    "edit_undo": ("撤销", "Undo"),
    "edit_redo": ("重做", "Redo"),
    "edit_hint": ("单击地图新增站点;单击站点将其移除;拖动站点可移动。",
                  "Click the map to add a site; click a site to remove it; drag a site to move it."),
    "site_moved": ("已移动站点", "Moved site"),
    "edit_undone": ("已撤销上一步修改", "Undid the last edit"),
    "edit_redone": ("已重做修改", "Redid the edit"),
    "click_off_network": ("此处无法新增站点:距最近道路 {dist} 米,超过 {max} 米,站点将无法服务任何居民",
                          ("No site can be added here: {dist} m from the nearest street, more than "
                          "{max} m, so it would serve nobody")),
    "gain_change": ("新增覆盖", "Newly covered"),
    "gain_of_site": ("该站点增益", "gain of this site"),
    "persons_unit": ("人", "persons"),
    "reopened_note": ("已重新打开方案: {name}(尚未修改)", "Reopened scenario: {name} (not edited yet)"),
    "params_changed": ("参数已更改:下方仍是按原参数求得的方案{edited}。点击“运行选址”按新参数求解。",
                       ("The parameters have changed: below is still the proposal of the earlier "
                       "parameters{edited}. Press “Run siting” to solve with the new ones.")),
    "params_changed_edited": ("(含未保存的手动修改)", " (with unsaved edits by hand)"),
    "kept_proposal": ("先前未保存的手动修改方案({n} 个站点)已保留,可恢复。",
                      ("The earlier proposal edited by hand and not saved ({n} sites) is kept and "
                      "can be brought back.")),
    "restore_proposal": ("恢复先前的手动方案", "Bring back the earlier edited proposal"),
    "drop_proposal": ("放弃先前的手动方案", "Discard the earlier edited proposal"),
    "unsaved_edits": ("当前方案有未保存的手动修改。", "The proposal has edits not saved yet."),
    "why_zero": ("零增益原因", "Why no gain"),
    # why a site gains nobody
    "gain0_off_network": ("站点距道路过远,无法接入路网", "the site is too far from any street"),
    "gain0_separate": ("附近 {persons} 名未覆盖居民位于另一片不相连的路网上,从站点步行无法到达",
                       ("{persons} uncovered residents nearby sit on a separate piece of network, "
                       "not reachable on foot from the site")),
    "gain0_far": ("附近 {persons} 名未覆盖居民沿道路步行超过 {minutes} 分钟",
                  ("{persons} uncovered residents nearby are more than {minutes} min away along "
                  "the streets")),
    "gain0_residents_off": ("附近 {persons} 名未覆盖居民距道路过远,未接入路网",
                            "{persons} uncovered residents nearby are too far from any street"),
    "gain0_all_covered": ("步行可达的 {persons} 名居民均已被现有设施或其他站点覆盖",
                          ("all {persons} residents within reach are already covered by existing "
                          "facilities or other sites")),
    "gain0_nobody": ("{minutes} 分钟步行范围内没有居民", "no residents within {minutes} min"),
    "site_name_grid": ("网格点 {n}", "grid {n}"),
    "site_name_point": ("新增点 {n}", "added {n}"),
    # two scenarios compared
    "cmp_only_a": ("仅在 A({a})", "Only in A ({a})"),
    "cmp_only_b": ("仅在 B({b})", "Only in B ({b})"),
    "cmp_in_both": ("两个方案都有", "In both"),
    "cmp_sites": ("两个方案的站点", "Sites of the two scenarios"),
    "cmp_side": ("所在方案", "In"),
    "cmp_title": ("方案对比:A − B", "Scenarios compared: A − B"),
    "cmp_pick_a": ("方案 A", "Scenario A"),
    "cmp_pick_b": ("方案 B", "Scenario B"),
    "cmp_metric": ("指标", "Metric"),
    "cmp_category": ("设施类别", "Facility category"),
    "cmp_all": ("全部(本方案)", "Whole proposal"),
    "cmp_diff": ("A − B", "A − B"),
    "cmp_covered_after": ("实施后已覆盖(人)", "Covered after (persons)"),
    "cmp_share_after": ("实施后覆盖率", "Share covered after"),
    "cmp_no_category": ("该方案保存时未记录分类别覆盖。", "This scenario was saved without coverage by category."),
    "cmp_points": ("个百分点", "percentage points"),
    "cmp_map_title": ("站点差异图", "Sites that differ"),
}
