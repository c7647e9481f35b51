"""Stage 5 — decide: assessments → tally → stance, per workload, then the organization.

Stratified: the factor rules conclude assessments, constraints and
intermediate facts; the tally sums them; the stance rules (data, in
``rules/``) pick the workload's stance; the organization rules pick the
organization's stance from its workloads'.  When several stance rules fire,
the one with the lowest priority number decides.
"""

from __future__ import annotations

from collections.abc import Mapping

from .cost import CostAnalysis, analyse_cost, computed_facts
from .errors import EngineError
from .infer import ORGANIZATION_STAGE, STANCE_STAGE, RuleBackend, fire_layers, run_factor_rules
from .model import Assessment, Constraint, Derivation, Firing, MissingFact, WorkloadDecision
from .profile import OrganizationProfile, WorkloadProfile
from .ruleload import Policy
from .rules_ast import Assess, Derive, Require, Rule, SetStance, Test, Value
from .tally import Tally, organization_facts, tally
from .vocabulary import Property, Vocabulary


def _pick(rules: tuple[Rule, ...], fired: list[str], subject: str, stage: str) -> Rule:
    fired_set = set(fired)
    for rule in rules:  # already in priority order
        if rule.id in fired_set:
            return rule
    raise EngineError(
        f"no {stage} rule fired for {subject}; the {stage} rule set must give a stance in every case "
        "(add a rule that catches the remaining cases)."
    )


def _conclusions(firings: list[Firing], policy: Policy):
    assessments, constraints, derivations = [], [], []
    for firing in firings:
        rule = policy.by_id[firing.rule]
        then = rule.then
        if isinstance(then, Assess):
            assessments.append(Assessment(rule.id, then.factor, then.favors, then.weight, rule.claims, firing))
        elif isinstance(then, Require):
            constraints.append(Constraint(rule.id, then.side, rule.claims, firing))
        elif isinstance(then, Derive):
            derivations.append(Derivation(rule.id, then.name, firing))
    return assessments, constraints, derivations


def _tally(assessments: list[Assessment], constraints: list[Constraint], policy: Policy) -> Tally:
    return tally(
        ((a.factor, a.favors, a.weight) for a in assessments),
        (c.requires for c in constraints),
        int(policy.parameters["strong_weight"]),
    )


def stance_of(values: Mapping[str, Value], policy: Policy, backend: RuleBackend, subject: str = "") -> str:
    """Only the stance for plain facts (used to explore counterfactuals)."""
    return _outcome(values, policy, backend, subject)[0]


def _outcome(
    values: Mapping[str, Value], policy: Policy, backend: RuleBackend, subject: str
) -> tuple[str, frozenset[str]]:
    """The stance for plain facts and the factor rules that fired on the way."""
    # computed facts follow the candidate values, so a counterfactual cost input changes them too
    values = {**values, **computed_facts(values, policy.factor_parameters)}
    assessments, requirements, all_fired = [], [], set()
    for _, fired, _ in fire_layers(values, policy, backend):
        all_fired.update(fired)
        for rule_id in fired:
            then = policy.by_id[rule_id].then
            if isinstance(then, Assess):
                assessments.append((then.factor, then.favors, then.weight))
            elif isinstance(then, Require):
                requirements.append(then.side)
    t = tally(assessments, requirements, int(policy.parameters["strong_weight"]))
    return _stance_rule(t, policy, backend, subject).then.stance, frozenset(all_fired)


def _stance_rule(t: Tally, policy: Policy, backend: RuleBackend, subject: str) -> Rule:
    fired = backend.fire(STANCE_STAGE, t.facts())
    return _pick(policy.stance_rules, fired, subject, "stance")


def decide_workload(
    profile: WorkloadProfile,
    policy: Policy,
    backend: RuleBackend,
    explorer: RuleBackend,
    vocabulary: Vocabulary,
) -> WorkloadDecision:
    """The stance of one workload with everything that led to it."""
    cost = analyse_cost(profile.values(), policy.factor_parameters)
    firings = run_factor_rules(profile, policy, backend, cost.facts())
    assessments, constraints, derivations = _conclusions(firings, policy)
    t = _tally(assessments, constraints, policy)
    rule = _stance_rule(t, policy, backend, profile.id)
    matched = tuple((name, value) for name, value in t.facts().items() if name in rule.when.facts())
    stance_firing = Firing(rule=rule.id, subject=profile.id, stage=STANCE_STAGE, computed=matched)
    stance = rule.then.stance
    assert isinstance(rule.then, SetStance)
    fired = frozenset(f.rule for f in firings)
    missing = missing_facts(profile, stance, fired, policy, explorer, vocabulary)
    missing = _with_cost_inputs(missing, cost, policy, vocabulary)
    return WorkloadDecision(
        profile=profile,
        firings=tuple(firings),
        assessments=tuple(sorted(assessments, key=lambda a: a.rule)),
        constraints=tuple(sorted(constraints, key=lambda c: c.rule)),
        derivations=tuple(sorted(derivations, key=lambda d: d.rule)),
        tally=t,
        stance=stance,
        stance_firing=stance_firing,
        missing=missing,
        cost=cost,
    )


def decide_organization(
    organization: OrganizationProfile, stances: Mapping[str, str], policy: Policy, backend: RuleBackend
) -> tuple[str, Firing]:
    facts = organization_facts(stances)
    fired = backend.fire(ORGANIZATION_STAGE, facts)
    rule = _pick(policy.organization_rules, fired, organization.id, "organization")
    matched = tuple((name, value) for name, value in facts.items() if name in rule.when.facts())
    return rule.then.stance, Firing(rule=rule.id, subject=organization.id, stage=ORGANIZATION_STAGE, computed=matched)


# ---------------------------------------------------------------------------
# what would change it


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


def missing_facts(
    profile: WorkloadProfile,
    stance: str,
    fired_now: frozenset[str],
    policy: Policy,
    explorer: RuleBackend,
    vocabulary: Vocabulary,
) -> tuple[MissingFact, ...]:
    """Facts not given that, once stated with some value, would change the stance.

    Each comes with the rules through which its example values change the
    stance: those that would fire with the value and do not now (``fired_now``),
    or the reverse.
    """
    tests = policy.tests_by_fact
    values = profile.values()
    result = []
    # Computed facts are never explored directly: they follow from the inputs.
    for name in sorted(set(tests) - set(values) - vocabulary.computed):
        prop = vocabulary.properties[name]
        outcomes: dict[str, Value] = {}
        through: set[str] = set()
        for candidate in _candidates(prop, tests[name]):
            other, fired = _outcome({**values, name: candidate}, policy, explorer, profile.id)
            if other != stance and other not in outcomes:
                outcomes[other] = candidate[0] if isinstance(candidate, tuple) else candidate
                through |= fired ^ fired_now
        if outcomes:
            result.append(MissingFact(name, prop.label, tuple(sorted(outcomes.items())), tuple(sorted(through))))
    return tuple(result)


def _with_cost_inputs(
    missing: tuple[MissingFact, ...], cost: CostAnalysis, policy: Policy, vocabulary: Vocabulary
) -> tuple[MissingFact, ...]:
    """Add the inputs the cost model still needs (no outcome is claimed for them)."""
    listed = {m.property for m in missing}
    cost_rules = tuple(sorted(r.id for r in policy.factor_rules if set(r.when.facts()) & vocabulary.computed))
    extra = [
        MissingFact(m.fact, vocabulary.properties[m.fact].label, (), cost_rules, needed_for=m.needed_for)
        for m in cost.missing
        if m.fact not in listed
    ]
    return tuple(sorted((*missing, *extra), key=lambda m: m.property))
