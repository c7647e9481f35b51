"""Rule files: schema and vocabulary problems name the file, the rule and the path."""

from __future__ import annotations

import shutil
import textwrap

import pytest

from infra_policy.engine.errors import RulesError
from infra_policy.engine.paths import PACKAGED_RULES
from infra_policy.engine.policy.ruleload import load_policy
from infra_policy.engine.policy.rules_ast import All, Concluded, Derive


@pytest.fixture
def rules_dir(tmp_path):
    """A copy of the packaged rules to which a test adds or edits a file."""
    target = tmp_path / "rules"
    shutil.copytree(PACKAGED_RULES, target)

    def add(name: str, text: str):
        (target / name).write_text(textwrap.dedent(text), encoding="utf-8")
        return target

    return add


GOOD_RULE = """\
    ruleset: extra
    kind: factor
    factor: latency
    rules:
      - id: extra.rule
        title: A rule for the test
        when: {fact: latencyBudgetMs, less_than: 10}
        then: {assess: {favors: in-house, weight: 1}}
        rationale: Only here to be broken by a test.
        claims: [claim:inhouse-pro-low-latency]
"""


def problems_of(kb, directory) -> tuple[str, ...]:
    with pytest.raises(RulesError) as err:
        load_policy(kb, directory)
    assert "Traceback" not in str(err.value)
    return err.value.problems


def test_the_packaged_policy_loads_and_covers_every_factor(kb, policy):
    factors = {r.then.factor for r in policy.factor_rules if hasattr(r.then, "factor")}
    assert factors == set(kb.factors)
    assert {r.then.side for r in policy.factor_rules if hasattr(r.then, "side")} == {"cloud", "in-house"}
    for rule in policy.rules:
        assert rule.title and rule.rationale and rule.claims
    assert [r.priority for r in policy.stance_rules] == sorted(r.priority for r in policy.stance_rules)
    assert any(isinstance(r.then, Derive) for r in policy.factor_rules), "no intermediate conclusion is exercised"
    assert len(policy.strata) >= 2


def test_a_good_extra_rule_file_is_accepted(kb, rules_dir):
    policy = load_policy(kb, rules_dir("extra.yaml", GOOD_RULE))
    assert "extra.rule" in policy.by_id


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "fact: latencyBudgetMs,",
            "fact: latencyBudget,",
            "extra.yaml: rule extra.rule, at when.fact: unknown fact 'latencyBudget'. Did you mean 'latencyBudgetMs'?",
        ),
        (
            "{fact: latencyBudgetMs, less_than: 10}",
            "{fact: dataSensitivity, equals: Secret}",
            "at when.equals: 'Secret' is not a value of 'dataSensitivity'; expected one of Public, Internal",
        ),
        (
            "{fact: latencyBudgetMs, less_than: 10}",
            "{fact: dataSensitivity, less_than: 3}",
            "'dataSensitivity' is not a number; 'less_than' compares numbers only",
        ),
        ("claim:inhouse-pro-low-latency", "claim:no-such-claim", "unknown claim 'claim:no-such-claim'"),
        ("factor: latency", "factor: speed", "at factor: unknown factor 'speed'"),
        ("weight: 1", "weight: 5", "at then.assess.weight: 5 is not one of [1, 2, 3]"),
        ("        title: A rule for the test\n", "", "at (top level): 'title' is a required property"),
        ("id: extra.rule", "id: other.rule", "at id: the id must start with the rule set name 'extra.'"),
        (
            "then: {assess: {favors: in-house, weight: 1}}",
            "then: {stance: cloud}",
            "a factor rule concludes with assess or rule_out or require or derive, not 'stance'",
        ),
        ("less_than: 10", "less_than: 10, equals: 3", "rule extra.rule, at when:"),
    ],
)
def test_each_mistake_gets_a_message_naming_file_rule_and_path(kb, rules_dir, old, new, expected):
    broken = GOOD_RULE.replace(old, new)
    assert broken != GOOD_RULE
    found = problems_of(kb, rules_dir("extra.yaml", broken))
    assert any(expected in p for p in found), found


def test_duplicate_ids_across_files(kb, rules_dir):
    rules_dir("extra.yaml", GOOD_RULE)
    found = problems_of(kb, rules_dir("extra2.yaml", GOOD_RULE))
    assert any("rule extra.rule: duplicate id (also in extra.yaml)" in p for p in found)


def test_yaml_syntax_errors_give_line_and_column(kb, rules_dir):
    found = problems_of(kb, rules_dir("extra.yaml", "ruleset: extra\nrules: [\n  - x: : :\n"))
    assert any(p.startswith("extra.yaml, line ") and "not valid YAML" in p for p in found), found


def test_every_problem_of_every_file_is_reported(kb, rules_dir):
    rules_dir("extra.yaml", GOOD_RULE.replace("claim:inhouse-pro-low-latency", "claim:nope"))
    found = problems_of(kb, rules_dir("extra2.yaml", GOOD_RULE.replace("extra", "more").replace("latency\n", "nope\n")))
    assert any(p.startswith("extra.yaml") for p in found) and any(p.startswith("extra2.yaml") for p in found)


def test_concluded_without_a_producer_and_cycles_are_refused(kb, rules_dir):
    orphan = GOOD_RULE.replace("{fact: latencyBudgetMs, less_than: 10}", "{concluded: never-derived}")
    found = problems_of(kb, rules_dir("extra.yaml", orphan))
    assert any("tests 'concluded: never-derived', but no rule derives 'never-derived'" in p for p in found)

    cycle = """\
        ruleset: loop
        kind: factor
        factor: latency
        rules:
          - id: loop.a
            title: A derives from B
            when: {concluded: b}
            then: {derive: a}
            rationale: Only here to make a cycle.
            claims: [claim:inhouse-pro-low-latency]
          - id: loop.b
            title: B derives from A
            when: {concluded: a}
            then: {derive: b}
            rationale: Only here to make a cycle.
            claims: [claim:inhouse-pro-low-latency]
    """
    with pytest.raises(RulesError, match=r"intermediate conclusions form a cycle: loop\.a → loop\.b → loop\.a"):
        load_policy(kb, rules_dir("extra.yaml", cycle))


def test_layers_put_producers_before_users(policy):
    layer_of = {rule.id: k for k, layer in enumerate(policy.strata) for rule in layer}
    producers = {r.then.name: r.id for r in policy.factor_rules if isinstance(r.then, Derive)}
    for rule in policy.factor_rules:
        for name in rule.concluded_names():
            assert layer_of[producers[name]] < layer_of[rule.id]


def test_canonical_form_ignores_formatting_and_order(kb, rules_dir, policy, tmp_path):
    directory = rules_dir("extra.yaml", GOOD_RULE)
    base = load_policy(kb, directory).canonical()
    reformatted = "# a comment\n" + GOOD_RULE.replace(
        "{fact: latencyBudgetMs, less_than: 10}", "\n          fact: latencyBudgetMs\n          less_than: 10"
    )
    assert load_policy(kb, rules_dir("extra.yaml", reformatted)).canonical() == base
    assert load_policy(kb, rules_dir("extra.yaml", GOOD_RULE.replace("10}", "11}"))).canonical() != base
    assert isinstance(All, type) and isinstance(Concluded, type)
