"""The facts the stance rules decide on, computed from a workload's conclusions.

This module is the one definition of those facts (their names are what stance
and organization rules may test); the numbers that shape them, such as the
weight from which an assessment counts as strong, come from the stance rule set.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .paths import rules_schema


def _schema_enum(*path: str) -> tuple[str, ...]:
    """An enumeration of the rule-file schema: the policy's words, not restated here."""
    node = rules_schema()
    for key in path:
        node = node[key]
    return tuple(node["enum"])


SIDES = _schema_enum("$defs", "side")
STANCES = _schema_enum("$defs", "conclusion", "properties", "stance")

# name → (kind, meaning); kinds follow the vocabulary's ("integer", "boolean", "enum").
TALLY_FIELDS: dict[str, tuple[str, str]] = {
    "cloud_weight": ("integer", "sum of the weights of the assessments favoring cloud"),
    "in_house_weight": ("integer", "sum of the weights of the assessments favoring in-house"),
    "cloud_strong": ("integer", "number of strong assessments favoring cloud"),
    "in_house_strong": ("integer", "number of strong assessments favoring in-house"),
    "total_weight": ("integer", "sum of all assessment weights"),
    "margin": ("integer", "absolute difference between the two sides' weights"),
    "leaning": ("enum", "the heavier side: cloud, in-house or even"),
    "requires_cloud": ("boolean", "a hard constraint requires cloud"),
    "requires_in_house": ("boolean", "a hard constraint requires in-house"),
}
LEANINGS = (*SIDES, "even")

ORGANIZATION_FIELDS: dict[str, tuple[str, str]] = {
    "workloads": ("integer", "number of workloads evaluated"),
    "cloud": ("integer", "workloads whose stance is cloud"),
    "in_house": ("integer", "workloads whose stance is in-house"),
    "hybrid": ("integer", "workloads whose stance is hybrid"),
    "conflict": ("integer", "workloads whose stance is conflict"),
    "distinct_stances": ("integer", "how many different stances the workloads have"),
    "common_stance": ("enum", "the stance every workload shares (absent when they differ)"),
}

ENUM_VALUES = {"leaning": LEANINGS, "common_stance": STANCES}


@dataclass(frozen=True)
class Tally:
    cloud_weight: int
    in_house_weight: int
    cloud_strong: int
    in_house_strong: int
    requires_cloud: bool
    requires_in_house: bool
    by_factor: tuple[tuple[str, int, int], ...]  # (factor, cloud weight, in-house weight)

    @property
    def total_weight(self) -> int:
        return self.cloud_weight + self.in_house_weight

    @property
    def margin(self) -> int:
        return abs(self.cloud_weight - self.in_house_weight)

    @property
    def leaning(self) -> str:
        if self.cloud_weight == self.in_house_weight:
            return "even"
        return "cloud" if self.cloud_weight > self.in_house_weight else "in-house"

    def facts(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in TALLY_FIELDS}


def tally(assessments: Iterable[tuple[str, str, int]], requirements: Iterable[str], strong_weight: int) -> Tally:
    """Sum ``(factor, favors, weight)`` assessments and note the required sides."""
    weight = Counter()
    strong = Counter()
    per_factor: dict[str, Counter] = {}
    for factor, favors, w in assessments:
        weight[favors] += w
        strong[favors] += w >= strong_weight
        per_factor.setdefault(factor, Counter())[favors] += w
    required = set(requirements)
    return Tally(
        cloud_weight=weight["cloud"],
        in_house_weight=weight["in-house"],
        cloud_strong=strong["cloud"],
        in_house_strong=strong["in-house"],
        requires_cloud="cloud" in required,
        requires_in_house="in-house" in required,
        by_factor=tuple((f, c["cloud"], c["in-house"]) for f, c in sorted(per_factor.items())),
    )


def organization_facts(stances: Mapping[str, str]) -> dict[str, object]:
    """The organization's stance facts from ``workload id → stance``."""
    counts = Counter(stances.values())
    facts: dict[str, object] = {
        "workloads": len(stances),
        "cloud": counts["cloud"],
        "in_house": counts["in-house"],
        "hybrid": counts["hybrid"],
        "conflict": counts["conflict"],
        "distinct_stances": len(counts),
    }
    if len(counts) == 1:
        facts["common_stance"] = next(iter(counts))
    return facts
