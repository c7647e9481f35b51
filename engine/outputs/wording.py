"""Conditions and their shortfalls as sentences about the organization's facts.

The rule AST speaks in fact names and operators (``capitalBudgetUSD < 25000``);
a decision maker reads "the capital budget (USD) would have to be below 25,000;
it is 400,000". Labels of facts and values come from the vocabulary
(kb/ontology.ttl); the tally's and the organization's own quantities, which no
facts file states, are named here in words. Internal ids stay in the JSON.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass

from infra_policy.engine.policy.rules_ast import All, Concluded, Condition, Not, Test, Value, evaluate
from infra_policy.engine.vocabulary import Vocabulary

# What the stance and organization rules read: quantities of the decision, not stated facts.
_DECISION_WORDS = {
    "cloud_weight": "the weight of the arguments for the cloud",
    "in_house_weight": "the weight of the arguments for in-house servers",
    "total_weight": "the total weight of the arguments",
    "margin": "the difference between the two sides' weights",
    "balance": "the balance of the arguments (in-house weight minus cloud weight, as a share of all the weight)",
    "leaning": "the heavier side",
    "counted_factors": "the number of factors that weigh",
    "cloud_strong": "the number of strong arguments for the cloud",
    "in_house_strong": "the number of strong arguments for in-house servers",
    "workloads": "the number of workloads",
    "cloud": "the number of workloads in the cloud",
    "in_house": "the number of workloads in-house",
    "hybrid": "the number of hybrid workloads",
    "conflict": "the number of workloads in conflict",
    "undetermined": "the number of undetermined workloads",
    "distinct_stances": "the number of different placements",
}
# Booleans of the tally, as what holds when they are true.
_DECISION_FLAGS = {
    "cloud_feasible": (
        "the cloud would have to be possible; it is ruled out",
        "the cloud would have to be ruled out; it is not",
    ),
    "in_house_feasible": (
        "in-house servers would have to be possible; they are ruled out",
        "in-house servers would have to be ruled out; they are not",
    ),
    "requires_cloud": (
        "in-house servers would have to be ruled out and the cloud not; that is not so",
        "in-house servers would have to stay possible; they are ruled out",
    ),
    "requires_in_house": (
        "the cloud would have to be ruled out and in-house servers not; that is not so",
        "the cloud would have to stay possible; it is ruled out",
    ),
}

_SIDE_WORDS = {"cloud": "the cloud", "in-house": "in-house servers"}


def side_words(side: str) -> str:
    return _SIDE_WORDS.get(side, side)


def number_words(value: float | int) -> str:
    """A number as people write it: 400,000; 0.5; 1."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.4f}".rstrip("0").rstrip(".")


