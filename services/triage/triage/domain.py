"""Triage's decision, free of I/O: category, urgency, route, clocks, group and employer flag.

Every rule has a stable id and a Chinese reason shown to people; every number comes from
the versioned rule data (``rules.json``), the holiday calendar (shared) or the lexicon.

Urgency is the highest level any rule gives; every rule that fired is listed:

======================================  ========  ============================================
rule                                    level     when
======================================  ========  ============================================
urgency.group_dispute                   critical  the case is part of a group dispute
urgency.limitation_imminent             critical  fewer than ``provisional_aid_days`` left
urgency.limitation_expired              (data)    the limitation period has run out: the
                                                  level ``limitation.expired`` names
urgency.migrant_wages_spring_festival   critical  migrant wage arrears in the weeks before the
                                                  Spring Festival
urgency.work_injury                     urgent    work injury
urgency.limitation_soon                 urgent    limitation due within ``limitation_soon_days``
urgency.vulnerable_worker               urgent    pregnant, nursing, minor, disabled, gravely ill
urgency.migrant_wage_arrears            urgent    migrant workers' wage arrears
======================================  ========  ============================================

Route, first rule that applies (``route_for``): a question with no claim is answered as a
consultation; a limitation period that has run out → where ``limitation.expired`` says
(union legal aid), for a lawyer to check whether it was interrupted or suspended (Art.27:
an expired period is its own state, never "a negative number of days left"); fewer than 7
days of limitation left → provisional legal aid (法律援助法 Art.44); a group dispute → the
court–union mediation room (its agreements can be judicially confirmed); work injury →
union legal aid (Art.31(7)); unpaid social insurance → referral to labour inspection
(collection is the authorities' power, not a mediable claim); migrant wage arrears → union
legal aid (Art.42(3), 保障农民工工资支付条例 Art.45); platform work → the industry mediation
committee; a limitation within 30 days → the "union + arbitration" room at the labour
bureau, so a failed mediation is already at the arbitration commission; anything else →
the union's own mediation.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from triage.classification import Classification, Lexicon, classify
from triage.clocks import ClockInputs, china_date, compute_clocks, days_left, limitation_expired
from triage.grouping import (
    GroupOutcome,
    NewCase,
    PriorCase,
    RepeatEmployer,
    employer_key,
    find_group,
    repeat_employer,
)
from triage.rules import RuleBook
from weiquan_shared.events import (
    CaseReported,
    Category,
    DecisionSnapshot,
    Route,
    RouteDetail,
    StatutoryClock,
    TriageReason,
    Urgency,
)
from weiquan_shared.labels import ROLES
from weiquan_shared.legal_calendar import LegalCalendar

_LEVEL: dict[Urgency, int] = {"normal": 0, "urgent": 1, "critical": 2}


@dataclass(frozen=True)
class Policy:
    """Everything the rules read: lexicon, versioned rule data and the holiday calendar."""

    lexicon: Lexicon
    rules: RuleBook
    calendar: LegalCalendar

    @classmethod
    def load(cls) -> Policy:
        return cls(Lexicon.load(), RuleBook.load(), LegalCalendar.load())


@dataclass(frozen=True)
class Decision:
    category: Category
    secondary_categories: list[Category]
    urgency: Urgency
    route: Route
    route_detail: RouteDetail
    reasons: list[TriageReason]
    clocks: list[StatutoryClock] = field(default_factory=list)
    group_id: uuid.UUID | None = None
    employer_flagged: bool = False
    seq: int = 1  # the decision's number within its case; a later decision is one more

    def snapshot(self) -> DecisionSnapshot:
        return DecisionSnapshot(
            category=self.category,
            urgency=self.urgency,
            route=self.route,
            route_detail=self.route_detail,
        )


@dataclass(frozen=True)
class CaseFacts:
    """What triage keeps of a case to decide it again (group upgrade, override)."""

    is_migrant: bool
    is_platform: bool
    has_claim: bool
    summary: str
    worker_count: int
    clock_inputs: ClockInputs


@dataclass(frozen=True)
class Situation:
    """What is known about the case beyond its own text when deciding."""

    today: date
    group: GroupOutcome | None = None
    employer_flagged: bool = False


def facts_of(case: CaseReported) -> CaseFacts:
    return CaseFacts(
        is_migrant=any(w.is_migrant_worker for w in case.workers),
        is_platform=any(w.is_platform_worker for w in case.workers),
        has_claim=case.claim_amount is not None and case.claim_amount > 0,
        summary=case.summary,
        worker_count=len(case.workers),
        clock_inputs=ClockInputs(case.knew_of_infringement_on, case.employment_ended_on),
    )


def classify_case(case: CaseReported, policy: Policy) -> Classification:
    """The case's categories, from its summary and whether a platform worker reported it."""
    platform = any(w.is_platform_worker for w in case.workers)
    return classify(case.summary, policy.lexicon, platform_worker=platform)


