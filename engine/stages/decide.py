"""Stage 5 — decide: feasibility → weighing → stance → plan, per workload, then the organization.

Stratified: the factor rules conclude assessments, the sides they rule out and
intermediate facts; the tally counts the assessments (each claim once, each
factor capped) and notes which sides are feasible; the stance rules (data, in
``rules/``) pick the workload's stance from it; a hybrid workload gets its plan
from the plan rules; the organization rules pick the organization's stance
from its workloads'. When several stance, plan or organization rules fire, the
one with the lowest priority number decides.

Around the stance, the decision says what a decision maker needs next: the
risks of the side not taken and what answers them, the stated facts that
weighed nothing and why, how close the stance is to another, and the questions
whose answers would move it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from infra_policy.engine.errors import EngineError
from infra_policy.engine.model import (
    Assessment,
    Closeness,
    Constraint,
    Derivation,
    Firing,
    HybridPlan,
    MissingFact,
    Question,
    Risk,
    UnweighedFact,
    WorkloadDecision,
)
from infra_policy.engine.outputs.wording import fact_words, holds_phrase, seen_words, unmet, value_words, weighs_when
from infra_policy.engine.policy.ruleload import Policy
from infra_policy.engine.policy.rules_ast import (
    Assess,
    Derive,
    Rule,
    RuleOut,
    SetPlan,
    SetStance,
    Test,
    Value,
    iter_tests,
    other_side,
    predicate,
    supporting_tests,
    test_holds,
    value_text,
)
from infra_policy.engine.policy.tally import SIDES, STRENGTH, Tally, Weighed, organization_facts, plan_facts, tally
from infra_policy.engine.stages.cost import MODEL_INPUTS, CostAnalysis, analyse_cost, computed_facts
from infra_policy.engine.stages.infer import (
    ORGANIZATION_STAGE,
    PLAN_STAGE,
    STANCE_STAGE,
    RuleBackend,
    fire_layers,
    run_factor_rules,
)
from infra_policy.engine.stages.profile import OrganizationProfile, WorkloadProfile
from infra_policy.engine.vocabulary import Property, Vocabulary


def _pick(rules: tuple[Rule, ...], fired: list[str], subject: str, stage: str) -> Rule:
    fired_set = set(fired)
    for rule in rules:  # already in priority order
        if rule.id in fired_set:
            return rule
    raise EngineError(
        f"no {stage} rule fired for {subject}; the {stage} rule set must give a result in every case "
        "(add a rule that catches the remaining cases)."
    )


def _conclusions(firings: list[Firing], policy: Policy):
    assessments, constraints, derivations = [], [], []
    for firing in firings:
        rule = policy.by_id[firing.rule]
        then = rule.then
        if isinstance(then, Assess):
            assessments.append(Assessment(rule.id, then.factor, then.favors, then.weight, rule.claims, firing))
        elif isinstance(then, RuleOut):
            constraints.append(Constraint(rule.id, then.side, rule.claims, firing))
        elif isinstance(then, Derive):
            derivations.append(Derivation(rule.id, then.name, firing))
    return assessments, constraints, derivations


def _count(weighed: Iterable[Weighed], ruled_out: Iterable[str], policy: Policy) -> Tally:
    return tally(
        weighed,
        ruled_out,
        factor_cap=int(policy.parameters["factor_cap"]),
        strong_weight=int(policy.parameters["strong_weight"]),
    )


def _stance_rule(facts: Mapping[str, object], policy: Policy, backend: RuleBackend, subject: str) -> Rule:
    return _pick(policy.stance_rules, backend.fire(STANCE_STAGE, facts), subject, "stance")


def _first_stance(facts: Mapping[str, object], policy: Policy, subject: str) -> str:
    """The stance the stance rules give, evaluated directly (for exploring many hypothetical tallies)."""
    for rule in policy.stance_rules:  # in priority order: the first that holds decides
        if predicate(rule.when)(facts, frozenset()):
            return rule.then.stance
    return _pick(policy.stance_rules, [], subject, "stance").then.stance


@dataclass(frozen=True)
class _Outcome:
    """What the policy concludes for plain facts (used to explore changes)."""

    stance: str
    tally: Tally
    fired: frozenset[str]


def _outcome(values: Mapping[str, Value], policy: Policy, backend: RuleBackend, subject: str) -> _Outcome:
    # computed facts follow the candidate values, so a counterfactual cost input changes them too
    values = {**values, **computed_facts(values, policy.factor_parameters)}
    weighed, ruled_out, all_fired = [], [], set()
    for _, fired, _ in fire_layers(values, policy, backend):
        all_fired.update(fired)
        for rule_id in fired:
            rule = policy.by_id[rule_id]
            if isinstance(rule.then, Assess):
                weighed.append(policy.weighing[rule.id])
            elif isinstance(rule.then, RuleOut):
                ruled_out.append(rule.then.side)
    t = _count(weighed, ruled_out, policy)
    return _Outcome(_stance_rule(t.facts(), policy, backend, subject).then.stance, t, frozenset(all_fired))


class _Variations:
    """The policy's outcome when one fact of a workload changes, re-evaluating only the rules it can affect.

    The factor rules that read neither the fact nor (when it is a cost-model
    input) a computed fact nor, in turn, a conclusion derived from those, fire
    as they did; the rest are evaluated directly (the AST's meaning, which the
    property tests keep equal to durable's).
    """

    def __init__(self, values: Mapping[str, Value], base: _Outcome, policy: Policy, vocabulary: Vocabulary):
        self.stated = {k: v for k, v in values.items() if k not in vocabulary.computed}
        self.computed_values = {k: v for k, v in values.items() if k in vocabulary.computed}
        # what the rules see when only stated facts that are not cost-model inputs change
        self.values = {**self.stated, **self.computed_values}
        self.base = base
        self.fired = base.fired
        self.producers = policy.producers
        self.derived = {name for name, ids in self.producers.items() if any(i in self.fired for i in ids)}
        self.weighing, self.ruling_out = policy.weighing, policy.ruling_out
        self.counting_rules = policy.counting_rules
        self.policy = policy
        self.computed_names = tuple(sorted(vocabulary.computed))
        self.cost_inputs = MODEL_INPUTS

    def outcome(self, name: str, value: Value, explorer: RuleBackend, subject: str) -> _Outcome:
        return self.outcome_of({name: value}, subject)

    def outcome_of(self, changes: Mapping[str, Value | None], subject: str) -> _Outcome:
        """The outcome with several facts changed at once (a value of None leaves the fact out)."""
        if not changes:
            return self.base
        policy = self.policy
        changed = tuple(sorted(changes))
        if self.cost_inputs.isdisjoint(changed):
            layers = policy.affected_predicates(changed)
            if not layers:
                return self.base
            values = self.values.copy()
            computed_values = self.computed_values
            for name, value in changes.items():
                if name in computed_values:
                    continue  # a fact the cost model computed follows its inputs, whatever is asked
                if value is None:
                    values.pop(name, None)
                else:
                    values[name] = value
        else:
            values = dict(self.stated)
            for name, value in changes.items():
                if value is None:
                    values.pop(name, None)
                else:
                    values[name] = value
            values.update(computed_facts(values, policy.factor_parameters))
            layers = policy.affected_predicates((*changed, *self.computed_names))
            if not layers:
                return self.base
        fired = set(self.fired)
        derived = set(self.derived)
        producers = self.producers
        # the strata order the rules so that a rule reads only conclusions of earlier layers: the set of
        # conclusions can be read as it grows
        for layer in layers:
            for holds, rule_id, derives in layer:
                if holds(values, derived):
                    fired.add(rule_id)
                    if derives is not None:
                        derived.add(derives)
                else:
                    fired.discard(rule_id)
                    if derives is not None and fired.isdisjoint(producers[derives]):
                        derived.discard(derives)
        counting_rules = self.counting_rules
        if counting_rules.isdisjoint(fired.symmetric_difference(self.fired)):
            return self.base  # only intermediate conclusions changed, nothing that weighs
        counting = frozenset(fired.intersection(counting_rules))
        # the same counting rules give the same tally, and the same tally the same stance, in any workload
        memo = policy.tally_outcomes
        found = memo.get(counting)
        if found is None:
            weighed = [self.weighing[rule_id] for rule_id in counting if rule_id in self.weighing]
            ruled_out = [self.ruling_out[rule_id] for rule_id in counting if rule_id in self.ruling_out]
            t = _count(weighed, ruled_out, policy)
            if len(memo) > _MEMO_ENTRIES:
                memo.clear()  # bounded: a long-running process stays flat
            # every fact a stance rule tests (tally.TALLY_FIELDS) follows from these
            tally_key = (
                "stance",
                t.cloud_weight,
                t.in_house_weight,
                t.counted_factors,
                t.cloud_feasible,
                t.in_house_feasible,
                t.cloud_strong,
                t.in_house_strong,
            )
            stance = memo.get(tally_key)
            if stance is None:
                stance = memo[tally_key] = _first_stance(t.facts(), policy, subject)
            found = memo[counting] = (t, stance)
        return _Outcome(found[1], found[0], frozenset(fired))


def stance_of(values: Mapping[str, Value], policy: Policy, backend: RuleBackend, subject: str = "") -> str:
    """Only the stance for plain facts (used to explore counterfactuals)."""
    return _outcome(values, policy, backend, subject).stance


def decide_workload(
    profile: WorkloadProfile,
    policy: Policy,
    backend: RuleBackend,
    explorer: RuleBackend,
    vocabulary: Vocabulary,
    explore_changes: bool = True,
    memo: dict | None = None,
    max_changes: int | None = None,
) -> WorkloadDecision:
    """The stance of one workload with everything that led to it and what would change it.

    With ``explore_changes`` false, the search of what would change the stance (the fewest fact
    changes toward each other stance, the missing facts and the questions) is skipped, unless the
    stance is undetermined: its questions are then the answer itself. Only the inputs the cost model
    still needs are listed. ``max_changes``: the most changes in a set (None: evaluate's default, see
    engine.stages.changes.smallest_changes).
    """
    cost = analyse_cost(profile.values(), policy.factor_parameters)
    firings = run_factor_rules(profile, policy, backend, cost.facts())
    assessments, constraints, derivations = _conclusions(firings, policy)
    t = _count(
        (policy.weighing[a.rule] for a in assessments),
        (c.rules_out for c in constraints),
        policy,
    )
    # What follows from the tally alone (the stance rule, how close it is) is the same for every workload
    # with the same tally: in a large organization most tallies recur, so it is worked out once each.
    memo = {} if memo is None else memo
    if len(memo) > _MEMO_ENTRIES:
        memo.clear()  # bounded: a long-running process stays flat
    tally_key = tuple(t.facts().items())
    rule = memo.get(("stance", tally_key))
    if rule is None:
        rule = memo[("stance", tally_key)] = _stance_rule(t.facts(), policy, backend, profile.id)
    assert isinstance(rule.then, SetStance)
    stance = rule.then.stance
    matched = tuple((name, value) for name, value in t.facts().items() if name in rule.when.facts())
    stance_firing = Firing(rule=rule.id, subject=profile.id, stage=STANCE_STAGE, computed=matched)
    assessments = sorted(assessments, key=lambda a: a.rule)
    fired = frozenset(f.rule for f in firings)
    explored = explore_changes or stance == "undetermined"
    changes: tuple = ()
    if explored:
        from infra_policy.engine.stages.changes import ChangeSearch, smallest_changes  # it builds on this module

        search = ChangeSearch(
            profile.values(), _Outcome(stance, t, fired), profile.id, profile.name, policy, vocabulary
        )
        missing, questions = _explore(profile, stance, t, policy, vocabulary, search)
        changes = smallest_changes(search, max_changes)
    else:
        missing, questions = (), ()
    missing = _with_cost_inputs(missing, cost, policy, vocabulary)
    values = {**profile.values(), **cost.facts()}
    return WorkloadDecision(
        profile=profile,
        firings=tuple(firings),
        assessments=tuple(assessments),
        constraints=tuple(sorted(constraints, key=lambda c: c.rule)),
        derivations=tuple(sorted(derivations, key=lambda d: d.rule)),
        tally=t,
        stance=stance,
        stance_firing=stance_firing,
        missing=missing,
        cost=cost,
        plan=_plan(t, stance, assessments, policy, backend, profile.id) if stance == "hybrid" else None,
        risks=_risks(stance, t, assessments, values, policy),
        unweighed=_unweighed(profile, values, firings, t, cost, policy, vocabulary),
        closeness=_memo_closeness(memo, tally_key, stance, t, constraints, policy, explorer, profile.id),
        questions=questions,
        changes_explored=explored,
        changes=changes,
    )


# ---------------------------------------------------------------------------
# plan, risks


def _plan(
    t: Tally, stance: str, assessments: list[Assessment], policy: Policy, backend: RuleBackend, subject: str
) -> HybridPlan:
    because = {side: tuple(a.rule for a in assessments if a.favors == side and t.counted(a.rule)) for side in SIDES}
    if not policy.plan_rules:  # a version 1 rule set: split along the arguments themselves
        return HybridPlan(
            "split-by-concern",
            "Each concern where its arguments point",
            ("the parts of the workload the in-house arguments are about",),
            ("the parts of the workload the cloud arguments are about",),
            "",
            because["in-house"],
            because["cloud"],
        )
    rule = _pick(policy.plan_rules, backend.fire(PLAN_STAGE, plan_facts(t, stance, because)), subject, "plan")
    then = rule.then
    assert isinstance(then, SetPlan)
    plan_id = rule.id.split(".", 1)[1]
    return HybridPlan(plan_id, rule.title, then.in_house, then.cloud, rule.id, because["in-house"], because["cloud"])


def _risks(
    stance: str, t: Tally, assessments: list[Assessment], values: Mapping[str, Value], policy: Policy
) -> tuple[Risk, ...]:
    """The counted arguments for the side not chosen, with what answers each in the chosen one."""
    if stance not in SIDES:
        return ()
    other = other_side(stance)
    why = "outweighed" if t.is_feasible(other) else "ruled-out"
    stated = values.get("cloudSafeguard", ())
    stated = stated if isinstance(stated, tuple) else (stated,)
    risks = []
    for a in sorted(assessments, key=lambda a: (-a.weight, a.rule)):
        if a.favors != other or not t.counted(a.rule):
            continue
        rule = policy.by_id[a.rule]
        mitigation = rule.mitigation
        advice = mitigation.advice if mitigation else f"Keep this argument in view: {rule.title}"
        safeguards = mitigation.safeguards if mitigation and stance == "cloud" else ()
        risks.append(Risk(a.rule, other, why, advice, safeguards, tuple(s for s in safeguards if s in stated)))
    return tuple(risks)


# ---------------------------------------------------------------------------
# stated facts that weighed nothing


def _used_values(policy: Policy, firing: Firing, values: Mapping[str, Value], derived: frozenset[str]) -> set:
    """(fact, value) pairs a firing's condition used; a single-valued fact uses its one value."""
    used = set()
    for test in supporting_tests(policy.by_id[firing.rule].when, values, derived):
        if not isinstance(test, Test) or test.fact not in values:
            continue
        seen = values[test.fact]
        if isinstance(seen, tuple):
            operands = test.operand if test.op == "in" else (test.operand,)
            used.update((test.fact, v) for v in seen if test.op in ("equals", "in") and v in operands)
            if test.op not in ("equals", "in"):
                used.update((test.fact, v) for v in seen)
        else:
            used.add((test.fact, seen))
    return used


def _unweighed(
    profile: WorkloadProfile,
    values: Mapping[str, Value],
    firings: list[Firing],
    t: Tally,
    cost: CostAnalysis,
    policy: Policy,
    vocabulary: Vocabulary,
) -> tuple[UnweighedFact, ...]:
    """Every stated fact (value, for a multi-valued fact) no counted conclusion rests on, with why."""
    producers = {policy.by_id[f.rule].then.name: f for f in firings if isinstance(policy.by_id[f.rule].then, Derive)}
    derived = frozenset(producers)
    counting = [
        f
        for f in firings
        if isinstance(policy.by_id[f.rule].then, RuleOut)
        or (isinstance(policy.by_id[f.rule].then, Assess) and t.counted(f.rule))
    ]
    used: set = set()
    pending, seen = list(counting), set()
    while pending:
        firing = pending.pop()
        if firing.rule in seen:
            continue
        seen.add(firing.rule)
        used |= _used_values(policy, firing, values, derived)
        pending.extend(producers[name] for name in firing.derived if name in producers)
    cost_inputs = {name for name, value in values.items() if (name, value) in used and name in vocabulary.computed}
    stated_behind_cost = {stated for name in cost_inputs for stated in cost.stated_inputs(name)}
    superseded = dict(t.superseded)
    found = []
    for name in sorted(profile.facts):
        if name == "name":
            continue
        value = profile.facts[name].value
        items = value if isinstance(value, tuple) else (value,)
        for item in items:
            if (name, item) in used or name in stated_behind_cost:
                continue
            reason = _why_unweighed(name, item, values, derived, firings, superseded, policy, vocabulary, seen)
            found.append(UnweighedFact(name, item, reason))
    return tuple(found)


def _why_unweighed(
    name: str,
    value: Value,
    values: Mapping[str, Value],
    derived: frozenset[str],
    firings: list[Firing],
    superseded: Mapping[str, str],
    policy: Policy,
    vocabulary: Vocabulary,
    counting: set[str] | frozenset[str] = frozenset(),  # the fired rules behind what was counted
) -> str:
    note = policy.not_weighed.get((name, value_text(value)))
    if note:
        return note
    fired = {f.rule for f in firings}
    # used only by assessments whose claim was already counted through a heavier one
    by = sorted({superseded[f.rule] for f in firings if f.rule in superseded and name in _facts_of(f)})
    if by:
        titles = "; ".join(policy.by_id[r].title for r in by)
        return f"the point it supports is already counted, through: {titles}"
    # Ask each rule that could weigh the fact why it did not fire, and say the most telling:
    # a broken assumption first, then a fact to add, then another fact's value, then this value.
    reasons: list[tuple[int, str]] = []
    failed_on: set[str] = set()
    own: list[tuple[Test, bool]] = []  # what this fact itself would have to be, for any rule that reads it
    single = vocabulary.properties[name].single
    for rule in policy.positive_readers.get(name, ()):
        if rule.id in fired:
            continue
        leaves = unmet(rule.when, values, derived)
        if not leaves or not all(isinstance(leaf, Test) for leaf, _ in leaves):
            continue  # it would also need a conclusion the workload does not reach: no one-line story
        if not single and not any(
            test_holds(t, {name: (value,)}) for t in iter_tests(rule.when) if isinstance(t, Test) and t.fact == name
        ):
            continue  # the rule is about other values of this fact (GDPR, not HIPAA)
        mine = [(leaf, negated) for leaf, negated in leaves if leaf.fact == name]
        others = [(leaf, negated) for leaf, negated in leaves if leaf.fact != name]
        if single and mine:
            if not others and len(mine) == 1:  # this fact alone would make the rule apply
                own.append(mine[0])
            continue  # this value would have to change as well: the rule does not wait on the others alone
        if len(leaves) > 1:
            # every test still missing, so that the hint is true as said
            needed = " and ".join(
                holds_phrase(leaf, vocabulary, negated)
                + (f" (it is {seen_words(leaf.fact, values, vocabulary)})" if leaf.fact != name else "")
                for leaf, negated in leaves
            )
            reasons.append((2, f"it weighs only if {needed}"))
            continue
        leaf, negated = leaves[0]
        if leaf.fact in failed_on:
            continue
        failed_on.add(leaf.fact)
        given = leaf.fact in values
        seen = seen_words(leaf.fact, values, vocabulary)
        if leaf.fact in vocabulary.computed and not given:
            other = fact_words(leaf.fact, vocabulary)
            reasons.append(
                (
                    5,
                    f"it weighs only through the cost model's {other.removeprefix('the ')}, "
                    "which it could not work out",
                )
            )
        elif leaf.fact != name and negated and given:
            assumes = f" (the rule assumes: {'; '.join(rule.assumes)})" if rule.assumes else ""
            reasons.append((0, f"it weighs only if {holds_phrase(leaf, vocabulary, negated)}{assumes}; it is {seen}"))
        elif leaf.fact != name and not given:
            reasons.append(
                (1, f"it weighs only together with {fact_words(leaf.fact, vocabulary)}, which is not stated")
            )
        elif leaf.fact != name:
            reasons.append((2, f"it weighs only if {holds_phrase(leaf, vocabulary, negated)}; it is {seen}"))
        else:
            reasons.append((3, f"it weighs only if {holds_phrase(leaf, vocabulary, negated)}"))
    if own:
        reasons.append((4, f"the policy weighs it only when it is {weighs_when(own, vocabulary)}"))
    if reasons:
        reasons.sort(key=lambda r: r[0])  # stable: rule order within a kind
        first, *rest = dict.fromkeys(text for _, text in reasons[:2])
        # alternatives: any one of them would do
        return "; ".join([first, *(_or_else(text) for text in rest)])
    readers = policy.positive_readers.get(name, ())
    if any(rule.id in counting for rule in readers):
        return "what it would support already follows from other facts"
    if any(rule.id in fired for rule in readers):
        return "a rule that reads it applies, but what it concludes weighs nothing for this workload"
    if name in policy.tests_by_fact or vocabulary.properties[name].computed:
        return "no rule that reads it applies unless other facts change as well"
    if any(name in r.when.facts() for r in policy.factor_rules):
        return "no rule that weighs it applies to this workload"
    return (
        "no rule of the policy weighs it (an input of the cost model, whose results did not reach a threshold)"
        if name in MODEL_INPUTS
        else "no rule of the policy weighs it"
    )


_ALTERNATIVE_OPENINGS = (
    ("it weighs only if ", "or if "),
    ("it weighs only together with ", "or together with "),
    ("it weighs only through ", "or through "),
    ("the policy weighs it only when it is ", "or when it is "),
)


def _or_else(text: str) -> str:
    """A second way a fact could weigh, worded as the alternative it is."""
    for opening, alternative in _ALTERNATIVE_OPENINGS:
        if text.startswith(opening):
            return alternative + text.removeprefix(opening)
    return "or: " + text


def _facts_of(firing: Firing) -> set[str]:
    return {f.property for f in firing.facts}


# ---------------------------------------------------------------------------
# how close


def points_text(points: int) -> str:
    """Added weight in words: "one moderate argument (2 points)", "5 points (more than one strong argument)"."""
    if points in STRENGTH:
        return f"one {STRENGTH[points]} argument ({points} point{'s' * (points > 1)})"
    return f"{points} points (more than one strong argument)"


def _hypothetical(t: Tally, side: str, points: int) -> dict[str, object]:
    """Tally facts with ``points`` more weight for ``side`` from a factor not yet weighed."""
    cloud = t.cloud_weight + (points if side == "cloud" else 0)
    in_house = t.in_house_weight + (points if side == "in-house" else 0)
    total = cloud + in_house
    facts = t.facts()
    facts.update(
        cloud_weight=cloud,
        in_house_weight=in_house,
        total_weight=total,
        margin=abs(cloud - in_house),
        balance=round((in_house - cloud) / total, 4) if total else 0.0,
        leaning="even" if cloud == in_house else ("cloud" if cloud > in_house else "in-house"),
        counted_factors=t.counted_factors + 1,
    )
    return facts


_MOST_POINTS = 64  # beyond this, "far" is all a decision maker needs to know
_MEMO_ENTRIES = 20_000


def _memo_closeness(
    memo: dict,
    tally_key: tuple,
    stance: str,
    t: Tally,
    constraints: list[Constraint],
    policy: Policy,
    explorer: RuleBackend,
    subject: str,
) -> tuple[Closeness, ...]:
    # the constraints' titles are the answer when feasibility decides
    key = ("closeness", tally_key, stance, tuple(sorted(c.rule for c in constraints)))
    found = memo.get(key)
    if found is None:
        found = memo[key] = _closeness(stance, t, constraints, policy, explorer, subject)
    return found


def _closeness(
    stance: str,
    t: Tally,
    constraints: list[Constraint],
    policy: Policy,
    explorer: RuleBackend,
    subject: str,
) -> tuple[Closeness, ...]:
    """For each side, the least added weight that would move the stance (none when feasibility decides)."""
    if not (t.cloud_feasible and t.in_house_feasible):

        def quoted(cs: Iterable[Constraint]) -> str:
            return "; ".join(f"“{policy.by_id[c.rule].title.rstrip('.')}”" for c in cs)

        if not (t.cloud_feasible or t.in_house_feasible):  # a conflict: lifting either side's limit ends it
            by_side = {side: [c for c in constraints if c.rules_out == side] for side in SIDES}
            either = " or ".join(
                f"{quoted(cs)} (ruling out {'the cloud' if side == 'cloud' else 'in-house servers'})"
                for side, cs in by_side.items()
                if cs
            )
            text = f"decided by feasibility, not by weight: it changes as soon as one side is possible again: {either}"
        else:
            what = "this no longer holds" if len(constraints) == 1 else "none of these holds any more"
            text = f"decided by feasibility, not by weight: it changes only if {what}: {quoted(constraints)}"
        return (Closeness("", "", 0, text),)

    def stance_with(side: str, points: int) -> str:
        return _first_stance(_hypothetical(t, side, points), policy, subject)

    found = []
    for side in SIDES:
        if stance_with(side, _MOST_POINTS) == stance:
            continue
        low, high = 0, _MOST_POINTS  # stance_with(low) == stance, stance_with(high) != stance
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if stance_with(side, middle) == stance else (low, middle)
        to = stance_with(side, high)
        if stance == "undetermined" and to != side:
            # more weight for one side can settle it for the other: the total then suffices to decide
            text = f"{points_text(high)} more for {side} would be enough weight to decide, and it would be {to}"
        else:
            text = f"{points_text(high)} more for {side} would make it {to}"
        found.append(Closeness(to, side, high, text))
    return tuple(sorted(found, key=lambda c: (c.points, c.side)))


# ---------------------------------------------------------------------------
# what would change it: missing facts and the questions to ask


def _candidates(prop: Property, policy_tests: tuple[Test, ...]) -> list[Value]:
    """Values worth trying for a fact that was not given."""
    if prop.kind == "boolean":
        found: list[Value] = [True, False]
    elif prop.kind in ("enum", "iri"):
        mentioned = {o for t in policy_tests for o in (t.operand if t.op == "in" else (t.operand,)) if o is not None}
        found = list(prop.values) if prop.kind == "enum" else sorted(mentioned, key=str)
    elif prop.numeric:
        points = set()
        for t in policy_tests:
            if isinstance(t.operand, (int, float)) and not isinstance(t.operand, bool):
                step = 1 if prop.kind == "integer" else max(abs(t.operand) * 0.1, 0.1)
                points.update((t.operand - step, t.operand, t.operand + step))
        if prop.minimum is not None:
            points = {p for p in points if p > prop.minimum or (p == prop.minimum and not prop.minimum_exclusive)}
        found = sorted((int(p) if prop.kind == "integer" else round(float(p), 6)) for p in points)
    else:
        found = []
    if not prop.single:
        found = [(v,) for v in found]
    return found


def _explore(
    profile: WorkloadProfile,
    stance: str,
    t: Tally,
    policy: Policy,
    vocabulary: Vocabulary,
    search,
) -> tuple[tuple[MissingFact, ...], tuple[Question, ...]]:
    """Facts not given that, once stated with some value, would change the stance or the weights.

    A missing fact comes with the stances its values could lead to and the
    rules through which they do (those that would fire and do not now, or the
    reverse). A question says how much a fact's answer can weigh: the most it
    adds to each side, and the sides it could rule out; the most decisive come first.
    Each value is evaluated by ``search`` (engine.stages.changes.ChangeSearch), whose smallest
    changes reuse these evaluations.
    """
    tests = policy.tests_by_fact
    values = profile.values()
    fired_now = search.base.fired
    missing, questions = [], []
    # Computed facts are never explored directly: they follow from the inputs.
    for name in sorted(set(tests) - set(values) - vocabulary.computed):
        prop = vocabulary.properties[name]
        outcomes: dict[str, Value] = {}
        through: set[str] = set()
        gains = {side: 0 for side in SIDES}
        rules_out: set[str] = set()
        for candidate in _candidates(prop, tests[name]):
            other = search.outcome({name: candidate})
            shown = candidate[0] if isinstance(candidate, tuple) else candidate
            if other.stance != stance and other.stance not in outcomes:
                outcomes[other.stance] = shown
                through |= other.fired ^ fired_now
            for side in SIDES:
                gains[side] = max(gains[side], other.tally.weight(side) - t.weight(side))
                if t.is_feasible(side) and not other.tally.is_feasible(side):
                    rules_out.add(side)
        if outcomes:
            missing.append(MissingFact(name, prop.label, tuple(sorted(outcomes.items())), tuple(sorted(through))))
        if rules_out or any(gains.values()):
            questions.append(_question(prop, tuple(sorted(rules_out)), gains, vocabulary))
    questions.sort(key=lambda q: (not q.rules_out, -max(w for _, w in q.weight), q.property))
    return tuple(missing), tuple(questions)


def _question(prop: Property, rules_out: tuple[str, ...], gains: dict[str, int], vocabulary: Vocabulary) -> Question:
    values = tuple(prop.values) if prop.kind in ("enum", "iri") else ()
    asked = prop.label[:1].upper() + prop.label[1:]
    if values:
        asked += ": " + ", ".join(value_words(v, vocabulary) for v in values)
    elif prop.kind == "boolean":
        asked += ": yes or no"
    else:
        asked += ": " + prop.describe_allowed()
    effects = [f"could rule out {'the cloud' if side == 'cloud' else 'in-house servers'}" for side in rules_out]
    effects += [f"up to {w} point{'s' * (w > 1)} for {side}" for side, w in gains.items() if w > 0]
    return Question(
        prop.name, prop.label, values, rules_out, tuple(sorted(gains.items())), f"{asked} — {'; '.join(effects)}"
    )


def _with_cost_inputs(
    missing: tuple[MissingFact, ...], cost: CostAnalysis, policy: Policy, vocabulary: Vocabulary
) -> tuple[MissingFact, ...]:
    """Add the inputs the cost model still needs (no outcome is claimed for them)."""
    listed = {m.property for m in missing}
    cost_rules = policy.reading_computed
    extra = [
        MissingFact(m.fact, vocabulary.properties[m.fact].label, (), cost_rules, needed_for=m.needed_for)
        for m in cost.missing
        if m.fact not in listed
    ]
    return tuple(sorted((*missing, *extra), key=lambda m: m.property))


# ---------------------------------------------------------------------------
# the organization


def decide_organization(
    organization: OrganizationProfile, stances: Mapping[str, str], policy: Policy, backend: RuleBackend
) -> tuple[str, Firing]:
    facts = organization_facts(stances)
    fired = backend.fire(ORGANIZATION_STAGE, facts)
    rule = _pick(policy.organization_rules, fired, organization.id, "organization")
    matched = tuple((name, value) for name, value in facts.items() if name in rule.when.facts())
    return rule.then.stance, Firing(rule=rule.id, subject=organization.id, stage=ORGANIZATION_STAGE, computed=matched)


def organization_plan(stance: str, workloads: tuple[WorkloadDecision, ...], policy: Policy) -> HybridPlan | None:
    """A hybrid organization's plan: its one workload's plan, or each workload where it was placed."""
    if stance != "hybrid":
        return None
    if len(workloads) == 1 and workloads[0].plan is not None:
        return workloads[0].plan
    in_house, cloud = [], []
    for w in workloads:
        if w.stance == "in-house":
            in_house.append(w.profile.name)
        elif w.stance == "cloud":
            cloud.append(w.profile.name)
        elif w.plan is not None:
            in_house.extend(f"{w.profile.name}: {part}" for part in w.plan.in_house)
            cloud.extend(f"{w.profile.name}: {part}" for part in w.plan.cloud)
    title = str(policy.organization_parameters.get("split_plan_title", "Each workload where it fits best"))
    return HybridPlan("split-by-workload", title, tuple(in_house), tuple(cloud))


__all__ = [
    "decide_organization",
    "decide_workload",
    "organization_plan",
    "points_text",
    "stance_of",
]
