"""Monotonicity and cliffs: does the policy respect the directions the vocabulary declares?

The knowledge base declares, for each ordered fact, the side that raising it
favors (``ip:raisingPushesToward``): a larger number, true over false, the next
value by rank, one more value of a multi-valued fact. A policy respects it
when such a step never lowers the weight of that side, never raises the
weight of the other, never rules that side out and never makes the other
feasible again. Since the stance rules read only those weights and the
feasible sides, a stance can then only move toward that side along
cloud < hybrid < in-house.

A *cliff* is a threshold of a continuous quantity (a number) where one step
changes a side's weight by more than one point; feasibility thresholds are
exempt (they are meant to be hard).

:func:`check_policy` walks every declared fact through its steps, in every
context of the facts the affected rules read (sampled, deterministically,
when there are too many), and reports each violation with the rules that
made it. It reads the policy and the vocabulary only; it is what
``infra-policy rules check`` runs and what the tests hold the shipped policy to.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from infra_policy.engine.policy.ruleload import Policy
from infra_policy.engine.policy.rules_ast import Test, Value, iter_tests, predicate, value_text
from infra_policy.engine.policy.tally import SIDES, Tally, tally
from infra_policy.engine.stages.cost import MODEL_INPUTS, computed_facts
from infra_policy.engine.vocabulary import Property, Vocabulary

ABSENT = object()  # a fact that is not given

# Values tried for a cost-model input, whose thresholds are on what the model computes from it.
MAGNITUDES = (1, 10, 100, 1_000, 10_000, 100_000, 1_000_000)

# Contexts tried per fact before sampling instead of enumerating.
MAX_CONTEXTS = 1500
# ... and for a cost-model input, whose contexts are every other input of the model.
COST_CONTEXTS = 300
# Subsets of a multi-valued fact's values tried (by size).
MAX_SET_SIZE = 3


@dataclass(frozen=True)
class Outcome:
    """What the factor rules conclude for some facts, as the stance rules see it."""

    tally: Tally
    fired: frozenset[str]

    def weight(self, side: str) -> int:
        return self.tally.weight(side)

    def feasible(self, side: str) -> bool:
        return self.tally.is_feasible(side)


def _step_text(value: object) -> str:
    """A step's value in a message: an empty set of values or a missing fact said in words."""
    if value is None:
        return "not stated"
    if isinstance(value, tuple | list) and not value:
        return "none"
    return value_text(value)


def outcome(values: Mapping[str, Value], policy: Policy) -> Outcome:
    """Fire the factor rules directly (the AST's meaning) and count what they conclude."""
    values = {**values, **computed_facts(values, policy.factor_parameters)}
    fired: set[str] = set()
    derived: set[str] = set()
    for layer in policy.strata:
        frozen = frozenset(derived)
        for rule in layer:
            if predicate(rule.when)(values, frozen):
                fired.add(rule.id)
                name = getattr(rule.then, "name", None)
                if name is not None:
                    derived.add(name)
    t = tally(
        (policy.weighing[r] for r in fired if r in policy.weighing),
        (policy.ruling_out[r] for r in fired if r in policy.ruling_out),
        factor_cap=int(policy.parameters["factor_cap"]),
        strong_weight=int(policy.parameters["strong_weight"]),
    )
    return Outcome(t, frozenset(fired))


# ---------------------------------------------------------------------------
# the values a fact takes, in the order of its declared direction


def _thresholds(prop: Property, policy: Policy) -> list[float]:
    found = set()
    for test in policy.tests_by_fact.get(prop.name, ()):
        if isinstance(test.operand, (int, float)) and not isinstance(test.operand, bool):
            found.add(float(test.operand))
    return sorted(found)


def ordered_values(prop: Property, policy: Policy) -> list[Value]:
    """Representative values of a single-valued fact, lowest first (raising = moving right).

    Numbers: every threshold the rules compare with, a point between each two,
    and one below the first and above the last (within the fact's bounds).
    """
    if prop.kind == "boolean":
        return [False, True]
    if prop.kind in ("enum", "iri"):
        return list(prop.values)
    if not prop.numeric:
        return []
    cuts = _thresholds(prop, policy)
    if not cuts and prop.name in _cost_inputs_of(policy):
        # an input of the cost model: the rules compare what it computes, at every order of magnitude
        cuts = list(MAGNITUDES)
    if not cuts:
        return []
    points = {cuts[0] - max(abs(cuts[0]) * 0.5, 1.0), cuts[-1] + max(abs(cuts[-1]) * 0.5, 1.0)}
    points.update(cuts)
    points.update((a + b) / 2 for a, b in itertools.pairwise(cuts))
    if prop.minimum is not None:
        low = prop.minimum
        points = {p for p in points if p > low or (p == low and not prop.minimum_exclusive)}
        if not prop.minimum_exclusive:
            points.add(low)
    if prop.kind == "integer":
        points = {round(p) for p in points}
    return sorted(points)