@dataclass(frozen=True)
class Upgrade:
    """An earlier case linked into a group now, its decision until now and its new one."""

    case: PriorCase
    previous: Decision
    decision: Decision


@dataclass(frozen=True)
class Assessment:
    employer_key: str
    decision: Decision
    group: GroupOutcome | None
    upgrades: list[Upgrade]
    repeat: RepeatEmployer | None


def assess(
    case: CaseReported,
    history: list[PriorCase],
    *,
    current: dict[uuid.UUID, tuple[Decision, CaseFacts, bool]],
    flagged_on: date | None,
    policy: Policy,
    classification: Classification | None = None,
) -> Assessment:
    """Decide a newly reported case against the employer's earlier cases.

    ``current`` maps each earlier case id to its current decision, its facts and whether
    that decision was an officer's override (which a group upgrade keeps the route of).
    ``classification`` is the case's :func:`classify_case`, if the caller has it already.
    """
    facts = facts_of(case)
    today = china_date(case.reported_at)
    classification = classification or classify_case(case, policy)
    key = employer_key(case.employer)
    new = NewCase(
        case.case_id,
        case.case_number,
        classification.category,
        frozenset(w.worker_ref for w in case.workers),
        today,
    )
    group = find_group(new, history, key, policy.rules)
    repeat = repeat_employer(new, history, flagged_on, policy.rules)
    flagged = repeat is not None or (
        flagged_on is not None
        and today - flagged_on
        < timedelta(days=policy.rules.number("repeat_employer.window_days", today))
    )
    decision = decide(facts, classification, Situation(today, group, flagged), policy)
    upgrades: list[Upgrade] = []
    if group is not None:
        for prior in group.joining:
            earlier, prior_facts, overridden = current[prior.case_id]
            upgraded = join_group(earlier, prior_facts, group, today, overridden, policy)
            if upgraded != earlier:
                upgrades.append(Upgrade(prior, earlier, upgraded))
    return Assessment(key, decision, group, upgrades, repeat)


def decide(
    facts: CaseFacts, classification: Classification, situation: Situation, policy: Policy
) -> Decision:
    category = classification.category
    reasons = [_category_reason(classification, policy.lexicon)]
    limitation = compute_clocks(
        facts.clock_inputs,
        category=category,
        route="consultation",
        today=situation.today,
        rules=policy.rules,
        calendar=policy.calendar,
    )[0]
    urgency, urgency_reasons = _urgency(facts, category, limitation, situation, policy)
    route, detail, route_reason = route_for(facts, category, limitation, situation, policy)
    reasons += [*urgency_reasons, route_reason]
    if situation.employer_flagged:
        reasons.append(
            TriageReason(
                rule="employer.repeat",
                text="该用人单位近期多次被投诉，已列为重复投诉单位，建议提请工会劳动法律监督"
                "（一函两书）",
            )
        )
    clocks = compute_clocks(
        facts.clock_inputs,
        category=category,
        route=route,
        today=situation.today,
        rules=policy.rules,
        calendar=policy.calendar,
    )
    return Decision(
        category=category,
        secondary_categories=classification.secondary,
        urgency=urgency,
        route=route,
        route_detail=detail,
        reasons=reasons,
        clocks=clocks,
        group_id=situation.group.group_id if situation.group else None,
        employer_flagged=situation.employer_flagged,
    )


def _category_reason(classification: Classification, lexicon: Lexicon) -> TriageReason:
    if not classification.hits:
        return TriageReason(
            rule="category.no_match",
            text="案情未匹配到已知类别关键词，归为其他，请人工复核",
        )
    return TriageReason(
        rule="category.keywords",
        text=f"案情涉及“{'、'.join(classification.hits)}”，"
        f"归为{lexicon.label(classification.category)}",
    )


def _group_reason(group: GroupOutcome) -> TriageReason:
    return TriageReason(
        rule="urgency.group_dispute",
        text=f"同一用人单位{group.case_count}起案件共{group.worker_count}名职工诉求相同，"
        f"属群体性劳动争议（劳动争议调解仲裁法第七条），已并入群体案件{group.group_number}",
    )


