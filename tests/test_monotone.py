"""Monotone by construction and by test: a step of a fact toward one side never moves a stance the other way.

The knowledge base declares the direction each ordered fact pushes
(``ip:raisingPushesToward``); ``infra-policy rules check`` holds the rules to
it, and the property tests below hold the whole decision to it, on every
example and on generated profiles.
"""

from __future__ import annotations

import shutil

import pytest
from conftest import example_files
from fuzzing import FUZZ_SETTINGS
from hypothesis import given, settings
from hypothesis import strategies as st

from infra_policy.engine.knowledge import load_knowledge_base
from infra_policy.engine.paths import PACKAGED_RULES
from infra_policy.engine.pipeline import Evaluator
from infra_policy.engine.policy.monotone import (
    check_fact,
    check_policy,
    ordered_values,
    outcome,
    stance_moves_against,
    steps,
    value_sets,
)
from infra_policy.engine.policy.ruleload import load_policy
from infra_policy.engine.stages.decide import stance_of

_KB = load_knowledge_base()
_EVALUATOR = Evaluator(_KB, load_policy(_KB))
_POLICY = _EVALUATOR.policy
_VOCABULARY = _KB.vocabulary
_DECLARED = sorted(
    name
    for name in {*_POLICY.tests_by_fact, "cloudCostPerMonthUSD", "inHouseRunCostPerMonthUSD", "inHouseHardwareUSD"}
    if not _VOCABULARY.properties[name].computed and _VOCABULARY.properties[name].pushes
)


def test_every_fact_the_rules_read_declares_its_direction():
    read = [n for n in _POLICY.tests_by_fact if not _VOCABULARY.properties[n].computed]
    assert sorted(n for n in read if _VOCABULARY.properties[n].pushes is None) == []


def test_the_shipped_policy_passes_rules_check():
    report = check_policy(_POLICY, _VOCABULARY)
    assert report.ok, "\n".join(v.text for v in report.violations)
    assert set(_DECLARED) <= set(report.facts)
    # more utilized hours favor whichever side is cheaper per hour: no direction can be declared
    assert report.undeclared == ("utilizedHoursPerMonth",)


def test_rules_check_on_the_command_line(run):
    result = run("rules", "check")
    assert result.exit_code == 0, result.output
    assert "rules check passed" in result.output


