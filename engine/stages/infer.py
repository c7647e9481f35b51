"""Stage 4 — infer: run the compiled rules over a subject and record firings.

Two interchangeable backends share one small interface, ``fire(stage, facts,
derived) -> sorted rule ids``: :class:`~.compile.CompiledPolicy` (durable-rules,
what decisions are made with) and :class:`DirectPolicy` (the AST's own
meaning, used to explore "what would change it" quickly and as the oracle the
property tests compare durable with).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from infra_policy.engine.model import Firing
from infra_policy.engine.policy.compile import CompiledPolicy
from infra_policy.engine.policy.ruleload import Policy
from infra_policy.engine.policy.rules_ast import Concluded, Rule, Value, predicate, supporting_tests
from infra_policy.engine.policy.tally import PLAN_MULTI_VALUED
from infra_policy.engine.stages.profile import WorkloadProfile

STANCE_STAGE = "stance"
PLAN_STAGE = "plan"
ORGANIZATION_STAGE = "organization"


def factor_stage(layer: int) -> str:
    return f"factors-{layer}"


class RuleBackend(Protocol):
    def fire(self, stage: str, facts: Mapping[str, Value], derived: frozenset[str] = frozenset()) -> list[str]: ...


def policy_stages(policy: Policy) -> dict[str, tuple[Rule, ...]]:
    stages = {factor_stage(k): layer for k, layer in enumerate(policy.strata)}
    stages[STANCE_STAGE] = policy.stance_rules
    if policy.plan_rules:
        stages[PLAN_STAGE] = policy.plan_rules
    stages[ORGANIZATION_STAGE] = policy.organization_rules
    return stages


class DirectPolicy:
    """Evaluates the rule AST directly (no rule engine)."""

    def __init__(self, stages: Mapping[str, tuple[Rule, ...]]) -> None:
        self.stages = dict(stages)

    def fire(self, stage: str, facts: Mapping[str, Value], derived: frozenset[str] = frozenset()) -> list[str]:
        return sorted(rule.id for rule in self.stages[stage] if predicate(rule.when)(facts, derived))


def compile_policy(policy: Policy, multi_valued: frozenset[str]) -> CompiledPolicy:
    # the plan rules' lists of factors are multi-valued like a facts property
    return CompiledPolicy(policy_stages(policy), multi_valued | PLAN_MULTI_VALUED)


def fire_layers(
    values: Mapping[str, Value], policy: Policy, backend: RuleBackend
) -> list[tuple[str, list[str], frozenset[str]]]:
    """Fire the factor rules layer by layer.

    Returns, per layer, the stage name, the ids of the rules that fired and the
    intermediate conclusions that were available to them.
    """
    derived: frozenset[str] = frozenset()
    layers = []
    for layer in range(len(policy.strata)):
        stage = factor_stage(layer)
        fired = backend.fire(stage, values, derived)
        layers.append((stage, fired, derived))
        names = {getattr(policy.by_id[rule_id].then, "name", None) for rule_id in fired}
        derived = derived | {name for name in names if name is not None}
    return layers


def run_factor_rules(
    profile: WorkloadProfile, policy: Policy, backend: RuleBackend, computed: Mapping[str, Value] | None = None
) -> list[Firing]:
    """Fire the factor rules and record each firing with the facts it used.

    ``computed`` holds the facts the engine computed (the cost model's): the
    rules see them beside the stated facts, and a firing records those it used.
    """
    values = {**profile.values(), **(computed or {})}
    firings: list[Firing] = []
    for stage, fired, derived in fire_layers(values, policy, backend):
        for rule_id in fired:
            support = supporting_tests(policy.by_id[rule_id].when, values, derived)
            used = sorted({t.fact for t in support if not isinstance(t, Concluded)})
            firings.append(
                Firing(
                    rule=rule_id,
                    subject=profile.id,
                    stage=stage,
                    facts=tuple(profile.facts[name] for name in used if name in profile.facts),
                    computed=tuple((name, values[name]) for name in used if name not in profile.facts),
                    derived=tuple(sorted({t.name for t in support if isinstance(t, Concluded)})),
                )
            )
    return firings
