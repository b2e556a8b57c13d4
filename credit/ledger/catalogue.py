"""The initial catalogue of credit entry kinds (version 1 of each).

Installed by ``entry_kinds_ensure`` after every migrate and every flush (``post_migrate``), which
only creates codes that are missing: a kind edited in the admin keeps its newer versions.
"""

from __future__ import annotations

from typing import NamedTuple


class KindSpec(NamedTuple):
    code: str
    name: str
    name_en: str
    default_points: int
    tier: str
    min_window_months: int
    max_window_months: int
    forces_grade_d: bool = False
    effect: str = "score"


INITIAL_KINDS: tuple[KindSpec, ...] = (
    KindSpec("commitment_fulfilled", "按期履行告知承诺", "Commitment fulfilled on time", 2, "minor", 0, 3),
    KindSpec("inspection_passed", "双随机抽查合格", "Random inspection passed", 3, "general", 3, 12),
    KindSpec("tax_grade_a", "纳税信用A级", "Tax credit grade A", 10, "general", 3, 12),
    KindSpec(
        "penalty_simplified", "行政处罚（简易程序）", "Administrative penalty (simplified procedure)", -5, "minor", 0, 3
    ),
    KindSpec("admin_penalty", "行政处罚", "Administrative penalty", -15, "general", 3, 12),
    KindSpec("rectification_overdue", "逾期未整改", "Rectification deadline missed", -10, "general", 3, 12),
    KindSpec("wage_arrears", "拖欠农民工工资", "Wage arrears", -20, "general", 3, 12),
    KindSpec("false_commitment", "虚假承诺", "False commitment", -30, "serious", 12, 36, True),
    KindSpec(
        "serious_violation",
        "严重违法失信（吊销许可、较大数额罚款）",
        "Serious violation (licence revoked, heavy fine)",
        -40,
        "serious",
        12,
        36,
        True,
    ),
    KindSpec(
        "court_dishonest_debtor",
        "列入失信被执行人名单",
        "Court dishonest-debtor listing",
        -50,
        "serious",
        12,
        36,
        True,
    ),
    KindSpec("tax_grade_d", "纳税信用D级", "Tax credit grade D", -30, "serious", 12, 36, True),
    KindSpec("manual_adjustment", "信用办人工调整", "Credit office adjustment", 0, "general", 3, 12),
    KindSpec("repair", "信用修复", "Credit repair", 0, "minor", 0, 0, False, "repair"),
    KindSpec(
        "reversal",
        "更正（撤销错误记录）",
        "Correction (erroneous entry withdrawn)",
        0,
        "minor",
        0,
        0,
        False,
        "reversal",
    ),
)
