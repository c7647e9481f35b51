"""What would change a stance: the smallest sets of fact changes that give another stance.

One search behind `evaluate`'s "what would change it", the decision page and `explain --flip`. A
change adds a fact that was not stated, changes a stated value, or leaves a stated fact out; the values
tried are one per class of values the policy's tests tell apart (:func:`domain`). Every set is
subset-minimal (no part of it gives the stance) and they come fewest changes first, then the least
far-reaching (the fewest classes moved along the facts' declared orders).

Every single change is tried; sets of two or more are combined from

* the changes that each move the weighing toward the target (the two that move it most per fact), and
* for pairs, the changes of two facts that one rule reads together (directly or through a conclusion
  it needs), so that two changes that matter only together — an ``all:`` condition — are found even
  when neither moves the weighing on its own.

When the number of combinations is within the evaluation budget, every combination is tried instead
and the result says ``exhaustive``. Each evaluation re-evaluates only the rules the changed facts can
affect (``decide._Variations``).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

from infra_policy.engine.model import Contrast, FactStep, WorkloadDecision
from infra_policy.engine.policy.ruleload import Policy
from infra_policy.engine.policy.rules_ast import Value, test_holds
from infra_policy.engine.stages.cost import MODEL_INPUTS, computed_facts
from infra_policy.engine.stages.decide import _candidates, _Outcome, _Variations
from infra_policy.engine.vocabulary import Vocabulary

ABSENT = None  # the "not stated" value of a domain

# The stances a change can be searched toward (conflict and undetermined are not placements to aim at).
TARGETS = ("cloud", "in-house", "hybrid")
# `evaluate`'s own search, run by default for every workload of an organization of up to
# pipeline.EXPLORE_CHANGES_UP_TO: every single change, then, toward each stance no single change gives,
# pairs within this many evaluations (about 50 µs each): a few milliseconds a workload at most.
EVALUATE_MAX_CHANGES = 2
EVALUATE_BUDGET = 100
# `explain --flip` and `evaluate --max-changes K`: combinations of up to K changes within this many evaluations.
CONTRAST_BUDGET = 4000


def domain(name: str, policy: Policy, vocabulary: Vocabulary) -> list[Value | None]:
    """One value per class the policy's tests on ``name`` tell apart, and "not stated"."""
    memo = policy.value_classes
    if name not in memo:  # the same for every workload: worked out once per policy
        seen: dict[tuple[bool, ...], Value] = {}
        for value in _candidates(vocabulary.properties[name], policy.tests_by_fact.get(name, ())):
            seen.setdefault(class_of(name, value, policy), value)
        memo[name] = [ABSENT, *seen.values()]
    return memo[name]


def class_of(name: str, value: Value, policy: Policy) -> tuple[bool, ...]:
    """Which of the policy's tests on ``name`` hold for ``value``: values alike here weigh alike."""
    memo = policy.value_classes
    key = (name, value, type(value))
    found = memo.get(key)
    if found is None:
        found = memo[key] = tuple(test_holds(t, {name: value}) for t in policy.tests_by_fact.get(name, ()))
    return found


def _steps(before: Value | None, after: Value | None, dom: list) -> int:
    """How far a change goes: classes moved along the domain (adding or leaving out a fact: 1)."""
    if before is None or after is None or before not in dom or after not in dom:
        return 1
    return abs(dom.index(after) - dom.index(before))


Change = tuple[str, Value | None]


