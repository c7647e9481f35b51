"""explain: the justification as a tree, --why, and --why-not with known answers."""

from __future__ import annotations

import json

import pytest
from conftest import EXAMPLES
from conftest import invoke_cli as run

from infra_policy.engine.explain import first_failure, resolve_node, tree, why_not
from infra_policy.engine.load import load_facts
from infra_policy.engine.rules_ast import All, Any, Concluded, Not, Test

MIXED = EXAMPLES / "acme-mixed-workloads.ttl"


def test_first_failure_names_the_test_and_the_value_seen():
    condition = All((Test("workforce", "equals", "Distributed"), Test("itStaffFTE", "less_than", 2)))
    failure = first_failure(condition, {"workforce": "Distributed", "itStaffFTE": 4})
    assert failure.sentence() == "itStaffFTE < 2: itStaffFTE is 4"
    missing = first_failure(condition, {})
    assert missing.sentence() == "workforce = Distributed: workforce was not given"
    assert first_failure(condition, {"workforce": "Distributed", "itStaffFTE": 1}) is None
    assert first_failure(Any((Concluded("x"), Test("a", "present"))), {}).sentence() == "concluded x: not concluded"
    negated = first_failure(Not(Test("growthOutlook", "equals", "High")), {"growthOutlook": "High"})
    assert negated.sentence() == "not growthOutlook = High: growthOutlook is High"


def test_tree_reaches_facts_with_lines_and_claims(evaluator):
    ev = evaluator.evaluate_file(MIXED)
    root = tree(ev)
    assert root.kind == "stance" and root.label == "Acme Insurance: hybrid"
    kinds, lines = set(), set()

    def walk(node):
        kinds.add(node.kind)
        if node.kind == "fact" and node.line:
            lines.add(node.line)
        for child in node.children:
            walk(child)

    walk(root)
    assert {"fact", "claim", "rule", "firing", "assessment", "tally", "stance"} <= kinds
    assert lines, "facts must point at their lines"


def test_why_resolves_workloads_factors_and_rules(evaluator, policy):
    ev = evaluator.evaluate_file(MIXED)
    assert len(resolve_node(ev, policy, "Claims triage")) == 1
    assert resolve_node(ev, policy, "privacy")
    assert resolve_node(ev, policy, "scalability.bursty-demand")
    assert resolve_node(ev, policy, "nonsense") == []


def test_why_not_cloud_for_an_in_house_workload_is_ranked_by_weight(evaluator, policy, facts_file):
    ev = evaluator.evaluate_document(
        load_facts(
            facts_file("""\
        ex:o a ip:Organization ; ip:name "H" ; ip:dataSensitivity ip:Restricted ; ip:itStaffFTE 5 ;
          ip:hasDataCenter true ; ip:capitalBudgetUSD 500000 ; ip:workforce ip:OnSite .
    """)
        )
    )
    org, (w,) = why_not(ev, policy, "cloud")[0], why_not(ev, policy, "cloud")[1:]
    assert w.stance == "in-house" and not w.already
    # ruling in-house out outranks any weight
    assert [m.rule for m in w.factor_rules[:2]] == [
        "constraints.hosted-only-model",
        "constraints.no-means-to-self-host",
    ]
    means = w.factor_rules[1]
    assert means.adds == "rules out in-house"
    assert means.failure.fact == "capitalBudgetUSD" and means.failure.seen == 500000
    ranks = [m.rank for m in w.factor_rules]
    assert ranks == sorted(ranks, reverse=True)
    by_rule = {m.rule: m for m in w.factor_rules}
    assert by_rule["accessibility.distributed-workforce"].failure.seen == "OnSite"
    assert not by_rule["disaster-recovery.very-short-rto-single-site"].failure.given
    assert org.stance == "in-house"


def test_why_not_the_stance_it_has_says_so(evaluator, policy):
    answers = why_not(evaluator.evaluate_file(MIXED), policy, "hybrid")
    assert answers[0].already and answers[0].stance_rules == ()


def test_explain_cli_text_and_json(tmp_path):
    text = run("explain", MIXED)
    assert text.exit_code == 0 and text.output.startswith("[stance] Acme Insurance: hybrid")
    assert "(line " in text.output and "[claim]" in text.output
    data = json.loads(run("explain", MIXED, "--format", "json").output)
    assert data[0]["kind"] == "stance" and data[0]["children"]
    why = run("explain", MIXED, "--why", "Campaign copy")
    assert why.output.startswith("[stance] Campaign copy: cloud")
    why_not_text = run("explain", MIXED, "--why-not", "in-house")
    assert "Campaign copy: cloud, not in-house" in why_not_text.output
    assert "failed:" in why_not_text.output
    why_not_json = json.loads(run("explain", MIXED, "--why-not", "in-house", "--format", "json").output)
    assert {a["name"] for a in why_not_json} == {"Acme Insurance", "Claims triage", "Campaign copy"}
    bad = run("explain", MIXED, "--why", "nothing-like-this")
    assert bad.exit_code == 2 and "names nothing in this decision" in bad.output


@pytest.mark.parametrize("stance", ["cloud", "in-house", "hybrid", "conflict", "undetermined"])
def test_why_not_every_stance_on_every_example_runs(evaluator, policy, stance):
    for path in sorted(EXAMPLES.glob("*.ttl")):
        for answer in why_not(evaluator.evaluate_file(path), policy, stance):
            for missed in (*answer.stance_rules, *answer.factor_rules):
                assert missed.failure.test


def test_why_not_offers_every_stance_of_the_schema():
    from infra_policy.cli.audit_commands import explain as explain_command
    from infra_policy.engine.tally import STANCES

    (option,) = [p for p in explain_command.params if p.name == "why_not"]
    assert tuple(option.type.choices) == STANCES