def _mentioned(prop: Property, policy: Policy) -> list[str]:
    found = set()
    for test in policy.tests_by_fact.get(prop.name, ()):
        if test.operand is not None:
            found.update(test.operand if test.op == "in" else (test.operand,))
    return sorted(str(v) for v in found)


def value_sets(prop: Property, policy: Policy) -> list[tuple[str, ...]]:
    """Representative sets of values of a multi-valued fact (the values the rules mention)."""
    mentioned = _mentioned(prop, policy)
    sets = []
    for size in range(0, min(MAX_SET_SIZE, len(mentioned)) + 1):
        sets.extend(itertools.combinations(mentioned, size))
    return sets


def steps(prop: Property, policy: Policy) -> list[tuple[Value, Value]]:
    """Pairs (before, after) where ``after`` raises ``before`` by one step."""
    if not prop.single:
        mentioned = _mentioned(prop, policy)
        return [
            (before, tuple(sorted((*before, v))))
            for before in value_sets(prop, policy)
            for v in mentioned
            if v not in before and len(before) < MAX_SET_SIZE
        ]
    return list(itertools.pairwise(ordered_values(prop, policy)))


def _domain(prop: Property, policy: Policy) -> list[object]:
    if not prop.single:
        return [ABSENT, *[s for s in value_sets(prop, policy) if s]]
    return [ABSENT, *ordered_values(prop, policy)]


# ---------------------------------------------------------------------------
# the check


@dataclass(frozen=True)
class Violation:
    kind: str  # "direction" | "cliff" | "undeclared"
    fact: str
    text: str
    rules: tuple[str, ...] = ()


def _context_facts(name: str, policy: Policy, vocabulary: Vocabulary) -> list[str]:
    """The other facts that the rules a change of ``name`` can affect also read."""
    changed = [name]
    if name in _cost_inputs(vocabulary, policy):
        changed.extend(vocabulary.computed)
    affected = policy.affected_by(changed)
    found: set[str] = set()
    for rule_id in affected:
        for test in iter_tests(policy.by_id[rule_id].when):
            if isinstance(test, Test):
                found.add(test.fact)
    if name in _cost_inputs(vocabulary, policy):
        found |= _cost_inputs(vocabulary, policy)
    found -= vocabulary.computed
    found.discard(name)
    return sorted(found)


def _cost_inputs_of(policy: Policy) -> set[str]:
    """The cost model's inputs, when the policy reads anything the model computes."""
    if not any(name in policy.computed_facts for name in policy.tests_by_fact):
        return set()
    return set(MODEL_INPUTS)


def _cost_inputs(vocabulary: Vocabulary, policy: Policy) -> set[str]:
    return _cost_inputs_of(policy) & set(vocabulary.properties)


def _contexts(
    names: list[str], vocabulary: Vocabulary, policy: Policy, seed: str, most: int = MAX_CONTEXTS
) -> Iterator[dict[str, Value]]:
    domains = [_domain(vocabulary.properties[n], policy) for n in names]
    total = 1
    for d in domains:
        total *= len(d)
    if total <= most:
        combos: Iterable[tuple] = itertools.product(*domains)
    else:
        rng = random.Random(seed)  # the same sample on every run
        combos = (tuple(rng.choice(d) for d in domains) for _ in range(most))
    for combo in combos:
        yield {n: v for n, v in zip(names, combo, strict=True) if v is not ABSENT}


def _context_text(context: Mapping[str, Value]) -> str:
    return ", ".join(f"{k} = {value_text(v)}" for k, v in sorted(context.items())) or "no other facts"


