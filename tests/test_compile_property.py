"""durable-rules must conclude exactly what the rule AST means.

Rule sets and facts are generated in every shape the compiler emits (all /
any / not, every test operator, single- and multi-valued facts, booleans,
numbers, intermediate conclusions across layers); the compiled rules run on
the real durable engine and are compared with direct evaluation of the AST.
See docs/durable-rules.md: a new rule shape is added here first.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra_policy.engine.errors import EngineError
from infra_policy.engine.policy.compile import CompiledPolicy
from infra_policy.engine.policy.rules_ast import All, Any, Assess, Concluded, Derive, Not, Rule, Test
from infra_policy.engine.stages.infer import DirectPolicy

COLORS = ("Red", "Green", "Blue")
TAGS = ("GDPR", "HIPAA", "ITAR")
NUMBERS = (0, 1, 2.5, 4, 10)
MULTI = frozenset({"tags"})

facts_strategy = st.fixed_dictionaries(
    {},
    optional={
        "color": st.sampled_from(COLORS),
        "size": st.sampled_from(NUMBERS),
        "count": st.integers(min_value=0, max_value=5),
        "flag": st.booleans(),
        "tags": st.lists(st.sampled_from(TAGS), min_size=1, max_size=3, unique=True).map(lambda v: tuple(sorted(v))),
    },
)


def leaf_strategy(derived: tuple[str, ...]):
    color = st.one_of(
        st.builds(Test, st.just("color"), st.sampled_from(["equals", "not_equals"]), st.sampled_from(COLORS)),
        st.builds(
            Test,
            st.just("color"),
            st.just("in"),
            st.lists(st.sampled_from(COLORS), min_size=1, max_size=3, unique=True).map(tuple),
        ),
    )
    numbers = st.builds(
        Test,
        st.sampled_from(["size", "count"]),
        st.sampled_from(["less_than", "at_most", "greater_than", "at_least", "equals", "not_equals"]),
        st.sampled_from(NUMBERS),
    )
    flag = st.builds(Test, st.just("flag"), st.sampled_from(["equals", "not_equals"]), st.booleans())
    tags = st.one_of(
        st.builds(Test, st.just("tags"), st.sampled_from(["equals", "not_equals"]), st.sampled_from(TAGS)),
        st.builds(
            Test,
            st.just("tags"),
            st.just("in"),
            st.lists(st.sampled_from(TAGS), min_size=1, max_size=3, unique=True).map(tuple),
        ),
    )
    presence = st.builds(
        Test,
        st.sampled_from(["color", "size", "count", "flag", "tags"]),
        st.sampled_from(["present", "absent"]),
        st.none(),
    )
    leaves = [color, numbers, flag, tags, presence]
    if derived:
        leaves.append(st.builds(Concluded, st.sampled_from(derived)))
    return st.one_of(*leaves)


def conditions(derived: tuple[str, ...]):
    return st.recursive(
        leaf_strategy(derived),
        lambda inner: st.one_of(
            st.builds(All, st.lists(inner, min_size=1, max_size=3).map(tuple)),
            st.builds(Any, st.lists(inner, min_size=1, max_size=3).map(tuple)),
            st.builds(Not, inner),
        ),
        max_leaves=6,
    )


def _rule(rule_id: str, when, then) -> Rule:
    return Rule(
        id=rule_id,
        title=rule_id,
        when=when,
        then=then,
        rationale="generated",
        claims=("claim:x",),
        ruleset="gen",
        source="generated",
    )


@st.composite
def layered_policies(draw):
    """Two layers: layer 0 derives names that layer 1 may test."""
    first = draw(st.lists(conditions(()), min_size=1, max_size=8))
    names = tuple(f"d{i}" for i in range(len(first)))
    layer0 = tuple(
        _rule(f"gen.r0-{i}", c, Derive(names[i]) if i % 2 == 0 else Assess("f", "cloud", 1))
        for i, c in enumerate(first)
    )
    derived_names = tuple(n for i, n in enumerate(names) if i % 2 == 0)
    second = draw(st.lists(conditions(derived_names), min_size=1, max_size=8))
    layer1 = tuple(_rule(f"gen.r1-{i}", c, Assess("f", "in-house", 2)) for i, c in enumerate(second))
    return {"layer-0": layer0, "layer-1": layer1}


def run_layers(backend, stages, facts):
    derived: frozenset[str] = frozenset()
    fired_all = []
    for stage, rules in stages.items():
        fired = backend.fire(stage, facts, derived)
        fired_all.append(fired)
        by_id = {r.id: r for r in rules}
        derived = derived | {by_id[r].then.name for r in fired if isinstance(by_id[r].then, Derive)}
    return fired_all


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stages=layered_policies(), samples=st.lists(facts_strategy, min_size=1, max_size=6))
def test_durable_concludes_what_the_ast_means(stages, samples):
    compiled = CompiledPolicy(stages, MULTI)
    direct = DirectPolicy(stages)
    for facts in samples:
        assert run_layers(compiled, stages, facts) == run_layers(direct, stages, facts), facts


@settings(max_examples=100, deadline=None)
@given(stages=layered_policies(), facts=facts_strategy, seed=st.randoms(use_true_random=False))
def test_rule_order_does_not_matter(stages, facts, seed):
    shuffled = {}
    for stage, rules in stages.items():
        rules = list(rules)
        seed.shuffle(rules)
        shuffled[stage] = tuple(rules)
    assert run_layers(CompiledPolicy(shuffled, MULTI), shuffled, facts) == run_layers(
        CompiledPolicy(stages, MULTI), stages, facts
    )


def test_one_host_serves_many_sessions_without_leaking_state():
    stages = {"layer-0": (_rule("gen.red", Test("color", "equals", "Red"), Assess("f", "cloud", 1)),)}
    compiled = CompiledPolicy(stages, MULTI)
    for _ in range(200):
        assert compiled.fire("layer-0", {"color": "Red"}) == ["gen.red"]
        assert compiled.fire("layer-0", {"color": "Blue"}) == []


def test_a_number_durable_cannot_read_is_refused_with_its_name_not_an_error_code():
    # durable reads numbers written without an exponent; a fact such as 1e+16 would
    # fail inside it with a bare error code. Facts files are checked for this; the
    # encoder refuses such a value from anywhere else (a computed fact) by name.
    stages = {"layer-0": (_rule("gen.big", Test("size", "greater_than", 1), Assess("f", "cloud", 1)),)}
    compiled = CompiledPolicy(stages, MULTI)
    for value in (1e16, 5e-05, float("inf")):
        with pytest.raises(EngineError, match=r"the fact size = .* cannot be compared by the rule engine"):
            compiled.fire("layer-0", {"size": value})
    # whole numbers of any size, and floats in range, are compared as they are
    assert compiled.fire("layer-0", {"size": 10**20}) == ["gen.big"]
    assert compiled.fire("layer-0", {"size": 999_999_999_999_999.0}) == ["gen.big"]
    assert compiled.fire("layer-0", {"size": 0.0001}) == []


def _every_test():
    for op in ("equals", "not_equals"):
        for value in COLORS:
            yield Test("color", op, value)
        for value in TAGS:
            yield Test("tags", op, value)
        for value in (True, False):
            yield Test("flag", op, value)
    for op in ("equals", "not_equals", "less_than", "at_most", "greater_than", "at_least"):
        for value in NUMBERS:
            yield Test("size", op, value)
            yield Test("count", op, value)
    yield Test("color", "in", ("Red", "Blue"))
    yield Test("tags", "in", ("GDPR", "ITAR"))
    for fact in ("color", "size", "count", "flag", "tags"):
        yield Test(fact, "present")
        yield Test(fact, "absent")


def _every_fact_record():
    yield {}
    for color in COLORS:
        yield {"color": color}
    for number in (*NUMBERS, 3):
        yield {"size": number, "count": number}
    for flag in (True, False):
        yield {"flag": flag}
    for tags in (("GDPR",), ("HIPAA",), ("GDPR", "ITAR"), TAGS):
        yield {"tags": tags}


def test_every_operator_and_its_negation_at_every_boundary():
    """Exhaustive over one-test rules: each operator, operand and negation."""
    leaves = list(_every_test())
    rules = tuple(_rule(f"gen.t{i}", t, Assess("f", "cloud", 1)) for i, t in enumerate(leaves))
    negated = tuple(_rule(f"gen.n{i}", Not(t), Assess("f", "cloud", 1)) for i, t in enumerate(leaves))
    stages = {"positive": rules, "negated": negated}
    compiled, direct = CompiledPolicy(stages, MULTI), DirectPolicy(stages)
    for facts in _every_fact_record():
        for stage in stages:
            assert compiled.fire(stage, facts) == direct.fire(stage, facts), (stage, facts)


def test_compiled_predicates_mean_what_evaluate_means():
    """The closures of rules_ast.predicate agree with the reference evaluate on every rule and example."""
    from conftest import example_files

    from infra_policy.engine.knowledge import load_knowledge_base
    from infra_policy.engine.policy.ruleload import load_policy
    from infra_policy.engine.policy.rules_ast import evaluate, predicate
    from infra_policy.engine.stages.load import load_facts
    from infra_policy.engine.stages.profile import build_profile

    kb = load_knowledge_base()
    policy = load_policy(kb)
    samples = [w.values() for p in example_files() for w in build_profile(load_facts(p), kb.vocabulary).workloads]
    samples += [{}, {"regulatedBy": ("HIPAA", "GDPR")}, {"itStaffFTE": True}, {"capitalBudgetUSD": "many"}]
    names = frozenset(policy.producers)
    for values in samples:
        for derived in (frozenset(), names):
            for rule in policy.rules:
                assert predicate(rule.when)(values, derived) == evaluate(rule.when, values, derived), rule.id
