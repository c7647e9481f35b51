"""explain: the justification as a tree, --why, and --why-not with known answers."""

from __future__ import annotations

import json

import pytest
from conftest import EXAMPLES
from conftest import invoke_cli as run

from infra_policy.engine.outputs.explain import first_failure, resolve_node, tree, why_not
from infra_policy.engine.policy.rules_ast import All, Any, Concluded, Not, Test
from infra_policy.engine.stages.load import load_facts

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
    by_rule = {m.rule: m for m in w.factor_rules}
    # the change closest to applying first: one change that rules in-house out leads
    assert w.factor_rules[0].rule == "constraints.hosted-only-model"
    means = by_rule["constraints.no-means-to-self-host"]
    assert means.adds == "rules out in-house"
    assert means.failure.fact == "capitalBudgetUSD" and means.failure.seen == 500000
    order = [(m.distance, -m.rank) for m in w.factor_rules]
    assert order == sorted(order)
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
    assert "would have to" in why_not_text.output and "closest to applying first" in why_not_text.output
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
    from infra_policy.engine.policy.tally import STANCES

    (option,) = [p for p in explain_command.params if p.name == "why_not"]
    assert tuple(option.type.choices) == STANCES


def test_why_not_without_vocabulary_keeps_the_first_failure(evaluator, policy):
    answers = why_not(evaluator.evaluate_file(MIXED), policy, "cloud")
    assert all(m.changes == () for a in answers for m in a.factor_rules)


def test_why_not_says_every_change_in_the_vocabularys_words(evaluator, policy, kb):
    ev = evaluator.evaluate_file(MIXED)
    (claims,) = [a for a in why_not(ev, policy, "cloud", kb.vocabulary) if a.name == "Claims triage"]
    by_rule = {m.rule: m for m in claims.factor_rules}
    means = by_rule["constraints.no-means-to-self-host"]
    # all three facts it needs, each with its label and the value seen
    assert means.distance == 3
    assert "the capital budget (USD) would have to be below 25,000; it is 400,000" in means.changes
    assert any(c.startswith("the IT staff (FTE) would have to be below 1") for c in means.changes)
    assert "the has data center would have to be no; it is yes" in means.changes
    hosted = by_rule["constraints.hosted-only-model"]
    assert hosted.changes == ("the model availability would have to be hosted only; it is not stated",)
    org = why_not(ev, policy, "cloud", kb.vocabulary)[0]
    assert "Claims triage is in-house, Campaign copy is cloud" in org.stance_rules[0].changes[0]


def _internal_names(policy) -> tuple[str, ...]:
    """What text for people must not show: the tally's and organization's field names, the names of
    intermediate conclusions, rule ids, and the graph's and vocabulary's identifiers."""
    from infra_policy.engine.policy.tally import ORGANIZATION_FIELDS, PLAN_FIELDS, TALLY_FIELDS

    fields = [n for n in (*TALLY_FIELDS, *ORGANIZATION_FIELDS, *PLAN_FIELDS) if "_" in n]
    return (*fields, *policy.producers, *policy.by_id, "concluded ", "urn:", "ip:", "claim:", " = true", " = false")


