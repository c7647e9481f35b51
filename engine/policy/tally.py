"""The facts the stance, plan and organization rules decide on.

This module is the one definition of those facts (their names are what the
stance, plan and organization rules may test) and of how assessments add up:

* feasibility: a side some rule rules out is not feasible;
* each claim counts once: of the assessments for one side that rest on the
  same claim (a rule's first claim), only the heaviest counts;
* each factor is capped: what one factor adds to one side is at most the
  stance rule set's ``factor_cap``.

The numbers that shape them (the cap, the weight from which an assessment is
strong) come from the stance rule set, never from here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from operator import attrgetter

from infra_policy.engine.paths import rules_schema


def _schema_enum(*path: str) -> tuple[str, ...]:
    """An enumeration of the rule-file schema: the policy's words, not restated here."""
    node = rules_schema()
    for key in path:
        node = node[key]
    return tuple(node["enum"])


SIDES = _schema_enum("$defs", "side")
# What an assessment's weight means in words (rules/schema.json: 1 weak, 2 moderate, 3 strong).
STRENGTH = {1: "weak", 2: "moderate", 3: "strong"}
STANCES = _schema_enum("$defs", "conclusion", "properties", "stance")
# The order along which a step toward in-house may only move a stance (conflict and undetermined are off it).
STANCE_ORDER = ("cloud", "hybrid", "in-house")

# name → (kind, meaning); kinds follow the vocabulary's ("integer", "number", "boolean", "enum").
TALLY_FIELDS: dict[str, tuple[str, str]] = {
    "cloud_weight": ("integer", "counted weight of the assessments favoring cloud"),
    "in_house_weight": ("integer", "counted weight of the assessments favoring in-house"),
    "total_weight": ("integer", "sum of the two counted weights"),
    "margin": ("integer", "absolute difference between the two counted weights"),
    "balance": (
        "number",
        "(in-house weight − cloud weight) ÷ total weight: −1 all cloud, 1 all in-house, 0 even or nothing weighed",
    ),
    "leaning": ("enum", "the heavier side: cloud, in-house or even"),
    "counted_factors": ("integer", "number of factors that add weight to either side"),
    "cloud_feasible": ("boolean", "no rule rules the cloud out"),
    "in_house_feasible": ("boolean", "no rule rules in-house servers out"),
    "cloud_strong": ("integer", "number of counted strong assessments favoring cloud (version 1)"),
    "in_house_strong": ("integer", "number of counted strong assessments favoring in-house (version 1)"),
    "requires_cloud": ("boolean", "in-house is ruled out and the cloud is not (version 1)"),
    "requires_in_house": ("boolean", "the cloud is ruled out and in-house is not (version 1)"),
}
LEANINGS = (*SIDES, "even")

# What plan rules test: kind "factors" is a multi-valued list of factor ids of kb/factors.ttl, kind
# "reasons" one of the ids of the counted assessment rules (a plan can then depend on which argument of
# a factor counted: the newest accelerators, not occasional use, call for training in the cloud).
PLAN_FIELDS: dict[str, tuple[str, str]] = {
    "stance": ("enum", "the workload's stance (plan rules are tried for hybrid workloads)"),
    "in_house_factors": ("factors", "the factors whose counted weight favors in-house"),
    "cloud_factors": ("factors", "the factors whose counted weight favors cloud"),
    "in_house_reasons": ("reasons", "the counted assessment rules favoring in-house (rule ids)"),
    "cloud_reasons": ("reasons", "the counted assessment rules favoring cloud (rule ids)"),
}
PLAN_MULTI_VALUED = frozenset(name for name, (kind, _) in PLAN_FIELDS.items() if kind in ("factors", "reasons"))
# the plan fields of kind "reasons", and the side whose counted assessment rules each lists
REASON_FIELDS = {"in_house_reasons": "in-house", "cloud_reasons": "cloud"}

ORGANIZATION_FIELDS: dict[str, tuple[str, str]] = {
    "workloads": ("integer", "number of workloads evaluated"),
    "cloud": ("integer", "workloads whose stance is cloud"),
    "in_house": ("integer", "workloads whose stance is in-house"),
    "hybrid": ("integer", "workloads whose stance is hybrid"),
    "conflict": ("integer", "workloads whose stance is conflict"),
    "undetermined": ("integer", "workloads whose stance is undetermined"),
    "distinct_stances": ("integer", "how many different stances the workloads have"),
    "common_stance": ("enum", "the stance every workload shares (absent when they differ)"),
}

ENUM_VALUES = {"leaning": LEANINGS, "common_stance": STANCES, "stance": STANCES}


@dataclass(frozen=True)
class Weighed:
    """One assessment as the tally sees it."""

    rule: str
    factor: str
    favors: str
    weight: int
    claim: str  # the claim its weight rests on