def _urgency(
    facts: CaseFacts,
    category: Category,
    limitation: StatutoryClock,
    situation: Situation,
    policy: Policy,
) -> tuple[Urgency, list[TriageReason]]:
    rules, today = policy.rules, situation.today
    fired: list[tuple[Urgency, TriageReason]] = []
    if situation.group is not None:
        fired.append(("critical", _group_reason(situation.group)))
    left = days_left(limitation, today)
    if limitation_expired(limitation, today):
        fired.append(
            (
                rules.handling("limitation.expired", today).urgency,
                TriageReason(
                    rule="urgency.limitation_expired",
                    text=f"仲裁时效已于{limitation.due_on}届满，需尽快核实有无时效中断、中止情形"
                    "（劳动争议调解仲裁法第二十七条）",
                ),
            )
        )
    elif left is not None and left < rules.number("urgency.provisional_aid_days", today):
        fired.append(
            (
                "critical",
                TriageReason(
                    rule="urgency.limitation_imminent",
                    text=f"仲裁时效于{limitation.due_on}届满，仅余{left}天，需立即申请仲裁或先行法律援助",
                ),
            )
        )
    elif left is not None and left <= rules.number("urgency.limitation_soon_days", today):
        fired.append(
            (
                "urgent",
                TriageReason(
                    rule="urgency.limitation_soon",
                    text=f"仲裁时效于{limitation.due_on}届满，剩余{left}天",
                ),
            )
        )
    if category == "wage_arrears" and facts.is_migrant:
        festival = _next_spring_festival(today, rules)
        weeks = rules.number("urgency.spring_festival_days", today)
        if festival is not None and (festival - today).days <= weeks:
            fired.append(
                (
                    "critical",
                    TriageReason(
                        rule="urgency.migrant_wages_spring_festival",
                        text=f"春节（{festival}）前农民工工资拖欠，优先处理，确保工资发放到位",
                    ),
                )
            )
        else:
            fired.append(
                (
                    "urgent",
                    TriageReason(
                        rule="urgency.migrant_wage_arrears",
                        text="农民工工资拖欠（保障农民工工资支付条例），优先处理",
                    ),
                )
            )
    if category == "work_injury":
        fired.append(
            (
                "urgent",
                TriageReason(rule="urgency.work_injury", text="涉及工伤，需尽快介入（逢伤必探）"),
            )
        )
    vulnerable = policy.lexicon.vulnerable_groups(facts.summary)
    if vulnerable:
        fired.append(
            (
                "urgent",
                TriageReason(
                    rule="urgency.vulnerable_worker",
                    text=f"涉及{'、'.join(vulnerable)}，需优先保护",
                ),
            )
        )
    urgency: Urgency = max((level for level, _ in fired), key=_LEVEL.__getitem__, default="normal")
    return urgency, [reason for _, reason in fired]


def _next_spring_festival(today: date, rules: RuleBook) -> date | None:
    for year in (today.year, today.year + 1):
        festival = rules.spring_festival(year, today)
        if festival is not None and festival >= today:
            return festival
    return None


