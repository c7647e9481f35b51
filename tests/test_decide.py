"""Stage 5: constraints, conflicts, stance priorities, organization placement,
and the missing facts that could change a stance."""

from __future__ import annotations

from infra_policy.engine.decide import stance_of
from infra_policy.engine.load import load_facts

AIR_GAPPED_NO_MEANS = """\
ex:o a ip:Organization ; ip:name "Station" ;
  ip:connectivity ip:AirGapped ; ip:capitalBudgetUSD 0 ; ip:itStaffFTE 0 ; ip:hasDataCenter false .
"""


def evaluate(evaluator, facts_file, body):
    return evaluator.evaluate_document(load_facts(facts_file(body))).decision


def test_air_gapped_requires_in_house_whatever_the_balance(evaluator, facts_file):
    d = evaluate(
        evaluator,
        facts_file,
        """\
        ex:o a ip:Organization ; ip:connectivity ip:AirGapped ; ip:workforce ip:Distributed ;
          ip:demandPattern ip:Bursty ; ip:growthOutlook ip:High ; ip:acceleratorNeed ip:Latest .
    """,
    )
    (w,) = d.workloads
    assert w.tally.leaning == "cloud"
    assert w.stance == "in-house" == d.stance
    assert [c.rule for c in w.constraints] == ["constraints.air-gapped-site"]
    assert w.stance_firing.rule == "stance.required-in-house"


def test_no_capital_no_staff_no_facility_requires_cloud(evaluator, facts_file):
    d = evaluate(
        evaluator,
        facts_file,
        """\
        ex:o a ip:Organization ; ip:capitalBudgetUSD 0 ; ip:itStaffFTE 0 ; ip:hasDataCenter false ;
          ip:dataSensitivity ip:Restricted .
    """,
    )
    (w,) = d.workloads
    assert w.stance == "cloud"
    assert [c.requires for c in w.constraints] == ["cloud"]
    assert any(a.favors == "in-house" and a.weight == 3 for a in w.assessments)  # shown, but outweighed


def test_opposite_requirements_are_a_conflict_with_both_chains(evaluator, facts_file):
    d = evaluate(evaluator, facts_file, AIR_GAPPED_NO_MEANS)
    (w,) = d.workloads
    assert w.stance == "conflict" == d.stance
    chains = {c.requires: {f.property for f in c.firing.facts} for c in w.constraints}
    assert chains == {
        "in-house": {"connectivity"},
        "cloud": {"capitalBudgetUSD", "itStaffFTE", "hasDataCenter"},
    }
    assert d.stance_firing.rule == "organization.any-conflict"


def test_mixed_workloads_make_a_hybrid_organization_with_placement(evaluator, facts_file):
    d = evaluate(
        evaluator,
        facts_file,
        """\
        ex:o a ip:Organization ; ip:name "Mixed" ; ip:hasWorkload ex:a, ex:b .
        ex:a a ip:Workload ; ip:name "A" ; ip:connectivity ip:AirGapped .
        ex:b a ip:Workload ; ip:name "B" ; ip:capitalBudgetUSD 0 ; ip:itStaffFTE 0 ; ip:hasDataCenter false .
    """,
    )
    assert d.stance == "hybrid"
    assert d.placement == (("https://example.com/test/a", "in-house"), ("https://example.com/test/b", "cloud"))


def test_intermediate_conclusions_feed_later_rules(evaluator, facts_file):
    d = evaluate(evaluator, facts_file, "ex:o a ip:Organization ; ip:regulatedBy ip:ITAR .\n")
    (w,) = d.workloads
    derived = {x.name for x in w.derivations}
    assert "highly-sensitive-data" in derived
    (strong,) = [a for a in w.assessments if a.rule == "privacy.highly-sensitive-data"]
    assert strong.firing.derived == ("highly-sensitive-data",)
    assert [f.property for f in w.grounds(strong.firing)] == ["regulatedBy"]


def test_missing_facts_really_change_the_stance(evaluator, facts_file, policy):
    d = evaluate(
        evaluator,
        facts_file,
        """\
        ex:o a ip:Organization ; ip:name "Sparse" ; ip:workforce ip:Distributed ; ip:demandPattern ip:Bursty .
    """,
    )
    (w,) = d.workloads
    assert w.stance == "cloud"
    assert w.missing, "a sparse description must list facts that could change the answer"
    names = {m.property for m in w.missing}
    assert "connectivity" in names  # AirGapped would require in-house
    for missing in w.missing:
        for stance, example in missing.outcomes:
            value = (example,) if not evaluator.kb.vocabulary.properties[missing.property].single else example
            assert stance_of({**w.profile.values(), missing.property: value}, policy, evaluator.backend) == stance


def test_stated_facts_that_no_rule_reads_are_not_reported_missing(evaluator, facts_file):
    d = evaluate(evaluator, facts_file, "ex:o a ip:Organization ; ip:connectivity ip:AirGapped .\n")
    (w,) = d.workloads
    assert "connectivity" not in {m.property for m in w.missing}


def test_a_workload_without_applicable_facts_is_balanced_and_says_what_to_add(evaluator, facts_file):
    d = evaluate(evaluator, facts_file, 'ex:o a ip:Organization ; ip:name "Blank" .\n')
    (w,) = d.workloads
    assert w.assessments == () and w.stance == "hybrid"
    assert w.stance_firing.rule == "stance.close-balance"
    assert len(w.missing) >= 5


def test_evaluating_leaves_the_knowledge_base_as_loaded(kb, evaluator, facts_file):
    from infra_policy.engine.digest import graph_digest

    before = graph_digest(kb.graph + kb.shapes)
    evaluate(evaluator, facts_file, "ex:o a ip:Organization ; ip:connectivity ip:AirGapped .\n")
    assert graph_digest(kb.graph + kb.shapes) == before == evaluator.kb_digest