@dataclass(frozen=True)
class Tally:
    cloud_weight: int
    in_house_weight: int
    counted_factors: int
    cloud_feasible: bool
    in_house_feasible: bool
    cloud_strong: int
    in_house_strong: int
    by_factor: tuple[tuple[str, int, int], ...]  # (factor, counted cloud weight, counted in-house weight)
    # (rule, rule whose assessment counts instead): same side, same claim, not heavier
    superseded: tuple[tuple[str, str], ...] = ()
    # (factor, side, weight before the cap): factors whose weight was capped
    capped: tuple[tuple[str, str, int], ...] = ()

    @property
    def total_weight(self) -> int:
        return self.cloud_weight + self.in_house_weight

    @property
    def margin(self) -> int:
        return abs(self.cloud_weight - self.in_house_weight)

    @property
    def balance(self) -> float:
        total = self.total_weight
        return round((self.in_house_weight - self.cloud_weight) / total, 4) if total else 0.0

    @property
    def leaning(self) -> str:
        if self.cloud_weight == self.in_house_weight:
            return "even"
        return "cloud" if self.cloud_weight > self.in_house_weight else "in-house"

    @property
    def requires_cloud(self) -> bool:
        return self.cloud_feasible and not self.in_house_feasible

    @property
    def requires_in_house(self) -> bool:
        return self.in_house_feasible and not self.cloud_feasible

    @property
    def feasible(self) -> tuple[str, ...]:
        return tuple(side for side in SIDES if self.is_feasible(side))

    def is_feasible(self, side: str) -> bool:
        return self.cloud_feasible if side == "cloud" else self.in_house_feasible

    def weight(self, side: str) -> int:
        return self.cloud_weight if side == "cloud" else self.in_house_weight

    def factors_favoring(self, side: str) -> tuple[str, ...]:
        column = 1 if side == "cloud" else 2
        return tuple(entry[0] for entry in self.by_factor if entry[column] > 0)

    def counted(self, rule: str) -> bool:
        return all(rule != loser for loser, _ in self.superseded)

    def facts(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in TALLY_FIELDS}


def tally(
    assessments: Iterable[Weighed], ruled_out: Iterable[str], factor_cap: int = 0, strong_weight: int = 3
) -> Tally:
    """Count the assessments (each claim once per side, each factor capped) and note the ruled-out sides."""
    best: dict[tuple[str, str], Weighed] = {}
    superseded: list[tuple[str, str]] = []
    raw: dict[tuple[str, str], int] = {}
    strong = {"cloud": 0, "in-house": 0}
    # heaviest first, then by rule id: the assessment that counts for a claim is the same in every run
    # (two stable sorts by attribute: the change search tallies tens of thousands of sets)
    ordered = sorted(assessments, key=_RULE)
    ordered.sort(key=_WEIGHT, reverse=True)
    for a in ordered:
        key = (a.favors, a.claim)
        winner = best.get(key)
        if winner is None:
            best[key] = a
            counted_key = (a.factor, a.favors)
            raw[counted_key] = raw.get(counted_key, 0) + a.weight
            if a.weight >= strong_weight:
                strong[a.favors] += 1
        else:
            superseded.append((a.rule, winner.rule))
    per_factor: dict[str, list[int]] = {}
    capped = []
    totals = [0, 0]  # cloud, in-house
    for (factor, side), weight in sorted(raw.items()):
        counted = min(weight, factor_cap) if factor_cap else weight
        if counted < weight:
            capped.append((factor, side, weight))
        per_factor.setdefault(factor, [0, 0])[side != "cloud"] = counted
        totals[side != "cloud"] += counted
    by_factor = tuple((f, c, i) for f, (c, i) in per_factor.items())
    out = set(ruled_out)
    return Tally(
        cloud_weight=totals[0],
        in_house_weight=totals[1],
        counted_factors=len(by_factor),
        cloud_feasible="cloud" not in out,
        in_house_feasible="in-house" not in out,
        cloud_strong=strong["cloud"],
        in_house_strong=strong["in-house"],
        by_factor=by_factor,
        superseded=tuple(sorted(superseded)),
        capped=tuple(capped),
    )


_RULE = attrgetter("rule")
_WEIGHT = attrgetter("weight")


def plan_facts(t: Tally, stance: str, reasons: Mapping[str, tuple[str, ...]]) -> dict[str, object]:
    """What the plan rules test for one workload; ``reasons``: side → the counted assessment rules for it."""
    return {
        "stance": stance,
        "in_house_factors": t.factors_favoring("in-house"),
        "cloud_factors": t.factors_favoring("cloud"),
        **{field: tuple(sorted(reasons.get(side, ()))) for field, side in REASON_FIELDS.items()},
    }


def organization_facts(stances: Mapping[str, str]) -> dict[str, object]:
    """The organization's stance facts from ``workload id → stance``."""
    counts = Counter(stances.values())
    facts: dict[str, object] = {
        "workloads": len(stances),
        "cloud": counts["cloud"],
        "in_house": counts["in-house"],
        "hybrid": counts["hybrid"],
        "conflict": counts["conflict"],
        "undetermined": counts["undetermined"],
        "distinct_stances": len(counts),
    }
    if len(counts) == 1:
        facts["common_stance"] = next(iter(counts))
    return facts
