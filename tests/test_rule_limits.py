"""Rule shapes that hung or crashed the rule engine are refused before compiling (issue 16, item 5).

The limits are data (``limits`` and ``in``'s ``maxItems`` in rules/schema.json);
each refusal names the file and the rule.  Rules at the limits compile and run.
"""

from __future__ import annotations

import json
import shutil

import pytest
import yaml
from conftest import EXAMPLES
from conftest import invoke_cli as run

from infra_policy.engine.paths import PACKAGED_RULES, rules_schema
from infra_policy.engine.policy.rulelimits import alternatives, limits

LIMITS = limits()
MAX_IN = rules_schema()["$defs"]["test"]["properties"]["in"]["maxItems"]


def _rule(rule_id: str, when: dict, then: dict | None = None) -> dict:
    return {
        "id": rule_id,
        "title": "A generated rule.",
        "when": when,
        "then": then or {"assess": {"favors": "cloud", "weight": 1}},
        "rationale": "Generated to test a limit.",
        "claims": ["claim:inhouse-pro-low-latency"],
    }


def _rules_dir(tmp_path, rules: list[dict]):
    target = tmp_path / "rules"
    shutil.copytree(PACKAGED_RULES, target)
    extra = {"ruleset": "extra", "kind": "factor", "factor": "latency", "rules": rules}
    # JSON is YAML, and writes 2,000 rules far faster than PyYAML's emitter
    (target / "extra.yaml").write_text(json.dumps(extra))
    return target


def _test(i: int) -> dict:
    return {"fact": "latencyBudgetMs", "greater_than": i}


def _nested(kind: str, depth: int) -> dict:
    condition = _test(0)
    for i in range(depth):
        condition = {"not": condition} if kind == "not" else {kind: [condition, _test(i)]}
    return condition


def _refused(tmp_path, rules, expect: str):
    result = run("rules", "list", "--rules", _rules_dir(tmp_path, rules))
    assert result.exit_code == 2, result.output
    assert expect in result.output, result.output
    assert "error code" not in result.output and "Recursion" not in result.output
    return result.output


def test_more_values_in_one_in_than_the_schema_allows(tmp_path):
    values = list(range(MAX_IN + 1))
    expect = f"extra.yaml: rule extra.many, at when.in: has {MAX_IN + 1} values; at most {MAX_IN}"
    _refused(tmp_path, [_rule("extra.many", {"fact": "latencyBudgetMs", "in": values})], expect)


@pytest.mark.parametrize("kind, depth", [("all", 15), ("any", 15), ("not", 160), ("all", 300)])
def test_conditions_nested_too_deep(tmp_path, kind, depth):
    output = _refused(tmp_path, [_rule("extra.deep", _nested(kind, depth))], "extra.yaml: rule extra.deep, at when:")
    assert f"nests all/any/not {depth} levels deep; at most {LIMITS['condition_depth']}" in output


def test_a_not_over_twenty_alls_expands_too_far(tmp_path):
    condition = {"not": {"any": [{"all": [_test(2 * i), _test(2 * i + 1)]} for i in range(20)]}}
    output = _refused(tmp_path, [_rule("extra.wide", condition)], "extra.yaml: rule extra.wide, at when:")
    assert f"expands to {4**20:,} alternatives" in output


def test_a_derivation_chain_of_600_rules(tmp_path):
    rules = [_rule("extra.d0", _test(0), {"derive": "step-0"})]
    rules += [_rule(f"extra.d{i}", {"concluded": f"step-{i - 1}"}, {"derive": f"step-{i}"}) for i in range(1, 600)]
    _refused(tmp_path, rules, "rests on a chain of 599 derived conclusions")


def test_a_derivation_cycle_of_2000_rules(tmp_path):
    rules = [
        _rule(f"extra.c{i}", {"concluded": f"step-{(i - 1) % 2000}"}, {"derive": f"step-{i}"}) for i in range(2000)
    ]
    _refused(tmp_path, rules, "intermediate conclusions form a cycle: extra.c")


def test_rules_at_every_limit_compile_and_evaluate(tmp_path):
    """The limits sit below where the engine breaks: a rule at each of them is evaluated."""
    at_depth = _nested("all", 0)
    for i in range(LIMITS["condition_depth"]):
        at_depth = (
            {("all", "any", "not")[i % 3]: at_depth} if i % 3 == 2 else {("all", "any")[i % 2]: [at_depth, _test(i)]}
        )
    widest = {"all": [{"any": [_test(2 * i), _test(2 * i + 1)]} for i in range(10)]}  # 2**10 alternatives
    assert alternatives(widest) == LIMITS["condition_alternatives"]
    rules = [
        _rule("extra.deep", at_depth),
        _rule("extra.wide", widest),
        _rule("extra.many", {"fact": "latencyBudgetMs", "in": list(range(MAX_IN))}),
    ]
    chain = LIMITS["derivation_layers"] - 1
    rules += [_rule("extra.d0", _test(0), {"derive": "step-0"})]
    rules += [_rule(f"extra.d{i}", {"concluded": f"step-{i - 1}"}, {"derive": f"step-{i}"}) for i in range(1, chain)]
    rules_dir = _rules_dir(tmp_path, rules)
    yaml.safe_load((rules_dir / "extra.yaml").read_text())  # a valid YAML file
    result = run("evaluate", EXAMPLES / "startup-cloud.ttl", "--rules", rules_dir, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["organization"]["stance"]