def check_fact(name: str, policy: Policy, vocabulary: Vocabulary, limit: int = 3) -> list[Violation]:
    """Every way a one-step change of ``name`` goes against its declared direction (up to ``limit``)."""
    prop = vocabulary.properties[name]
    toward = prop.pushes
    if toward is None:
        return []
    away = "cloud" if toward == "in-house" else "in-house"
    pairs = steps(prop, policy)
    # a cliff is judged at the quantity's own thresholds; a cost input crosses its model's through the
    # computed facts, which check_policy checks at their own thresholds
    own_thresholds = bool(_thresholds(prop, policy))
    found: list[Violation] = []
    seen_rules: set[tuple[str, ...]] = set()
    cost_inputs = _cost_inputs(vocabulary, policy)
    budget = COST_CONTEXTS if name in cost_inputs else MAX_CONTEXTS
    for context in _contexts(_context_facts(name, policy, vocabulary), vocabulary, policy, seed=name, most=budget):
        outcomes: dict[object, Outcome] = {}  # the "after" of one step is the "before" of the next

        def at(value, context=context, outcomes=outcomes):
            if value not in outcomes:
                outcomes[value] = outcome({**context, name: value}, policy)
            return outcomes[value]

        # a cliff is a jump at one of the quantity's own thresholds, not through the cost model
        judge_cliffs = own_thresholds and not (set(context) & (cost_inputs - {name}))
        for before, after in pairs:
            a, b = at(before), at(after)
            problems = []
            if b.weight(toward) < a.weight(toward):
                problems.append(f"{toward} weight falls {a.weight(toward)} → {b.weight(toward)}")
            if b.weight(away) > a.weight(away):
                problems.append(f"{away} weight rises {a.weight(away)} → {b.weight(away)}")
            if a.feasible(toward) and not b.feasible(toward):
                problems.append(f"{toward} becomes ruled out")
            if b.feasible(away) and not a.feasible(away):
                problems.append(f"{away} becomes feasible again")
            rules = tuple(sorted(a.fired ^ b.fired))
            if problems and rules not in seen_rules:
                seen_rules.add(rules)
                found.append(
                    Violation(
                        "direction",
                        name,
                        f"raising {name} from {_step_text(before)} to {_step_text(after)} should favor {toward}, "
                        f"but {'; '.join(problems)} (with {_context_text(context)}; rules that change: "
                        f"{', '.join(rules)})",
                        rules,
                    )
                )
            cliff = _cliff(prop, a, b, before, after, context, rules) if judge_cliffs else None
            if cliff is not None and rules not in seen_rules:
                seen_rules.add(rules)
                found.append(cliff)
            if len(found) >= limit:
                return found
    return found


def _cliff(prop, a: Outcome, b: Outcome, before, after, context, rules) -> Violation | None:
    if not prop.numeric or a.tally.feasible != b.tally.feasible:
        return None
    jumps = [
        f"{side} {a.weight(side)} → {b.weight(side)}" for side in SIDES if abs(b.weight(side) - a.weight(side)) > 1
    ]
    if not jumps:
        return None
    return Violation(
        "cliff",
        prop.name,
        f"one step of {prop.name}, {_step_text(before)} → {_step_text(after)}, moves a weight by more than one point: "
        f"{'; '.join(jumps)} (with {_context_text(context)}; rules that change: {', '.join(rules)})",
        rules,
    )


def check_computed_cliffs(name: str, policy: Policy, vocabulary: Vocabulary, limit: int = 3) -> list[Violation]:
    """Cliffs at the thresholds of a number the engine computes (the cost rules'), varied directly."""
    prop = vocabulary.properties[name]
    if not prop.numeric or not _thresholds(prop, policy):
        return []
    pairs = list(itertools.pairwise(ordered_values(prop, policy)))
    found: list[Violation] = []
    seen: set[tuple[str, ...]] = set()
    for context in _contexts(_context_facts(name, policy, vocabulary), vocabulary, policy, seed=name):
        for before, after in pairs:
            a = outcome({**context, name: before}, policy)
            b = outcome({**context, name: after}, policy)
            rules = tuple(sorted(a.fired ^ b.fired))
            cliff = _cliff(prop, a, b, before, after, context, rules)
            if cliff is not None and rules not in seen:
                seen.add(rules)
                found.append(cliff)
                if len(found) >= limit:
                    return found
    return found


@dataclass(frozen=True)
class CheckReport:
    facts: tuple[str, ...]  # the facts checked
    undeclared: tuple[str, ...]  # facts the rules read with no declared direction (not checked)
    violations: tuple[Violation, ...]

    @property
    def ok(self) -> bool:
        return not self.violations


def check_policy(policy: Policy, vocabulary: Vocabulary) -> CheckReport:
    """Check every fact the factor rules read against its declared direction, and for cliffs."""
    read = {name for name in policy.tests_by_fact if name not in vocabulary.computed}
    if any(name in vocabulary.computed for name in policy.tests_by_fact):
        read |= _cost_inputs(vocabulary, policy)  # the rules read what the cost model computes from them
    declared = sorted(n for n in read if vocabulary.properties[n].pushes is not None)
    undeclared = sorted(n for n in read if vocabulary.properties[n].pushes is None)
    violations = [v for name in declared for v in check_fact(name, policy, vocabulary)]
    computed = sorted(n for n in policy.tests_by_fact if n in vocabulary.computed)
    violations += [v for name in computed for v in check_computed_cliffs(name, policy, vocabulary)]
    from infra_policy.engine.policy.overlay import stance_order_problems

    violations += [Violation("stance", "balance", text) for text in stance_order_problems(policy)]
    return CheckReport(tuple(declared), tuple(undeclared), tuple(violations))


def stance_moves_against(before: str, after: str, toward: str) -> bool:
    """Whether a stance change goes against ``toward`` along cloud < hybrid < in-house.

    Conflict and undetermined are not on that line: moving into or out of them
    is not a move against a side (feasibility and the amount of evidence
    decide those, and both are checked on their own).
    """
    order = {"cloud": 0, "hybrid": 1, "in-house": 2}
    if before not in order or after not in order:
        return False
    delta = order[after] - order[before]
    return delta < 0 if toward == "in-house" else delta > 0
