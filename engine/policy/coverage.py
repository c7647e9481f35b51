"""Rule coverage over a corpus of decisions (`infra-policy coverage`, `infra-policy test --coverage`).

For every rule: how many subjects (workloads; organizations for organization
rules) it fired for, and, like branch coverage, which parts of its condition
were never seen both ways. The parts are the items of every ``all`` and
``any`` (a ``not`` is looked through: the items under it count); each has two
outcomes, held and failed, and a corpus exercises a part when it shows both.
A rule whose condition is one test has no parts, only its firing.

Each part is evaluated on what the rule's stage saw for each subject: the
stated and computed facts and the derived conclusions (factor rules), the
tally (stance rules), the factors for each side of a hybrid workload (plan
rules) and the workloads' stances (organization rules) — the same values the
rule engine matched, so a part is judged exactly as the rule was.

The figure: covered outcomes ÷ all outcomes, where each rule has one outcome
for firing and two per part. Rules that can never fire whatever the facts
(:mod:`~infra_policy.engine.policy.satisfy`) are listed apart; they stay in the
figure, which therefore cannot reach 100 % until they are fixed.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from infra_policy.engine.model import Decision, WorkloadDecision
from infra_policy.engine.policy.conditions import describe
from infra_policy.engine.policy.ruleload import Policy
from infra_policy.engine.policy.rules_ast import All, Any, Condition, Not, Rule, evaluate
from infra_policy.engine.policy.satisfy import PolicyDomains
from infra_policy.engine.policy.tally import organization_facts, plan_facts


def parts(condition: Condition, path: str = "when") -> Iterator[tuple[str, Condition]]:
    """(path, sub-condition) for every item of an ``all``/``any`` inside ``condition``, a ``not`` looked through."""
    if isinstance(condition, Not):
        yield from parts(condition.item, f"{path}.not")
    elif isinstance(condition, (All, Any)):
        key = "all" if isinstance(condition, All) else "any"
        for index, item in enumerate(condition.items):
            here = f"{path}.{key}[{index}]"
            yield here, item
            yield from parts(item, here)


@dataclass(frozen=True)
class Observation:
    """What one rule stage saw for one subject."""

    stage: str  # "factor" | "stance" | "plan" | "organization"
    facts: Mapping[str, object]
    derived: frozenset[str]
    fired: frozenset[str]


def observations(decision: Decision) -> Iterator[Observation]:
    """Every stage's view of every subject of a decision."""
    for w in decision.workloads:
        yield from workload_observations(w)
    stances = {w.id: w.stance for w in decision.workloads}
    yield Observation(
        "organization", organization_facts(stances), frozenset(), frozenset({decision.stance_firing.rule})
    )


def workload_observations(w: WorkloadDecision) -> Iterator[Observation]:
    derived = frozenset(d.name for d in w.derivations)
    yield Observation("factor", w.values(), derived, frozenset(f.rule for f in w.firings))
    yield Observation("stance", w.tally.facts(), frozenset(), frozenset({w.stance_firing.rule}))
    if w.stance == "hybrid":  # plan rules are tried for hybrid workloads only
        fired = frozenset({w.plan.rule}) if w.plan is not None and w.plan.rule else frozenset()
        because = {"in-house": w.plan.in_house_because, "cloud": w.plan.cloud_because} if w.plan else {}
        yield Observation("plan", plan_facts(w.tally, w.stance, because), frozenset(), fired)


@dataclass
class PartCoverage:
    path: str
    text: str
    held: int = 0
    failed: int = 0

    @property
    def covered(self) -> int:
        return (self.held > 0) + (self.failed > 0)


@dataclass
class RuleCoverage:
    rule: str
    stage: str
    seen: int = 0  # subjects its stage saw
    fired: int = 0
    parts: list[PartCoverage] = field(default_factory=list)
    never_fires: str = ""  # why no facts can make it fire ("" when some can)

    @property
    def outcomes(self) -> int:
        return 1 + 2 * len(self.parts)

    @property
    def covered(self) -> int:
        return (self.fired > 0) + sum(p.covered for p in self.parts)


_STAGE_OF_KIND = {"factor": "factor", "stance": "stance", "plan": "plan", "organization": "organization"}


@dataclass
class Coverage:
    rules: list[RuleCoverage]
    decisions: int = 0
    workloads: int = 0

    @property
    def outcomes(self) -> int:
        return sum(r.outcomes for r in self.rules)

    @property
    def covered(self) -> int:
        return sum(r.covered for r in self.rules)

    @property
    def percent(self) -> float:
        return round(100 * self.covered / self.outcomes, 1) if self.outcomes else 100.0

    @property
    def fired_rules(self) -> int:
        return sum(r.fired > 0 for r in self.rules)

    @property
    def part_outcomes(self) -> tuple[int, int]:
        return sum(p.covered for r in self.rules for p in r.parts), sum(2 * len(r.parts) for r in self.rules)


