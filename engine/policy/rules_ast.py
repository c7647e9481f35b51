"""The engine-neutral rule AST and its direct evaluation.

Rule files load into these classes.  The durable-rules compiler and the
explanation code both read them, and :func:`evaluate` is the reference meaning
of a condition that the compiled form must agree with (a property test checks
that it does).

Semantics, in one place:

* a test on a fact that was not given is false, except ``absent``;
* on a multi-valued fact, ``equals``/``in`` hold when any value matches and
  ``not_equals`` holds when the fact is given and no value equals the operand;
* ``not`` is plain boolean negation of the above;
* ``concluded`` holds when an earlier stratum derived that intermediate fact.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache

Scalar = str | float | int | bool
Value = Scalar | tuple[Scalar, ...]


def value_text(value: object) -> str:
    """A fact value as people write it (true, 4, Confidential; several joined by commas).

    Lists are accepted too: values read back from a decision's JSON are lists.
    """
    if isinstance(value, tuple | list):
        return ", ".join(value_text(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


COMPARISONS = ("less_than", "at_most", "greater_than", "at_least")
OPERATORS = ("equals", "not_equals", "in", *COMPARISONS, "present", "absent")


@dataclass(frozen=True)
class Test:
    """A test on one fact: ``fact <op> operand``."""

    __test__ = False  # not a pytest test class

    fact: str
    op: str
    operand: Scalar | tuple[Scalar, ...] | None = None

    def facts(self) -> tuple[str, ...]:
        return (self.fact,)


@dataclass(frozen=True)
class Concluded:
    """True when an earlier rule derived the intermediate fact ``name``."""

    name: str

    def facts(self) -> tuple[str, ...]:
        return ()


@dataclass(frozen=True)
class All:
    items: tuple[Condition, ...]

    def facts(self) -> tuple[str, ...]:
        return tuple(f for item in self.items for f in item.facts())


@dataclass(frozen=True)
class Any:
    items: tuple[Condition, ...]

    def facts(self) -> tuple[str, ...]:
        return tuple(f for item in self.items for f in item.facts())


@dataclass(frozen=True)
class Not:
    item: Condition

    def facts(self) -> tuple[str, ...]:
        return self.item.facts()


Condition = Test | Concluded | All | Any | Not


@dataclass(frozen=True)
class Assess:
    factor: str
    favors: str  # "cloud" | "in-house"
    weight: int


@dataclass(frozen=True)
class RuleOut:
    """Feasibility: the situation makes ``side`` impossible for the workload."""

    side: str  # "cloud" | "in-house"

    @property
    def leaves(self) -> str:
        """The side that remains possible (what version 1 called the required side)."""
        return other_side(self.side)


@dataclass(frozen=True)
class Derive:
    name: str


@dataclass(frozen=True)
class SetStance:
    stance: str


@dataclass(frozen=True)
class SetPlan:
    """What runs where in a hybrid workload (the plan's title is its rule's title)."""

    in_house: tuple[str, ...]
    cloud: tuple[str, ...]


Conclusion = Assess | RuleOut | Derive | SetStance | SetPlan


@dataclass(frozen=True)
class Mitigation:
    """What answers an argument when the workload goes to the other side."""

    advice: str
    safeguards: tuple[str, ...] = ()


def other_side(side: str) -> str:
    return "cloud" if side == "in-house" else "in-house"


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    when: Condition
    then: Conclusion
    rationale: str
    claims: tuple[str, ...]
    ruleset: str
    source: str  # file the rule was read from (for messages)
    priority: int = 0  # stance, plan and organization rules: lower wins
    assumes: tuple[str, ...] = ()  # what the rule takes for granted, in plain words
    mitigation: Mitigation | None = None

    @property
    def primary_claim(self) -> str:
        """The claim an assessment's weight rests on: the first one cited (it counts once per workload and side)."""
        return self.claims[0]

    def concluded_names(self) -> tuple[str, ...]:
        """Intermediate facts this rule's condition depends on."""
        return tuple(t.name for t in iter_tests(self.when) if isinstance(t, Concluded))


def iter_tests(condition: Condition):
    """Every leaf (fact test or conclusion test) of a condition, in order."""
    if isinstance(condition, (Test, Concluded)):
        yield condition
    elif isinstance(condition, (All, Any)):
        for item in condition.items:
            yield from iter_tests(item)
    else:
        yield from iter_tests(condition.item)


@dataclass(frozen=True)
class Ruleset:
    name: str
    kind: str  # "factor" | "stance" | "organization"
    rules: tuple[Rule, ...]
    source: str
    factor: str | None = None
    description: str = ""
    parameters: tuple[tuple[str, Scalar], ...] = ()
    # values the policy deliberately gives no weight: (fact, value, reason)
    not_weighed: tuple[tuple[str, str, str], ...] = ()

    def parameter(self, name: str) -> Scalar:
        return dict(self.parameters)[name]


# ---------------------------------------------------------------------------
# direct evaluation

Facts = Mapping[str, Value]


def _values(value: Value) -> tuple[Scalar, ...]:
    return value if isinstance(value, tuple) else (value,)


def _compare(op: str, seen: Scalar, operand: Scalar) -> bool:
    if isinstance(seen, bool) or not isinstance(seen, (int, float)):
        return False
    if op == "less_than":
        return seen < operand
    if op == "at_most":
        return seen <= operand
    if op == "greater_than":
        return seen > operand
    return seen >= operand