def _rules_copy(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(PACKAGED_RULES, rules, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return rules


# The version 1 rule that made a swinging demand favor in-house: a step toward the cloud
# (steady → bursty) added in-house weight.
AGAINST_THE_DIRECTION = """
  - id: scalability.volatile-demand-predictable-budget
    title: Demand that swings, when a predictable budget matters a lot, favors in-house servers.
    when:
      all:
        - {fact: demandPattern, in: [Seasonal, Bursty]}
        - {fact: costPredictabilityPriority, equals: High}
    then: {assess: {favors: in-house, weight: 1}}
    rationale: A usage-based bill follows every peak, while owned hardware costs the same every month.
    claims: [claim:cloud-con-cost-unpredictability]
    mitigation:
      advice: Reserve capacity for the base load.
"""


def test_rules_check_refuses_a_rule_against_the_declared_direction_naming_rule_and_fact(run, tmp_path):
    rules = _rules_copy(tmp_path)
    with (rules / "scalability.yaml").open("a") as f:
        f.write(AGAINST_THE_DIRECTION)
    result = run("rules", "check", "--rules", str(rules))
    assert result.exit_code == 1, result.output
    assert "FAIL direction · demandPattern" in result.output
    assert "scalability.volatile-demand-predictable-budget" in result.output
    assert "in-house weight rises" in result.output


def test_rules_check_finds_a_cliff_at_a_threshold(tmp_path):
    rules = _rules_copy(tmp_path)
    text = (rules / "operations.yaml").read_text()
    # drop the middle tier: from 1.99 to 2 people the cloud's weight would fall from 2 to 0
    start = text.index("  - id: operations.small-it-team")
    end = text.index("  - id: operations.capable-it-team")
    (rules / "operations.yaml").write_text(text[:start] + text[end:])
    violations = check_fact("itStaffFTE", load_policy(_KB, rules), _VOCABULARY)
    assert [v.kind for v in violations] == ["cliff"]
    assert "itStaffFTE" in violations[0].text and "operations.thin-it-staff" in violations[0].rules


def test_steps_follow_the_declared_order():
    assert steps(_VOCABULARY.properties["dataSensitivity"], _POLICY)[0] == ("Public", "Internal")
    assert steps(_VOCABULARY.properties["connectivity"], _POLICY)[-1] == ("Intermittent", "AirGapped")
    assert steps(_VOCABULARY.properties["hasDataCenter"], _POLICY) == [(False, True)]
    staff = ordered_values(_VOCABULARY.properties["itStaffFTE"], _POLICY)
    assert staff == sorted(staff) and {1, 2, 3, 4} <= set(staff)
    added = steps(_VOCABULARY.properties["cloudSafeguard"], _POLICY)
    assert all(set(before) < set(after) and len(after) == len(before) + 1 for before, after in added)


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.stem)
def test_no_single_step_on_an_example_moves_a_stance_against_its_direction(path):
    """Every example, every declared fact, every step from its current value (the AST's meaning, which the
    compile property tests keep equal to durable's)."""
    for w in _EVALUATOR.evaluate_file(path).decision.workloads:
        values = w.profile.values()
        for name in _DECLARED:
            prop = _VOCABULARY.properties[name]
            for before, after in steps(prop, _POLICY):
                if prop.single and name in values and values[name] != before:
                    continue  # only steps from the value the example states (or, if absent, any step)
                a = stance_of({**values, name: before}, _POLICY, _EVALUATOR.explorer, w.id)
                b = stance_of({**values, name: after}, _POLICY, _EVALUATOR.explorer, w.id)
                assert not stance_moves_against(a, b, prop.pushes), (path.name, w.profile.name, name, before, after)


def _domain(name):
    prop = _VOCABULARY.properties[name]
    if not prop.single:
        return [s for s in value_sets(prop, _POLICY) if s]
    return ordered_values(prop, _POLICY)


_COST = {
    "cloudCostPerMonthUSD": [1000, 15000, 20000, 90000],
    "inHouseHardwareUSD": [50000, 250000, 900000],
    "inHouseRunCostPerMonthUSD": [500, 5000, 30000],
}
_DOMAINS = {name: _domain(name) for name in _DECLARED} | _COST

profiles = st.fixed_dictionaries({}, optional={name: st.sampled_from(values) for name, values in _DOMAINS.items()})


@settings(FUZZ_SETTINGS, max_examples=400)
@given(profile=profiles, fact=st.sampled_from(_DECLARED), data=st.data())
def test_a_step_toward_a_side_never_moves_weights_feasibility_or_stance_away_from_it(profile, fact, data):
    prop = _VOCABULARY.properties[fact]
    before, after = data.draw(st.sampled_from(steps(prop, _POLICY)))
    a = outcome({**profile, fact: before}, _POLICY)
    b = outcome({**profile, fact: after}, _POLICY)
    toward = prop.pushes
    away = "cloud" if toward == "in-house" else "in-house"
    context = (fact, before, after, profile)
    assert b.weight(toward) >= a.weight(toward), context
    assert b.weight(away) <= a.weight(away), context
    assert b.feasible(toward) or not a.feasible(toward), context
    assert a.feasible(away) or not b.feasible(away), context
    stance_a = stance_of({**profile, fact: before}, _POLICY, _EVALUATOR.explorer)
    stance_b = stance_of({**profile, fact: after}, _POLICY, _EVALUATOR.explorer)
    assert not stance_moves_against(stance_a, stance_b, toward), (*context, stance_a, stance_b)


def test_moves_against_reads_the_order_cloud_hybrid_in_house():
    assert stance_moves_against("in-house", "hybrid", "in-house")
    assert stance_moves_against("cloud", "hybrid", "cloud")
    assert not stance_moves_against("cloud", "in-house", "in-house")
    assert not stance_moves_against("hybrid", "undetermined", "in-house")  # off the line: not a move
    assert not stance_moves_against("conflict", "cloud", "in-house")
