"""Can a condition ever hold? Satisfiability of rule conditions over the vocabulary's domains.

A condition is written as an or of ands (``not`` pushed down to the tests), with
every ``concluded: name`` replaced by the conditions of the rules that derive
``name`` (a conclusion holds exactly when one of its producers fires). An and
of tests holds for some facts when, fact by fact, some value of the fact's
domain — or the fact not being given — passes every test on it. The domain of
a fact is what the vocabulary declares (the values of an enumeration, true and
false, a number with its minimum) or, for the stance, plan and organization
rules, what :mod:`~infra_policy.engine.policy.tally` declares.

The check is sound in one direction only: what it calls *unsatisfiable* can
never hold. Relations between facts that no domain states (a tally's total is
the sum of its two weights) are not known to it, so a condition it calls
satisfiable may still be impossible in practice. When the or of ands would be
too large to write out, it answers "unknown" (``None``), never a false alarm.

Used by ``rules check`` (rules that can never fire, shadowed stance rules,
assessments that can fire together) and by coverage.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from infra_policy.engine.policy.conditions import describe
from infra_policy.engine.policy.rules_ast import (
    COMPARISONS,
    All,
    Any,
    Concluded,
    Condition,
    Derive,
    Not,
    Rule,
    Scalar,
    Test,
    test_holds,
    value_text,
)
from infra_policy.engine.policy.tally import ENUM_VALUES, ORGANIZATION_FIELDS, PLAN_FIELDS, TALLY_FIELDS

# An or of ands larger than this is not written out: the answer is then "unknown".
MAX_ALTERNATIVES = 4096

Literal = tuple[Test | Concluded, bool]  # (leaf, holds as written: True; negated: False)


@dataclass(frozen=True)
class Domain:
    """The values one fact can take."""

    kind: str  # "enum" | "iri" | "number" | "integer" | "boolean" | "string"
    single: bool = True
    values: tuple[str, ...] = ()
    open_values: bool = False
    minimum: float | None = None
    minimum_exclusive: bool = False
    always_given: bool = False  # the engine always states it (tally, plan and organization facts)

    def describe(self) -> str:
        if self.kind in ("enum", "iri") and not self.open_values:
            return "one of " + ", ".join(self.values)
        if self.kind in ("number", "integer"):
            what = "an integer" if self.kind == "integer" else "a number"
            if self.minimum is not None:
                what += f" {'>' if self.minimum_exclusive else '≥'} {value_text(self.minimum)}"
            return what
        if self.kind == "boolean":
            return "true or false"
        return "any value"


class _TooLargeError(Exception):
    pass


def domains_for(kind: str, vocabulary, factors) -> Mapping[str, Domain]:
    """The domains of the facts a rule of ``kind`` tests (factor rules: the vocabulary)."""
    if kind == "factor":
        return {
            name: Domain(p.kind, p.single, tuple(p.values), p.open_values, p.minimum, p.minimum_exclusive)
            for name, p in vocabulary.properties.items()
        }
    fields = {"stance": TALLY_FIELDS, "plan": PLAN_FIELDS}.get(kind, ORGANIZATION_FIELDS)
    found = {}
    for name, (field_kind, _) in fields.items():
        # the engine states every one of these facts, but a factor list may be empty and the common
        # stance is left out when the workloads differ (tally.plan_facts, tally.organization_facts)
        given = field_kind not in ("factors", "reasons") and name not in _SOMETIMES_ABSENT
        if field_kind == "factors":
            found[name] = Domain("enum", False, tuple(factors))
        elif field_kind == "reasons":  # rule ids, checked against the policy when it is loaded
            found[name] = Domain("enum", False, (), open_values=True)
        else:
            found[name] = Domain(field_kind, True, tuple(ENUM_VALUES.get(name, ())), always_given=given)
    return found


_SOMETIMES_ABSENT = frozenset({"common_stance"})


# ---------------------------------------------------------------------------
# or of ands


def alternatives(
    condition: Condition,
    expand: Callable[[str], Condition | None] | None = None,
    negated: bool = False,
    limit: int = MAX_ALTERNATIVES,
) -> list[tuple[Literal, ...]]:
    """``condition`` as an or of ands of literals; ``expand(name)`` replaces a conclusion test.

    Raises :class:`_TooLargeError` beyond ``limit`` alternatives.
    """
    if isinstance(condition, Not):
        return alternatives(condition.item, expand, not negated, limit)
    if isinstance(condition, Concluded) and expand is not None:
        inner = expand(condition.name)
        if inner is not None:
            return alternatives(inner, expand, negated, limit)
    if isinstance(condition, (Test, Concluded)):
        return [((condition, not negated),)]
    parts = [alternatives(item, expand, negated, limit) for item in condition.items]
    conjunctive = isinstance(condition, All) != negated
    if not conjunctive:
        found = [alt for part in parts for alt in part]
        if len(found) > limit:
            raise _TooLargeError
        return found
    size = math.prod(len(p) for p in parts)
    if size > limit:
        raise _TooLargeError
    return [tuple(lit for alt in combo for lit in alt) for combo in itertools.product(*parts)]


# ---------------------------------------------------------------------------
# one fact at a time


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _candidates(literals: list[Literal], domain: Domain) -> list[Scalar]:
    """Values of the domain among which one passes the literals if any value does."""
    mentioned: list[Scalar] = []
    for leaf, _ in literals:
        if isinstance(leaf, Test) and leaf.operand is not None:
            mentioned.extend(leaf.operand if isinstance(leaf.operand, tuple) else (leaf.operand,))
    if domain.kind == "boolean":
        return [True, False]
    if domain.kind in ("enum", "iri", "string"):
        found = list(domain.values) if domain.kind != "string" else []
        if domain.open_values or domain.kind == "string":
            found += [m for m in mentioned if isinstance(m, str) and m not in found]
            found.append("\x00another value")  # a value no test names
        return found
    # numbers: the satisfying set is a union of intervals whose ends are the mentioned constants
    cuts = sorted(
        {float(m) for m in mentioned if _number(m)} | ({domain.minimum} if domain.minimum is not None else set())
    )
    points = set(cuts)
    points.update((a + b) / 2 for a, b in itertools.pairwise(cuts))
    if cuts:
        points.update((cuts[0] - 1, cuts[-1] + 1))
    else:
        points.add(0.0)
    if domain.kind == "integer":
        points = {p for c in points for p in (math.floor(c) - 1, math.floor(c), math.ceil(c), math.ceil(c) + 1)}
    if domain.minimum is not None:
        low = domain.minimum
        points = {p for p in points if p > low or (p == low and not domain.minimum_exclusive)}
    return sorted(points)


def _holds(leaf: Test, positive: bool, value: object) -> bool:
    facts = {} if value is _ABSENT else {leaf.fact: value}
    return test_holds(leaf, facts) == positive


_ABSENT = object()
# literals that hold on a set of values exactly when they hold on each value alone
_UNIVERSAL = {("equals", False), ("in", False), ("not_equals", True), *((op, False) for op in COMPARISONS)}


def fact_satisfiable(literals: list[Literal], domain: Domain | None) -> bool:
    """Whether some value of the fact (or its absence) passes every literal."""
    tests = [(leaf, positive) for leaf, positive in literals if isinstance(leaf, Test)]
    may_be_absent = domain is None or not domain.always_given
    if may_be_absent and all(_holds(leaf, positive, _ABSENT) for leaf, positive in tests):
        return True
    if domain is None:
        return True  # unknown fact: nothing to go on (the loader refuses these)
    universe = _candidates(tests, domain)
    if domain.single:
        return any(all(_holds(leaf, positive, v) for leaf, positive in tests) for v in universe)
    # a set of values: keep every value no universal literal excludes, then test the whole set
    allowed = tuple(
        v
        for v in universe
        if all(_holds(leaf, positive, (v,)) for leaf, positive in tests if (leaf.op, positive) in _UNIVERSAL)
    )
    return bool(allowed) and all(_holds(leaf, positive, allowed) for leaf, positive in tests)


def _conjunction_problem(
    conjunction: tuple[Literal, ...], domains: Mapping[str, Domain], possible: Callable[[str], bool]
) -> str | None:
    """Why an and of literals can never hold (None if it can)."""
    by_fact: dict[str, list[Literal]] = {}
    for leaf, positive in conjunction:
        if isinstance(leaf, Concluded):
            if positive and not possible(leaf.name):
                return f"'concluded: {leaf.name}' can never hold (no rule that derives it can fire)"
            continue
        by_fact.setdefault(leaf.fact, []).append((leaf, positive))
    for fact, literals in by_fact.items():
        domain = domains.get(fact)
        if not fact_satisfiable(literals, domain):
            shown = " and ".join(describe(leaf, not positive) for leaf, positive in dict.fromkeys(literals))
            where = f" ({fact} is {domain.describe()})" if domain is not None else ""
            return f"{shown} cannot all hold{where}"
    return None


@dataclass(frozen=True)
class Verdict:
    """Whether a condition can hold: ``satisfiable`` is None when the condition was too large to decide."""

    satisfiable: bool | None
    reason: str = ""


def check(
    condition: Condition,
    domains: Mapping[str, Domain],
    expand: Callable[[str], Condition | None] | None = None,
    possible: Callable[[str], bool] = lambda name: True,
) -> Verdict:
    """Whether ``condition`` can hold for some facts of the given domains."""
    try:
        found = alternatives(condition, expand)
    except _TooLargeError:
        return Verdict(None)
    reasons = []
    for conjunction in found:
        problem = _conjunction_problem(conjunction, domains, possible)
        if problem is None:
            return Verdict(True)
        reasons.append(problem)
    unique = list(dict.fromkeys(reasons))
    if len(found) == 1:
        return Verdict(False, unique[0])
    return Verdict(
        False,
        f"none of its {len(found)} alternatives can hold: "
        + "; ".join(unique[:3])
        + ("; …" if len(unique) > 3 else ""),
    )


class PolicyDomains:
    """Domains and conclusion expansion for the rules of one policy."""

    def __init__(self, policy, vocabulary, factors) -> None:
        self.policy = policy
        self._domains = {
            kind: domains_for(kind, vocabulary, factors) for kind in ("factor", "stance", "plan", "organization")
        }
        self.kind_of = {rule.id: rs.kind for rs in policy.rulesets for rule in rs.rules}
        producers: dict[str, list[Condition]] = {}
        for rule in policy.factor_rules:
            if isinstance(rule.then, Derive):
                producers.setdefault(rule.then.name, []).append(rule.when)
        self._producers = {
            name: (conds[0] if len(conds) == 1 else Any(tuple(conds))) for name, conds in producers.items()
        }

    def domains(self, rule: Rule) -> Mapping[str, Domain]:
        return self._domains[self.kind_of[rule.id]]

    def expand(self, name: str) -> Condition | None:
        return self._producers.get(name)

    def can_hold(self, rule: Rule, condition: Condition | None = None) -> Verdict:
        """Whether ``condition`` (default: the rule's own) can hold, with conclusions read through their producers."""
        return check(rule.when if condition is None else condition, self.domains(rule), self.expand)


__all__ = ["Domain", "PolicyDomains", "Verdict", "alternatives", "check", "domains_for", "fact_satisfiable"]