def test_holds(test: Test, facts: Facts) -> bool:
    """Evaluate one test against plain facts (see the module docstring)."""
    if test.op == "absent":
        return test.fact not in facts
    if test.fact not in facts:
        return False
    if test.op == "present":
        return True
    seen = _values(facts[test.fact])
    if test.op == "equals":
        return any(_same(v, test.operand) for v in seen)
    if test.op == "not_equals":
        return not any(_same(v, test.operand) for v in seen)
    if test.op == "in":
        return any(_same(v, o) for v in seen for o in test.operand)
    return any(_compare(test.op, v, test.operand) for v in seen)


def _same(a: Scalar, b: Scalar) -> bool:
    # True == 1 in Python, but a boolean fact never equals a number.
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return a == b


def evaluate(condition: Condition, facts: Facts, derived: frozenset[str] = frozenset()) -> bool:
    """The reference truth value of ``condition`` for ``facts``."""
    if isinstance(condition, Test):
        return test_holds(condition, facts)
    if isinstance(condition, Concluded):
        return condition.name in derived
    if isinstance(condition, All):
        return all(evaluate(item, facts, derived) for item in condition.items)
    if isinstance(condition, Any):
        return any(evaluate(item, facts, derived) for item in condition.items)
    return not evaluate(condition.item, facts, derived)


def supporting_tests(
    condition: Condition, facts: Facts, derived: frozenset[str] = frozenset()
) -> list[Test | Concluded]:
    """The satisfied positive tests that make a true ``condition`` true.

    These are the facts a firing "used": for ``all`` every branch, for ``any``
    each branch that holds.  Tests under ``not`` are not support (they hold by
    something *not* being the case) and are left out.
    """
    if isinstance(condition, (Test, Concluded)):
        return [condition] if evaluate(condition, facts, derived) else []
    if isinstance(condition, All):
        return [t for item in condition.items for t in supporting_tests(item, facts, derived)]
    if isinstance(condition, Any):
        return [
            t
            for item in condition.items
            if evaluate(item, facts, derived)
            for t in supporting_tests(item, facts, derived)
        ]
    return []


# ---------------------------------------------------------------------------
# compiled predicates: the same meaning as :func:`evaluate`, as closures built
# once per condition (for the hot paths that evaluate thousands of variations)

Predicate = Callable[[Facts, frozenset[str]], bool]


@cache
def predicate(condition: Condition) -> Predicate:
    """A function equal to ``lambda facts, derived: evaluate(condition, facts, derived)``, but faster."""
    if isinstance(condition, Concluded):
        name = condition.name
        return lambda facts, derived: name in derived
    if isinstance(condition, (All, Any)):
        parts = tuple(predicate(item) for item in condition.items)
        return _all(parts) if isinstance(condition, All) else _any(parts)
    if isinstance(condition, Not):
        inner = predicate(condition.item)
        return lambda facts, derived: not inner(facts, derived)
    return _test_predicate(condition)


def _all(parts: tuple[Predicate, ...]) -> Predicate:
    # the usual two or three parts spelled out: a generator per call was most of a rule's cost
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        first, second = parts
        return lambda facts, derived: first(facts, derived) and second(facts, derived)
    if len(parts) == 3:
        first, second, third = parts
        return lambda facts, derived: first(facts, derived) and second(facts, derived) and third(facts, derived)

    def holds(facts, derived):
        for part in parts:  # noqa: SIM110 (all() over a generator is the slower shape replaced here)
            if not part(facts, derived):
                return False
        return True

    return holds


def _any(parts: tuple[Predicate, ...]) -> Predicate:
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        first, second = parts
        return lambda facts, derived: first(facts, derived) or second(facts, derived)

    def holds(facts, derived):
        for part in parts:  # noqa: SIM110 (as in _all)
            if part(facts, derived):
                return True
        return False

    return holds


_MISSING = object()
_ORDER = {
    "less_than": lambda a, b: a < b,
    "at_most": lambda a, b: a <= b,
    "greater_than": lambda a, b: a > b,
    "at_least": lambda a, b: a >= b,
}


def _test_predicate(test: Test) -> Predicate:
    """Closures for the common shapes of a test; anything else falls back to :func:`test_holds`."""
    fact, op, operand = test.fact, test.op, test.operand
    if op == "absent":
        return lambda facts, derived: fact not in facts
    if op == "present":
        return lambda facts, derived: fact in facts
    operands = operand if op == "in" else (operand,)
    if op in ("equals", "in") and all(isinstance(o, str) for o in operands):
        # a string equals only the same string, never a number or a boolean
        wanted = frozenset(operands)

        def holds(facts, derived):
            seen = facts.get(fact, _MISSING)
            if isinstance(seen, tuple):
                return any(v in wanted for v in seen if isinstance(v, str))
            return isinstance(seen, str) and seen in wanted

        return holds
    if op in _ORDER and isinstance(operand, (int, float)) and not isinstance(operand, bool):
        compare = _ORDER[op]

        def holds(facts, derived):
            seen = facts.get(fact, _MISSING)
            if isinstance(seen, (int, float)) and not isinstance(seen, bool):
                return compare(seen, operand)
            return seen is not _MISSING and test_holds(test, facts)

        return holds
    return lambda facts, derived: test_holds(test, facts)