def measure(decisions: Iterable[Decision], policy: Policy, vocabulary, factors) -> Coverage:
    """The coverage of ``policy``'s rules by the subjects of ``decisions``."""
    domains = PolicyDomains(policy, vocabulary, factors)
    kind_of = {rule.id: rs.kind for rs in policy.rulesets for rule in rs.rules}
    by_stage: dict[str, list[tuple[Rule, RuleCoverage]]] = {}
    found = []
    for rule in policy.rules:
        verdict = domains.can_hold(rule)
        entry = RuleCoverage(
            rule.id,
            _STAGE_OF_KIND[kind_of[rule.id]],
            parts=[PartCoverage(path, describe(item)) for path, item in parts(rule.when)],
            never_fires=verdict.reason if verdict.satisfiable is False else "",
        )
        found.append(entry)
        by_stage.setdefault(entry.stage, []).append((rule, entry))
    conditions = {rule.id: [item for _, item in parts(rule.when)] for rule in policy.rules}
    coverage = Coverage(sorted(found, key=lambda r: r.rule))
    for decision in decisions:
        coverage.decisions += 1
        coverage.workloads += len(decision.workloads)
        for seen in observations(decision):
            for rule, entry in by_stage.get(seen.stage, ()):
                entry.seen += 1
                entry.fired += rule.id in seen.fired
                for part, item in zip(entry.parts, conditions[rule.id], strict=True):
                    if evaluate(item, seen.facts, seen.derived):
                        part.held += 1
                    else:
                        part.failed += 1
    return coverage


def decide_recorded(data: Mapping, source: object, evaluator) -> Decision:
    """Decide again, under the evaluator's policy, the stated facts a recorded decision document lists
    (read back as `impact --records` reads them)."""
    from infra_policy.engine.records.replay import replay_document
    from infra_policy.engine.stages.inputs import DEFAULT_LIMITS

    # the limits of a facts file given to `coverage` (it has no options to raise them)
    document = replay_document(data, source, evaluator.kb.vocabulary, DEFAULT_LIMITS)
    return evaluator.decide(document, evaluator.profile(document), explore_changes=False)


# ---------------------------------------------------------------------------
# reports


def _missing(part: PartCoverage) -> str:
    if part.held == 0 and part.failed == 0:
        return "never evaluated"
    return "never held" if part.held == 0 else "never failed"


def render_text(coverage: Coverage) -> str:
    lines = [
        f"Rule coverage over {coverage.decisions} decision{'s' * (coverage.decisions != 1)} "
        f"({coverage.workloads} workload{'s' * (coverage.workloads != 1)})",
        "",
    ]
    width = max((len(r.rule) for r in coverage.rules), default=4)
    lines.append(f"{'rule'.ljust(width)}  {'fired':>5}  parts exercised")
    for r in coverage.rules:
        shown = f"{sum(p.covered == 2 for p in r.parts)}/{len(r.parts)}" if r.parts else "-"
        lines.append(f"{r.rule.ljust(width)}  {r.fired:>5}  {shown}")
        for p in r.parts:
            if p.covered < 2:
                lines.append(f"{' ' * width}         {p.path} ({p.text}): {_missing(p)}")
    never_fired = [r.rule for r in coverage.rules if r.fired == 0 and not r.never_fires]
    dead = [r for r in coverage.rules if r.never_fires]
    lines.append("")
    lines += textwrap.wrap(
        f"Rules that never fired ({len(never_fired)}): {', '.join(never_fired) or 'none'}",
        width=100,
        subsequent_indent="  ",
        break_on_hyphens=False,
    )
    if dead:
        lines.append(f"Rules that can never fire ({len(dead)}, whatever the facts):")
        lines += [f"  {r.rule}: {r.never_fires}" for r in dead]
    else:
        lines.append("Rules that can never fire: none")
    covered_parts, all_parts = coverage.part_outcomes
    lines.append(
        f"Coverage: {coverage.percent:.1f}% (rules fired {coverage.fired_rules}/{len(coverage.rules)}, "
        f"condition outcomes {covered_parts}/{all_parts})"
    )
    return "\n".join(lines) + "\n"


COVERAGE_FORMAT = "infra-policy/coverage@1"


def coverage_dict(coverage: Coverage) -> dict:
    covered_parts, all_parts = coverage.part_outcomes
    return {
        "format": COVERAGE_FORMAT,
        "percent": coverage.percent,
        "decisions": coverage.decisions,
        "workloads": coverage.workloads,
        "rules_fired": coverage.fired_rules,
        "rules": len(coverage.rules),
        "condition_outcomes": {"covered": covered_parts, "total": all_parts},
        "never_fired": [r.rule for r in coverage.rules if r.fired == 0],
        "can_never_fire": [{"rule": r.rule, "why": r.never_fires} for r in coverage.rules if r.never_fires],
        "by_rule": [
            {
                "rule": r.rule,
                "stage": r.stage,
                "seen": r.seen,
                "fired": r.fired,
                "parts": [{"path": p.path, "condition": p.text, "held": p.held, "failed": p.failed} for p in r.parts],
            }
            for r in coverage.rules
        ],
    }


__all__ = ["Coverage", "coverage_dict", "measure", "observations", "parts", "render_text"]
