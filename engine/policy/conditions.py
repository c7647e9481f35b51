"""Conditions in words, and the first test that keeps a condition from holding.

Shared by the explanations (why / why not) and by the decision's list of
stated facts that weighed nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra_policy.engine.policy.rules_ast import All, Any, Concluded, Condition, Not, Test, Value, evaluate, value_text

# ---------------------------------------------------------------------------
# first failing test


@dataclass(frozen=True)
class Failure:
    """Why a condition does not hold: one test, and what was seen instead."""

    test: str  # the test in words, e.g. "dataSensitivity in [Confidential, Restricted]"
    fact: str | None  # the fact tested (None for a conclusion test)
    seen: Value | None  # the value seen; None when the fact was not given
    given: bool

    def sentence(self) -> str:
        if self.fact is None and self.given:
            return self.test  # a whole sentence already, e.g. "outranked by …"
        if self.fact is None:
            return f"{self.test}: not concluded"
        if not self.given:
            return f"{self.test}: {self.fact} was not given"
        return f"{self.test}: {self.fact} is {value_text(self.seen)}"


_OP_WORDS = {
    "equals": "=",
    "not_equals": "≠",
    "in": "in",
    "less_than": "<",
    "at_most": "≤",
    "greater_than": ">",
    "at_least": "≥",
    "present": "is given",
    "absent": "is not given",
}


def describe(condition: Condition, negated: bool = False) -> str:
    """A condition in words (used for failures and explanations)."""
    prefix = "not " if negated else ""
    if isinstance(condition, Test):
        if condition.op in ("present", "absent"):
            return f"{prefix}{condition.fact} {_OP_WORDS[condition.op]}"
        operand = condition.operand
        shown = (
            "[" + ", ".join(value_text(v) for v in operand) + "]" if isinstance(operand, tuple) else value_text(operand)
        )
        return f"{prefix}{condition.fact} {_OP_WORDS[condition.op]} {shown}"
    if isinstance(condition, Concluded):
        return f"{prefix}concluded {condition.name}"
    if isinstance(condition, Not):
        return describe(condition.item, not negated)
    joiner = " and " if isinstance(condition, All) else " or "
    return prefix + "(" + joiner.join(describe(item) for item in condition.items) + ")"


def first_failure(condition: Condition, facts, derived: frozenset[str] = frozenset()) -> Failure | None:
    """The first test that keeps ``condition`` from holding (None if it holds)."""
    if evaluate(condition, facts, derived):
        return None
    if isinstance(condition, Test):
        given = condition.fact in facts
        return Failure(describe(condition), condition.fact, facts.get(condition.fact), given)
    if isinstance(condition, Concluded):
        return Failure(describe(condition), None, None, False)
    if isinstance(condition, All):
        for item in condition.items:
            failure = first_failure(item, facts, derived)
            if failure is not None:
                return failure
    if isinstance(condition, Any):
        # every alternative failed: report the first one
        return first_failure(condition.items[0], facts, derived)
    assert isinstance(condition, Not)
    # the inner condition holds: name what makes it hold
    inner = condition.item
    fact = next(iter(inner.facts()), None)
    return Failure(describe(condition), fact, facts.get(fact) if fact else None, bool(fact and fact in facts))