def _assert_plain(text: str, names: tuple[str, ...], where: str) -> None:
    for word in names:
        assert word not in text, (where, word, text[max(0, text.find(word) - 200) : text.find(word) + 100])


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.ttl")), ids=lambda p: p.stem)
def test_text_speaks_no_engine_internals(path, policy, tmp_path):
    """Every example's evaluate, explain (every mode) and audit text speaks in the vocabulary's words;
    the ids appear only with --verbose (or in the JSON)."""
    names = _internal_names(policy)
    first = run("evaluate", path, "--format", "json")
    workload = json.loads(first.output)["workloads"][0]["name"]
    modes = [
        ("evaluate", path),
        ("evaluate", path, "--detail", "full"),
        ("evaluate", path, "--set", "itStaffFTE=0.5"),
        ("explain", path),
        ("explain", path, "--why", workload),
        ("explain", path, "--set", "capitalBudgetUSD=10000"),
        *(("explain", path, "--why-not", stance, "--full") for stance in STANCES_OFFERED),
        ("explain", path, "--sufficient", "--contrast", "hybrid"),
        ("explain", path, "--contrast", "cloud", "--all", "--max-changes", "2"),
        ("explain", path, "--contrast", "in-house", "--max-changes", "2", "--set", "growthOutlook=High"),
    ]
    if path.stem in ("acme-mixed-workloads", "startup-cloud", "air-gapped-defense"):
        modes.append(("explain", path, "--sufficient", "--all"))
    for args in modes:
        result = run(*args)
        assert result.exit_code == 0, (args, result.output)
        _assert_plain(result.output, names, " ".join(map(str, args[2:])) or args[0])
    # audit: a record checked against its facts, one made with an assumption, and one against other facts
    made = run("evaluate", path, "--record", tmp_path / "plain")
    assumed = run("evaluate", path, "--set", "itStaffFTE=2", "--record", tmp_path / "assumed")
    assert made.exit_code == 0 and assumed.exit_code == 0
    (record,) = (tmp_path / "plain").glob("*.json")
    (assumed_record,) = (tmp_path / "assumed").glob("*.json")
    other = EXAMPLES / ("startup-cloud.ttl" if path.stem != "startup-cloud" else "hospital-in-house.ttl")
    for args, status in (
        (("audit", record, "--facts", path), 0),
        (("audit", assumed_record, "--facts", path), 0),
        (("audit", record, "--facts", other), 1),
    ):
        result = run(*args)
        assert result.exit_code == status, (args, result.output)
        _assert_plain(result.output, names, "audit")
    # the ids are there on request
    for stance in ("cloud", "in-house"):
        verbose = run("explain", path, "--why-not", stance, "--full", "--verbose").output
        plain = run("explain", path, "--why-not", stance, "--full").output
        if ", not " in plain:
            assert "[stance." in verbose or "[organization." in verbose
        assert "[stance." not in plain
    assert "[rule] " in run("explain", path, "--verbose").output  # the tree with the graph's own labels
    full = run("evaluate", path, "--verbose", "--detail", "full").output
    decided = json.loads(first.output)["workloads"]
    reasons = [r for w in decided if w["stance"] != "undetermined" for r in w["reasons"]]
    assert not reasons or any(r in full for r in reasons)


STANCES_OFFERED = ("cloud", "in-house", "hybrid", "conflict", "undetermined")


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.ttl")))
def test_the_tree_says_which_listed_arguments_the_tally_did_not_add(evaluator, example):
    """The arguments listed under a tally add up to its figures once those marked as not added are left out
    (a factor whose cap applied is marked too, and then only its cap counts)."""
    from infra_policy.engine.outputs.explain import NodeWords

    ev = evaluator.evaluate_file(EXAMPLES / example)
    words = NodeWords(ev, evaluator.policy, evaluator.kb)
    seen = []

    def walk(node):
        if node.kind == "tally":
            seen.append(node)
        for child in node.children:
            walk(child)

    walk(tree(ev, None, words))
    assert seen, example
    for tally in seen:
        added = {"cloud": 0, "in-house": 0}
        capped = False
        for child in tally.children:
            if child.kind != "assessment":
                continue
            capped |= "its factor adds at most" in child.label
            if "(not added:" in child.label:
                continue
            rule = evaluator.policy.by_id[child.id.rsplit(":", 1)[-1]]
            added[rule.then.favors] += rule.then.weight
        figures = tally.label.rsplit("(", 1)[1].rstrip(")")  # "cloud 6 · in-house 2"
        cloud, in_house = (int(part.split()[-1]) for part in figures.split(" · "))
        if capped:
            assert added["cloud"] >= cloud and added["in-house"] >= in_house, (example, tally.label)
        else:
            assert (added["cloud"], added["in-house"]) == (cloud, in_house), (example, tally.label)