class ChangeSearch:
    """A workload's outcome under changed facts, memoized, each evaluating only the rules the changes affect."""

    def __init__(
        self,
        values: Mapping[str, Value],
        base: _Outcome,
        subject: str,
        name: str,
        policy: Policy,
        vocabulary: Vocabulary,
    ):
        self.subject, self.name = subject, name
        self.base = base
        self.policy = policy
        self.vocabulary = vocabulary
        self.stated = dict(values)
        self.variations = _Variations(
            {**values, **computed_facts(values, policy.factor_parameters)}, base, policy, vocabulary
        )
        self.evaluated = 0
        self._memo: dict[frozenset, _Outcome] = {}
        self._singles: dict[tuple, _Outcome] = {}
        self._affected: dict[str, frozenset[str]] = {}

    @classmethod
    def of(cls, w: WorkloadDecision, policy: Policy, vocabulary: Vocabulary) -> ChangeSearch:
        """The search around a decided workload."""
        base = _Outcome(w.stance, w.tally, frozenset(f.rule for f in w.firings))
        return cls(w.profile.values(), base, w.id, w.profile.name, policy, vocabulary)

    def outcome(self, changes: Mapping[str, Value | None]) -> _Outcome:
        if len(changes) == 1:  # most lookups are of single changes, many of them again and again
            ((name, value),) = changes.items()
            # True == 1 == 1.0, yet they are different values here (inside a multi-valued fact's tuple too)
            single = (name, value, tuple(map(type, value)) if type(value) is tuple else type(value))
            found = self._singles.get(single)
            if found is None:
                found = self._singles[single] = self._outcome(changes)
            return found
        return self._outcome(changes)

    def _outcome(self, changes: Mapping[str, Value | None]) -> _Outcome:
        # values the policy's tests cannot tell apart give the same outcome: one evaluation per class (but
        # for the cost model's inputs, which also weigh through the facts computed from them)
        key = frozenset(
            (n, v if v is None or n in MODEL_INPUTS else ("class", class_of(n, v, self.policy)))
            for n, v in changes.items()
        )
        found = self._memo.get(key)
        if found is None:
            self.evaluated += 1
            found = self._memo[key] = self.variations.outcome_of(changes, self.subject)
        return found

    def stance(self, changes: Mapping[str, Value | None]) -> str:
        return self.outcome(changes).stance

    def domain(self, name: str) -> list:
        return domain(name, self.policy, self.vocabulary)

    def names(self, stated_only: bool = False) -> list[str]:
        """The facts a change may touch: those the rules test, never a computed one (it follows its inputs)."""
        vocabulary = self.vocabulary
        names = sorted(
            n for n in self.policy.tests_by_fact if n not in vocabulary.computed and n in vocabulary.properties
        )
        return [n for n in names if n in self.stated] if stated_only else names

    def singles(self, names: list[str]) -> list[Change]:
        """Every change of one fact to a value the policy tells apart from its current one, or out."""
        found: list[Change] = []
        for name in names:
            if name not in self.policy.tests_by_fact:
                continue
            current = self.stated.get(name, ABSENT)
            current_class = class_of(name, current, self.policy) if current is not ABSENT else None
            for value in self.domain(name):
                if value is ABSENT:
                    if current is not ABSENT:
                        found.append((name, ABSENT))
                    continue
                if current_class is not None and class_of(name, value, self.policy) == current_class:
                    continue  # the policy cannot tell it from the current value
                found.append((name, value))
        return found

    def toward(self, change: Change, target: str) -> int:
        """How far one change moves the tally toward ``target`` (0: not at all), to combine the promising ones.

        Toward a side: weight added to it, weight taken from the other, the other ruled out (worth more than
        any weight) or the side made possible again. Toward hybrid: the same toward the lighter side. Toward
        conflict or undetermined: any change of what weighs or what is ruled out.
        """
        before = self.base.tally
        after = self.outcome(dict([change])).tally
        if target == "hybrid":
            target = "cloud" if before.cloud_weight < before.in_house_weight else "in-house"
        if target not in ("cloud", "in-house"):
            return int(before.facts() != after.facts())
        other = "in-house" if target == "cloud" else "cloud"
        gain = (after.weight(target) - before.weight(target)) + (before.weight(other) - after.weight(other))
        if before.is_feasible(other) and not after.is_feasible(other):
            gain += 100
        if not before.is_feasible(target) and after.is_feasible(target):
            gain += 100
        return gain

    def read_together(self, a: str, b: str) -> bool:
        """Whether one rule reads both facts (or a conclusion drawn from one of them and the other)."""
        affected = self._affected
        for name in (a, b):
            if name not in affected:
                affected[name] = self.policy.affected_by((name,))
        return not affected[a].isdisjoint(affected[b])

    def contrast(
        self,
        target: str,
        max_changes: int,
        budget: int,
        stated_only: bool = False,
        fewest_only: bool = False,
        singles: list[Change] | None = None,
    ) -> Contrast:
        """Subset-minimal sets of at most ``max_changes`` changes that give ``target``, fewest first.

        Every single change is tried whatever the budget; ``budget`` bounds the evaluations of sets of two
        or more (those already memoized cost nothing). With ``fewest_only`` (evaluate), sets of k+1 changes
        are not searched once a set of k is found, and of the sets that change the same facts only the
        least far-reaching is kept.
        """
        start = self.evaluated
        names = self.names(stated_only)
        singles = self.singles(names) if singles is None else singles
        found: list[tuple[Change, ...]] = [(c,) for c in singles if self.stance(dict([c])) == target]
        minimal = {frozenset(f) for f in found}
        budget += self.evaluated - start
        complete = True
        depth = 1
        useful: dict[str, list[tuple[int, Change]]] = {}
        # every combination when they fit the budget; else the promising ones (see the module's docstring)
        every = sum(_combinations(singles, k) for k in range(2, max_changes + 1))
        exhaustive = every <= budget - (self.evaluated - start)
        for k in range(2, max_changes + 1):
            if not complete or (fewest_only and found):
                break
            depth = k
            if exhaustive:
                candidates = itertools.combinations(singles, k)
            else:
                if not useful:
                    for change in singles:
                        gain = self.toward(change, target)
                        if gain > 0:
                            useful.setdefault(change[0], []).append((gain, change))
                pool = [c for options in useful.values() for _, c in sorted(options, key=lambda o: -o[0])[:2]]
                candidates = itertools.combinations(pool, k)
                if k == 2:
                    together = ((a, b) for a, b in itertools.combinations(singles, 2) if self.read_together(a[0], b[0]))
                    candidates = _unique(itertools.chain(candidates, together))
            for combo in candidates:
                if len({n for n, _ in combo}) < k:
                    continue
                if any(frozenset(part) in minimal for r in range(1, k) for part in itertools.combinations(combo, r)):
                    continue  # a part of it already gives the target: not minimal
                if self.evaluated - start >= budget:
                    complete = False
                    break
                if self.stance(dict(combo)) == target:
                    found.append(combo)
                    minimal.add(frozenset(combo))
        stated = self.stated

        def order(combo: tuple[Change, ...]) -> tuple:
            steps = sum(_steps(stated.get(n), v, self.domain(n)) for n, v in combo)
            return (len(combo), steps, [(n, repr(v)) for n, v in combo])

        ordered = sorted(found, key=order)
        if fewest_only:  # per set of facts, its least far-reaching values (e.g. the nearest budget that does it)
            ordered = list({frozenset(n for n, _ in combo): combo for combo in reversed(ordered)}.values())[::-1]
            ordered.sort(key=order)
        changes = tuple(tuple(FactStep(n, stated.get(n), v) for n, v in combo) for combo in ordered)
        return Contrast(
            self.subject,
            self.name,
            self.base.stance,
            target,
            changes,
            max_changes,
            complete,
            self.evaluated - start,
            depth,
            complete and (exhaustive or depth == 1),  # at depth 1 every single change was tried
        )


def smallest_changes(search: ChangeSearch, max_changes: int | None = None) -> tuple[Contrast, ...]:
    """Toward each stance of :data:`TARGETS` but the current one, the fewest changes that give it.

    ``max_changes`` None: evaluate's default (:data:`EVALUATE_MAX_CHANGES` within :data:`EVALUATE_BUDGET`
    evaluations per stance); else sets of up to that many changes within :data:`CONTRAST_BUDGET`.
    """
    if max_changes is None:
        limit, budget = EVALUATE_MAX_CHANGES, EVALUATE_BUDGET
    else:
        limit, budget = max_changes, CONTRAST_BUDGET
    singles = search.singles(search.names())
    return tuple(
        search.contrast(target, limit, budget, fewest_only=True, singles=singles)
        for target in TARGETS
        if target != search.base.stance
    )


def _combinations(items: list, k: int) -> int:
    from math import comb

    return comb(len(items), k)


def _unique(combos):
    seen = set()
    for combo in combos:
        key = tuple(sorted(combo, key=repr))
        if key not in seen:
            seen.add(key)
            yield combo


__all__ = ["ABSENT", "TARGETS", "ChangeSearch", "Contrast", "FactStep", "domain", "smallest_changes"]