def route_for(
    facts: CaseFacts,
    category: Category,
    limitation: StatutoryClock,
    situation: Situation,
    policy: Policy,
) -> tuple[Route, RouteDetail, TriageReason]:
    rules, today = policy.rules, situation.today
    left = days_left(limitation, today)
    if (
        not facts.has_claim
        and situation.group is None
        and facts.worker_count == 1
        and policy.lexicon.is_consultation(facts.summary)
        and category not in ("work_injury", "wage_arrears")
    ):
        return (
            "consultation",
            "consultation.answered",
            TriageReason(rule="route.consultation", text="职工咨询政策，无具体金额诉求，当场解答"),
        )
    if limitation_expired(limitation, today):
        handling = rules.handling("limitation.expired", today)
        return (
            handling.route,
            handling.route_detail,
            TriageReason(rule="route.limitation_expired", text=handling.reason),
        )
    if left is not None and left < rules.number("urgency.provisional_aid_days", today):
        return (
            "legal_aid",
            "legal_aid.union",
            TriageReason(
                rule="route.provisional_legal_aid",
                text="距仲裁时效届满不足七日，先行提供法律援助（法律援助法第四十四条）",
            ),
        )
    if situation.group is not None:
        return (
            "mediation",
            "mediation.court_union_room",
            TriageReason(
                rule="route.group_court_union_room",
                text="群体性劳动争议，转诉调对接劳动争议协调室调解，调解协议可申请司法确认",
            ),
        )
    if category == "work_injury":
        return (
            "legal_aid",
            "legal_aid.union",
            TriageReason(
                rule="route.work_injury_legal_aid",
                text="工伤赔偿属法律援助范围（法律援助法第三十一条），转工会法律援助",
            ),
        )
    if category == "social_insurance":
        return (
            "referral",
            "referral.labour_inspection",
            TriageReason(
                rule="route.social_insurance_inspection",
                text="未依法缴纳社会保险费由劳动保障监察和社保征收机构处理，转介劳动保障监察",
            ),
        )
    if category == "wage_arrears" and facts.is_migrant:
        return (
            "legal_aid",
            "legal_aid.union",
            TriageReason(
                rule="route.migrant_wages_legal_aid",
                text="农民工追索劳动报酬，免予经济困难审查，优先提供法律援助"
                "（法律援助法第四十二条、保障农民工工资支付条例第四十五条）",
            ),
        )
    if category == "platform_work":
        return (
            "mediation",
            "mediation.industry_committee",
            TriageReason(
                rule="route.platform_industry_mediation",
                text="新就业形态劳动者与平台的争议，转行业性劳动争议调解委员会",
            ),
        )
    if left is not None and left <= rules.number("urgency.limitation_soon_days", today):
        return (
            "mediation",
            "mediation.labour_bureau",
            TriageReason(
                rule="route.union_arbitration_room",
                text="仲裁时效临近，转“工会+仲裁”调解室，调解不成可直接进入仲裁",
            ),
        )
    return (
        "mediation",
        "mediation.union",
        TriageReason(rule="route.mediation", text="转工会劳动争议调解"),
    )


def join_group(
    current: Decision,
    facts: CaseFacts,
    group: GroupOutcome,
    today: date,
    overridden: bool,
    policy: Policy,
) -> Decision:
    """An earlier case's decision once it is linked into ``group``: critical, grouped."""
    reasons = [r for r in current.reasons if r.rule != "urgency.group_dispute"]
    reasons.append(_group_reason(group))
    route, detail = current.route, current.route_detail
    if not overridden:
        route, detail = "mediation", "mediation.court_union_room"
    clocks = current.clocks
    if route != current.route:
        clocks = compute_clocks(
            facts.clock_inputs,
            category=current.category,
            route=route,
            today=today,
            rules=policy.rules,
            calendar=policy.calendar,
        )
    return replace(
        current,
        urgency="critical",
        route=route,
        route_detail=detail,
        reasons=reasons,
        clocks=clocks,
        group_id=group.group_id,
        seq=current.seq + 1,
    )


@dataclass(frozen=True)
class OverrideRequest:
    officer_id: str
    reason: str
    category: Category | None = None
    urgency: Urgency | None = None
    route: Route | None = None
    route_detail: RouteDetail | None = None


class NothingToChange(ValueError):
    """The override would leave the decision as it is."""


def override(
    current: Decision, facts: CaseFacts, request: OverrideRequest, today: date, policy: Policy
) -> Decision:
    """A triage officer's decision replacing the current one; clocks follow the new route."""
    route = request.route or current.route
    detail = request.route_detail or (
        current.route_detail if route == current.route else _default_detail(route)
    )
    category = request.category or current.category
    changed = replace(
        current,
        category=category,
        secondary_categories=[c for c in current.secondary_categories if c != category],
        urgency=request.urgency or current.urgency,
        route=route,
        route_detail=detail,
        reasons=[
            *current.reasons,
            TriageReason(
                rule="override.officer",
                text=f"{ROLES['triage_officer']}{request.officer_id}调整分流：{request.reason}",
            ),
        ],
        seq=current.seq + 1,
    )
    if changed.snapshot() == current.snapshot():
        raise NothingToChange("与当前分流决定相同，无需调整")
    if (category, route) != (current.category, current.route):
        changed = replace(
            changed,
            clocks=compute_clocks(
                facts.clock_inputs,
                category=category,
                route=route,
                today=today,
                rules=policy.rules,
                calendar=policy.calendar,
            ),
        )
    return changed


def _default_detail(route: Route) -> RouteDetail:
    defaults: dict[Route, RouteDetail] = {
        "consultation": "consultation.answered",
        "mediation": "mediation.union",
        "legal_aid": "legal_aid.union",
        "referral": "referral.labour_inspection",
    }
    return defaults[route]
