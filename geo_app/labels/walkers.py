"""Labels of the walkers side by side (the 适老化 view): key -> (zh, en)."""

from __future__ import annotations

TEXT: dict[str, tuple[str, str]] = {
    "wk_heading": ("适老化对比:不同步行人群的覆盖", "Age-friendly view: coverage by walker"),
    "wk_intro": ("同样的居民和设施,分别按成年人、老年人、儿童(成人陪同)和轮椅/婴儿车使用者的步行"
                 "速度与可用通道(梯道、电梯、扶梯)计算覆盖。",
                 "The same residents and facilities, walked as a young adult, an elderly "
                 "resident, a child with a carer and a wheelchair or stroller user (their "
                 "speeds and the stairs, lifts and escalators each may use)."),
    "wk_run": ("运行适老化对比(4 类步行人群)", "Compare the four walkers"),
    "wk_running": ("正在按各类步行人群计算覆盖", "Coverage for each walker"),
    "wk_running_one": ("步行人群:{walker}({k} / {n})", "Walker: {walker} ({k} of {n})"),
    "wk_minutes": ("步行时间阈值(分钟)", "Threshold (minutes)"),
    "wk_minus": ("{a} − {b}(百分点)", "{a} − {b} (points)"),
    "wk_points": ("个百分点", "points"),
    "wk_drops": ("{walker}覆盖率比成年人下降最多的类别:{listed}。",
                 "Where the {walker} share falls most below the adult's: {listed}."),
    "wk_no_drop": ("各类步行人群的覆盖率相同。", "Every walker reaches the same residents."),
    "wk_chart": ("各类别覆盖率(按步行人群)", "Share covered by category and walker"),
    "wk_share": ("覆盖率", "Share covered"),
    "wk_walker": ("步行人群", "Walker"),
    "wk_map_walker": ("与成年人对比的步行人群", "Walker compared with the adult"),
    "wk_map": ("成年人可达而该人群不可达的居民", "Residents an adult reaches and this walker does not"),
    "wk_only_base": ("仅成年人可达", "Reached by an adult only"),
    "wk_only_slower": ("仅该人群可达", "Reached by this walker only"),
    "wk_both": ("两者相同", "Alike"),
    "wk_note": ("步行速度与通道规则见 data/gis/walker_profiles.csv 与 connectors.csv(含出处)。",
                "Speeds and connector rules: data/gis/walker_profiles.csv and connectors.csv "
                "(with sources)."),
    "wk_report_title": ("适老化对比报告", "Age-friendly coverage report"),
    "wk_download_csv": ("下载对比表(CSV)", "Download the table (CSV)"),
    "wk_download_html": ("下载适老化报告(HTML)", "Download the report (HTML)"),
    "wk_download_pdf": ("下载适老化报告(PDF)", "Download the report (PDF)"),
    "list_sep": ("、", ", "),
}
