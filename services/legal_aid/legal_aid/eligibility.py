"""Whether an application gets legal aid: pure functions over the rule book.

Two questions, each answered by named rules (``eligibility.json``):

1. Is the matter within scope? 法律援助法 Art. 31 (``matter.art31``), or else the union's
   broader scope (``matter.union_scope``, 工会法律援助办法).
2. Is the applicant in economic hardship, or exempt from the test? Art. 32's exemptions
   (``exemption.art32``); migrant workers' wage and work-injury claims
   (``exemption.art42_migrant``); otherwise household income per person against the local
   standard (``hardship.<region>``,
   Art. 34, by city, else province).

Every decision lists the rules that decided it and explains itself in Chinese; a denial also
states how to ask for review (``procedure.review``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from legal_aid.rules import Rule, RuleBook
from weiquan_shared.events.legal_aid import RuleRef
from weiquan_shared.labels import LEGAL_AID_DENIAL_REASONS, LEGAL_AID_MATTERS

MATTER_LABELS = LEGAL_AID_MATTERS
CIRCUMSTANCE_LABELS = {
    "martyr_relative": "英雄烈士近亲属为维护英雄烈士的人格权益",
    "bravery": "因见义勇为行为主张相关民事权益",
    "state_compensation": "再审改判无罪请求国家赔偿",
    "domestic_violence": "遭受虐待、遗弃或者家庭暴力的受害人主张相关权益",
}
REASON_TEXT = LEGAL_AID_DENIAL_REASONS


@dataclass(frozen=True)
class Applicant:
    """The facts eligibility looks at (no names: the application's own fields)."""

    matter: str
    district_code: str
    is_migrant_worker: bool = False
    household_size: int | None = None
    monthly_household_income: Decimal | None = None
    circumstances: tuple[str, ...] = ()


Outcome = Literal["granted", "denied", "incomplete"]


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    rules: tuple[Rule, ...]
    reason_codes: tuple[str, ...]
    explanation: tuple[str, ...]
    hardship_exempt: bool
    missing: tuple[str, ...] = field(default=())  # facts still needed (incomplete)

    @property
    def rule_refs(self) -> list[RuleRef]:
        return [r.ref for r in self.rules]

    @property
    def rule_ids(self) -> list[str]:
        return [r.rule_id for r in self.rules]


def hardship_exemption(applicant: Applicant, book: RuleBook, on: date) -> Rule | None:
    """The rule exempting the applicant from the hardship test, if one does."""
    art32 = book.rule("exemption.art32", on)
    if set(applicant.circumstances) & set(art32.value["circumstances"]):
        return art32
    art42 = book.rule("exemption.art42_migrant", on)
    if applicant.is_migrant_worker and applicant.matter in art42.value["matters"]:
        return art42
    return None


def scope_rule(matter: str, book: RuleBook, on: date) -> Rule | None:
    for rule_id in ("matter.art31", "matter.union_scope"):
        rule = book.rule(rule_id, on)
        if matter in rule.value["matters"]:
            return rule
    return None


def decide(applicant: Applicant, book: RuleBook, on: date) -> Decision:
    """Grant, deny, or say which facts are still missing; each with its rules and reasons."""
    matter = MATTER_LABELS.get(applicant.matter, applicant.matter)
    review = book.rule("procedure.review", on)
    scope = scope_rule(applicant.matter, book, on)
    if scope is None:
        considered = (book.rule("matter.art31", on), book.rule("matter.union_scope", on))
        return Decision(
            "denied",
            considered,
            ("out_of_scope",),
            (
                f"申请事项：{matter}",
                f"不予法律援助：{REASON_TEXT['out_of_scope']}",
                *(f"依据：{r.citation}" for r in considered),
                review.citation,
            ),
            hardship_exempt=False,
        )
    lines = [f"申请事项：{matter}", f"援助范围：{scope.citation}"]
    exemption = hardship_exemption(applicant, book, on)
    if exemption is not None:
        lines.append(f"经济困难条件：{exemption.citation}")
        lines.append("决定给予法律援助")
        return Decision("granted", (scope, exemption), (), tuple(lines), hardship_exempt=True)
    standard = book.hardship_standard(applicant.district_code, on)
    if applicant.household_size is None or applicant.monthly_household_income is None:
        return Decision(
            "incomplete",
            (scope, standard),
            ("hardship_unknown",),
            (*lines, "尚缺家庭人口数或家庭月收入，无法审查经济困难状况，请补充"),
            hardship_exempt=False,
            missing=("household",),
        )
    if applicant.household_size < 1:
        raise ValueError("household size must be at least 1")
    per_capita = (applicant.monthly_household_income / applicant.household_size).quantize(
        Decimal("0.01"), ROUND_HALF_UP
    )
    limit = book.standard_amount(standard)
    figures = (
        f"家庭{applicant.household_size}人，月收入合计{applicant.monthly_household_income}元，"
        f"人均{per_capita}元；{standard.value['region_name']}标准为人均{limit}元"
    )
    if per_capita <= limit:
        lines += [f"经济困难条件：{figures}，符合。{standard.citation}", "决定给予法律援助"]
        return Decision("granted", (scope, standard), (), tuple(lines), hardship_exempt=False)
    return Decision(
        "denied",
        (scope, standard),
        ("income_above_standard",),
        (
            *lines,
            f"不予法律援助：{REASON_TEXT['income_above_standard']}（{figures}）。{standard.citation}",
            review.citation,
        ),
        hardship_exempt=False,
    )
