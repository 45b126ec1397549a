"""Triage rules, free of I/O. Each rule has a stable id and a Chinese reason shown to people."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from weiquan_shared.events import CaseReported, Category, Route, TriageReason, Urgency

GROUP_DISPUTE_MIN_WORKERS = 10  # 劳动争议调解仲裁法 Art.7: ten or more workers, one claim

_CATEGORY_ZH: dict[str, str] = {
    "wage_arrears": "拖欠工资",
    "termination": "解除劳动关系/经济补偿",
    "no_written_contract": "未签书面劳动合同",
    "overtime": "加班",
    "social_insurance": "社会保险",
    "work_injury": "工伤",
    "female_protection": "女职工特殊保护",
    "platform_work": "新就业形态/平台用工",
    "other": "其他",
}


@dataclass(frozen=True)
class Lexicon:
    """Category → keywords; the order of categories breaks ties."""

    keywords: dict[str, tuple[str, ...]]

    @classmethod
    def load(cls, path: Path = Path(__file__).parent / "lexicon.json") -> Lexicon:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls({k: tuple(v) for k, v in raw.items() if not k.startswith("_")})


@dataclass(frozen=True)
class Decision:
    category: Category
    secondary_categories: list[Category]
    urgency: Urgency
    route: Route
    reasons: list[TriageReason]


def classify(summary: str, lexicon: Lexicon) -> tuple[Category, list[Category], list[str]]:
    """Primary category, secondary ones, and the keywords that decided."""
    scores: dict[str, list[str]] = {}
    for category, words in lexicon.keywords.items():
        hits = [w for w in words if w in summary]
        if hits:
            scores[category] = hits
    if not scores:
        return "other", [], []
    order = list(lexicon.keywords)
    ranked = sorted(scores, key=lambda c: (-len(scores[c]), order.index(c)))
    primary = ranked[0]
    return primary, ranked[1:], scores[primary]  # type: ignore[return-value]


def triage(case: CaseReported, lexicon: Lexicon) -> Decision:
    category, secondary, hits = classify(case.summary, lexicon)
    if any(w.is_platform_worker for w in case.workers) and category != "platform_work":
        secondary = [*secondary, "platform_work"] if "platform_work" not in secondary else secondary
    reasons = [
        TriageReason(
            rule="category.keywords" if hits else "category.no_match",
            text=f"案情涉及“{'、'.join(hits)}”，归为{_CATEGORY_ZH[category]}"
            if hits
            else "案情未匹配到已知类别关键词，归为其他，请人工复核",
        )
    ]
    worker_count = len(case.workers)
    urgency: Urgency = "normal"
    if worker_count >= GROUP_DISPUTE_MIN_WORKERS:
        urgency = "critical"
        reasons.append(
            TriageReason(
                rule="urgency.group_dispute",
                text=f"{worker_count}名职工共同诉求，属群体性劳动争议（劳动争议调解仲裁法第七条）",
            )
        )
    elif category == "work_injury":
        urgency = "urgent"
        reasons.append(TriageReason(rule="urgency.work_injury", text="涉及工伤，需尽快介入"))
    elif category == "wage_arrears" and any(w.is_migrant_worker for w in case.workers):
        urgency = "urgent"
        reasons.append(
            TriageReason(
                rule="urgency.migrant_wage_arrears",
                text="农民工工资拖欠（保障农民工工资支付条例），优先处理",
            )
        )

    route: Route
    if category == "work_injury":
        route = "legal_aid"
        reasons.append(
            TriageReason(
                rule="route.work_injury_legal_aid",
                text="工伤赔偿属法律援助范围（法律援助法第三十一条），转工会法律援助",
            )
        )
    else:
        route = "mediation"
        reasons.append(TriageReason(rule="route.mediation", text="转劳动争议多元调解"))
    return Decision(category, secondary, urgency, route, reasons)