def value_words(value: object, vocabulary: Vocabulary) -> str:
    """A value in the vocabulary's words: an individual's label, a number with separators, yes/no."""
    if isinstance(value, tuple | list):
        return ", ".join(value_words(v, vocabulary) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return number_words(value)
    text = str(value)
    return vocabulary.individuals.get(text, text)


def fact_words(name: str, vocabulary: Vocabulary) -> str:
    """A fact's name in words: its vocabulary label, or what a decision quantity means."""
    prop = vocabulary.get(name)
    if prop is not None:
        return f"the {prop.label}"
    return _DECISION_WORDS.get(name, name)


def _choices(operand: object, vocabulary: Vocabulary, joiner: str) -> str:
    items = operand if isinstance(operand, tuple) else (operand,)
    words = [value_words(v, vocabulary) for v in items]
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + f" {joiner} " + words[-1]


def requirement(test: Test, vocabulary: Vocabulary, negated: bool = False) -> str:
    """What the fact would have to be for the test to come out as wanted (held, or failed when negated)."""
    prop = vocabulary.get(test.fact)
    many = prop is not None and not prop.single
    op = test.op
    if negated:
        op = {
            "equals": "not_equals",
            "not_equals": "equals",
            "in": "not_in",
            "less_than": "at_least",
            "at_least": "less_than",
            "at_most": "greater_than",
            "greater_than": "at_most",
            "present": "absent",
            "absent": "present",
        }[op]
    operand = test.operand
    if op == "equals":
        return f"{'include' if many else 'be'} {value_words(operand, vocabulary)}"
    if op == "not_equals":
        return f"{'leave out' if many else 'be other than'} {value_words(operand, vocabulary)}"
    if op == "in":
        return f"{'include' if many else 'be'} {_choices(operand, vocabulary, 'or')}"
    if op == "not_in":
        return f"{'leave out' if many else 'be neither'} {_choices(operand, vocabulary, 'nor' if not many else 'and')}"
    computed = test.fact in vocabulary.computed  # worked out by the cost model, never stated
    if op == "present":
        return "be worked out" if computed else "be stated"
    if op == "absent":
        return "be not worked out (the cost model lacks an input)" if computed else "be left unstated"
    words = {"less_than": "below", "at_most": "at most", "greater_than": "above", "at_least": "at least"}[op]
    return f"be {words} {value_words(operand, vocabulary)}"


def holds_phrase(test: Test, vocabulary: Vocabulary, negated: bool = False) -> str:
    """The test as a statement about the fact: "the capital budget (USD) is below 25,000"."""
    wanted = requirement(test, vocabulary, negated)
    verb, _, rest = wanted.partition(" ")
    verb = {"be": "is", "include": "includes", "leave": "leaves"}.get(verb, verb)
    return f"{fact_words(test.fact, vocabulary)} {verb} {rest}"


_NEGATED_OP = {
    "equals": "not_equals",
    "not_equals": "equals",
    "less_than": "at_least",
    "at_least": "less_than",
    "at_most": "greater_than",
    "greater_than": "at_most",
    "present": "absent",
    "absent": "present",
}


def weighs_when(tests: list[tuple[Test, bool]], vocabulary: Vocabulary) -> str:
    """What one fact would have to be for any of several rules: "below 250,000 or at least 500,000".

    Of bounds in the same direction only the loosest is said (below 250,000 covers below 25,000).
    """
    bounds: dict[str, object] = {}
    others: list[str] = []
    among: list[object] = []  # values of equals / in tests: said once, together
    for test, negated in tests:
        if not negated and test.op in ("equals", "in"):
            among.extend(test.operand if isinstance(test.operand, tuple) else (test.operand,))
            continue
        op = _NEGATED_OP.get(test.op, test.op) if negated and test.op != "in" else test.op
        if op in ("less_than", "at_most", "greater_than", "at_least") and isinstance(test.operand, int | float):
            loosest = max if op in ("less_than", "at_most") else min
            bounds[op] = loosest(bounds.get(op, test.operand), test.operand)
        else:
            others.append(requirement(test, vocabulary, negated).removeprefix("be "))
    if among:
        others.insert(0, _choices(tuple(dict.fromkeys(among)), vocabulary, "or"))
    for op, operand in sorted(bounds.items()):
        others.append(requirement(Test(tests[0][0].fact, op, operand), vocabulary).removeprefix("be "))
    return " or ".join(dict.fromkeys(others))


@dataclass(frozen=True)
class Shortfall:
    """One thing that would have to change for a condition to hold."""

    fact: str | None  # the fact tested (None for a conclusion)
    sentence: str


def unmet(
    condition: Condition, values: Mapping[str, Value], derived: frozenset[str], negated: bool = False
) -> list[tuple[Test | Concluded, bool]]:
    """The tests that would have to come out otherwise for ``condition`` to hold (fewest alternatives).

    Each is returned with ``negated`` when it must stop holding. Of the
    alternatives of an ``any`` the one needing fewest changes is taken.
    """
    if evaluate(condition, values, derived) != negated:
        return []
    if isinstance(condition, Test | Concluded):
        return [(condition, negated)]
    if isinstance(condition, Not):
        return unmet(condition.item, values, derived, not negated)
    conjunction = isinstance(condition, All) != negated
    parts = [unmet(item, values, derived, negated) for item in condition.items]
    if conjunction:
        return [leaf for part in parts for leaf in part]
    options = [part for part in parts if part]
    return min(options, key=len) if options else []


def seen_words(name: str, values: Mapping[str, Value], vocabulary: Vocabulary) -> str:
    """A fact's value as the facts give it, in words ("not stated" when they do not)."""
    return value_words(values[name], vocabulary) if name in values else "not stated"


class Phrasing:
    """Sentences about one workload's facts (or the organization's), in the vocabulary's words."""

    def __init__(
        self,
        vocabulary: Vocabulary,
        producers: Mapping[str, tuple[str, ...]] = {},
        titles: Mapping[str, str] = {},
        not_computed: Mapping[str, tuple[str, ...]] = {},
        conditions: Mapping[str, Condition] = {},
    ):
        self.vocabulary = vocabulary
        self.producers = producers  # conclusion name → ids of the rules that conclude it
        self.titles = titles  # rule id → title
        self.not_computed = not_computed  # computed fact → the stated inputs it still needs
        self.conditions = conditions  # rule id → condition, to see through a conclusion to its facts

    def seen(self, name: str, values: Mapping[str, Value]) -> str:
        return seen_words(name, values, self.vocabulary)

    def shortfall(self, leaf: Test | Concluded, negated: bool, values: Mapping[str, Value]) -> Shortfall:
        v = self.vocabulary
        if isinstance(leaf, Concluded):
            titles = "; ".join(f"“{self.titles.get(r, r)}”" for r in self.producers.get(leaf.name, ()))
            if negated:
                return Shortfall(None, f"this would have to stop applying: {titles}")
            return Shortfall(None, f"this would have to apply: {titles}")
        name = leaf.fact
        if name in _DECISION_FLAGS:
            want_true = (leaf.operand is True) != negated if leaf.op == "equals" else not negated
            return Shortfall(name, _DECISION_FLAGS[name][0 if want_true else 1])
        prop = v.get(name)
        if prop is not None and prop.computed and name not in values:
            needs = self.not_computed.get(name, ())
            if needs:
                inputs = ", ".join(fact_words(n, v) for n in needs)
                return Shortfall(name, f"the cost model could not work out {fact_words(name, v)}: it needs {inputs}")
            return Shortfall(
                name, f"the cost model did not work out {fact_words(name, v)} (it is not given any inputs)"
            )
        label = fact_words(name, v)
        sentence = f"{label} would have to {requirement(leaf, v, negated)}; it is {self.seen(name, values)}"
        return Shortfall(name, sentence)

    def shortfalls(
        self, condition: Condition, values: Mapping[str, Value], derived: frozenset[str] = frozenset()
    ) -> tuple[Shortfall, ...]:
        """Everything that would have to change for ``condition`` to hold, in words (empty: it holds)."""
        leaves = self._through_conclusions(unmet(condition, values, derived), values, derived, 4)
        found = [self.shortfall(leaf, neg, values) for leaf, neg in leaves]
        return tuple(dict.fromkeys(found))

    def _through_conclusions(
        self,
        leaves: list[tuple[Test | Concluded, bool]],
        values: Mapping[str, Value],
        derived: frozenset[str],
        depth: int,
    ) -> list[tuple[Test | Concluded, bool]]:
        """Replace a conclusion by the facts its rules would need (to apply, or to stop applying)."""
        out: list[tuple[Test | Concluded, bool]] = []
        for leaf, negated in leaves:
            producers = [
                self.conditions[r] for r in self.producers.get(getattr(leaf, "name", ""), ()) if r in self.conditions
            ]
            if not isinstance(leaf, Concluded) or not producers or depth == 0:
                out.append((leaf, negated))
                continue
            if negated:  # every rule that concludes it would have to stop applying
                inner = [x for c in producers for x in unmet(c, values, derived, True)]
            else:  # one of them would have to apply: the one needing fewest changes
                options = [u for c in producers if (u := unmet(c, values, derived))]
                inner = min(options, key=len) if options else []
            out.extend(self._through_conclusions(inner, values, derived, depth - 1) if inner else [(leaf, negated)])
        return out


_TERM = re.compile(r"(?:ip:)?\b([a-z][A-Za-z]*[A-Z][A-Za-z]*)\b")
_PARAMETER = re.compile(r" \([a-z]+(?:_[a-z]+)+\)")


def terms_in_words(text: str, vocabulary: Vocabulary) -> str:
    """A text of the cost model (a formula, a note) with the vocabulary's terms said by their labels:
    "ip:planningHorizonMonths was not given" → "the planning horizon (months) was not given".

    A policy parameter's name in brackets ("(default_planning_horizon_months)") is left out: the value
    is said, and the name stays in the JSON.
    """

    def label(match: re.Match) -> str:
        prop = vocabulary.get(match.group(1))
        return prop.label if prop is not None else match.group(0)

    return _TERM.sub(label, _PARAMETER.sub("", text))


def sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def wrap(text: str, indent: str, subsequent: str | None = None, width: int = 100) -> list[str]:
    """One long line as several, for a terminal; never cuts a word."""
    return textwrap.wrap(
        text,
        width=width,
        initial_indent=indent,
        subsequent_indent=subsequent if subsequent is not None else indent + "  ",
        break_long_words=False,
        break_on_hyphens=False,
    ) or [indent]
