"""The labelled case descriptions and the figures measured on them.

``triage_cases.jsonl`` (223 descriptions) is the set the lexicon was written against;
``triage_cases_holdout.jsonl`` (54) was written after the lexicon was first frozen, to
estimate how it does on wording it was not tuned on (it has been looked at once since, so
its figure is now optimistic too).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
LABELLED = HERE / "triage_cases.jsonl"
HOLDOUT = HERE / "triage_cases_holdout.jsonl"


@dataclass(frozen=True)
class Labelled:
    text: str
    category: str


def load(path: Path = LABELLED) -> list[Labelled]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [Labelled(r["text"], r["category"]) for r in rows]


@dataclass(frozen=True)
class Scores:
    per_category: dict[str, tuple[float, float, int]]  # precision, recall, support
    accuracy: float

    @property
    def macro_f1(self) -> float:
        f1s = [2 * p * r / (p + r) if p + r else 0.0 for p, r, _ in self.per_category.values()]
        return sum(f1s) / len(f1s)


def score(expected: Sequence[str], predicted: Sequence[str]) -> Scores:
    categories = sorted(set(expected))
    per_category: dict[str, tuple[float, float, int]] = {}
    for category in categories:
        tp = sum(e == p == category for e, p in zip(expected, predicted, strict=True))
        said = sum(p == category for p in predicted)
        support = sum(e == category for e in expected)
        per_category[category] = (tp / said if said else 0.0, tp / support, support)
    correct = sum(e == p for e, p in zip(expected, predicted, strict=True))
    return Scores(per_category, correct / len(expected))
