"""Sufficient reasons and contrastive explanations: the engine's search and the CLI.

The duality of formal explanation (Ignatiev et al. 2020) is checked on every
example: each sufficient reason meets every contrastive explanation made of
stated facts, and each contrastive explanation is minimal — undoing any one
of its changes loses the stance it gives.
"""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from infra_policy.cli.main import main
from infra_policy.engine.analysis.abduce import (
    ABSENT,
    SETTLING_SAMPLE,
    _with,
    contrast,
    counterexample,
    domain,
    sufficient_reason,
)
from infra_policy.engine.stages.decide import stance_of

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
MIXED = EXAMPLES / "acme-mixed-workloads.ttl"
LINE = ("cloud", "in-house", "hybrid")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_domain_has_one_value_per_class_the_tests_tell_apart(policy, kb):
    capital = domain("capitalBudgetUSD", policy, kb.vocabulary)
    assert capital[0] is ABSENT
    # below 25,000 / below 100,000 / below 250,000 / between / at least 500,000: one value each
    classes = {tuple(t.op for t in policy.tests_by_fact["capitalBudgetUSD"] if _holds(t, v)) for v in capital[1:]}
    assert len(classes) == len(capital) - 1
    assert domain("connectivity", policy, kb.vocabulary)[1:] == ["Reliable", "Intermittent", "AirGapped"]


def _holds(test, value):
    from infra_policy.engine.policy.rules_ast import test_holds

    return test_holds(test, {test.fact: value})


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.ttl")), ids=lambda p: p.stem)
def test_duality_on_every_example(evaluator, policy, kb, path):
    ev = evaluator.evaluate_file(path)
    w = ev.decision.workloads[0]
    reason = sufficient_reason(w, policy, evaluator.explorer, kb.vocabulary)
    assert set(reason.facts) | set(reason.irrelevant) == {n for n in w.profile.values() if n in policy.tests_by_fact}
    stated = w.profile.values()  # every stated fact: the cost model reads some the rules do not test
    for target in LINE:
        if target == w.stance:
            continue
        found = contrast(w, policy, evaluator.explorer, kb.vocabulary, target, max_changes=2, stated_only=True)
        for combo in found.changes:
            changed = {s.fact for s in combo}
            # every contrastive explanation changes a fact of the sufficient reason
            assert changed & set(reason.facts), (target, changed, reason.facts)
            changes = {s.fact: s.after for s in combo}
            assert stance_of(_with(stated, changes), policy, evaluator.explorer, w.id) == target
            for fact in changed:  # minimal: undo any one change and the target is lost
                fewer = {k: v for k, v in changes.items() if k != fact}
                assert stance_of(_with(stated, fewer), policy, evaluator.explorer, w.id) != target


def test_freeing_any_fact_of_a_sufficient_reason_lets_the_stance_change(evaluator, policy, kb):
    """Minimality: with one more fact free, values exist that give another stance (checked directly)."""
    for path in (MIXED, EXAMPLES / "startup-cloud.ttl", EXAMPLES / "hospital-in-house.ttl"):
        w = evaluator.evaluate_file(path).decision.workloads[0]
        reason = sufficient_reason(w, policy, evaluator.explorer, kb.vocabulary)
        stated = w.profile.values()  # every stated fact: the cost model reads some the rules do not test
        # the same check the search ends with (a sample when there are too many combinations: not a proof)
        free = list(reason.irrelevant)
        assert counterexample(w, policy, evaluator.explorer, kb.vocabulary, free, sample=SETTLING_SAMPLE) is None
        # minimal: each fact kept has a witness — it and the free facts at values that change the stance
        assert [f for f, _ in reason.witnesses] == list(reason.facts)
        for fact, witness in reason.witnesses:
            changes = dict(witness)
            assert set(changes) <= {*reason.irrelevant, fact}
            assert stance_of(_with(stated, changes), policy, evaluator.explorer, w.id) != w.stance


def test_explain_sufficient_and_contrast_through_the_cli():
    text = run("explain", MIXED, "--sufficient", "--contrast", "cloud").output
    assert "Claims triage: in-house" in text and "stated facts decide it" in text
    assert "Whatever their values, or if left out:" in text
    assert "smallest changes that make it cloud:" in text
    assert "• state the model availability as hosted only" in text
    assert "Campaign copy: already cloud" in text
    data = json.loads(run("explain", MIXED, "--sufficient", "--flip", "cloud", "--format", "json").output)
    (claims,) = [r for r in data["sufficient_reasons"] if r["name"] == "Claims triage"]
    assert {"fact": "dataSensitivity", "label": "data sensitivity", "value": "Confidential"} in claims["facts"]
    (flip,) = [c for c in data["contrasts"] if c["name"] == "Claims triage"]
    sizes = [len(c) for c in flip["changes"]]
    assert sizes == sorted(sizes) and sizes[0] == 1
    assert flip["changes"][0] == [
        {"fact": "modelAvailability", "label": "model availability", "before": None, "after": "HostedOnly"}
    ]
    everything = run("explain", MIXED, "--contrast", "cloud", "--all").output
    assert "more (all of them: --all)" not in everything
    assert everything.count("•") > text.split("smallest changes")[1].count("•")
    assert run("explain", MIXED, "--contrast", "cloud", "--max-changes", "9").exit_code == 2


def test_every_minimal_sufficient_reason_is_sufficient_minimal_and_distinct(evaluator, policy, kb):
    from infra_policy.engine.analysis.abduce import sufficient_reasons

    for path in (EXAMPLES / "lenovo-lp2225-break-even.ttl", EXAMPLES / "bank-hosted-only-model.ttl"):
        w = evaluator.evaluate_file(path).decision.workloads[0]
        found = sufficient_reasons(w, policy, evaluator.explorer, kb.vocabulary)
        assert found and all(r.all_found for r in found)  # within the bound: the tree was searched to the end
        sets = [set(r.facts) for r in found]
        assert all(not a < b for a in sets for b in sets)  # none contains another
        stated = w.profile.values()  # every stated fact: the cost model reads some the rules do not test
        for r in found:
            assert counterexample(w, policy, evaluator.explorer, kb.vocabulary, list(r.irrelevant)) is None
            for _fact, witness in r.witnesses:  # each fact kept matters
                assert stance_of(_with(stated, dict(witness)), policy, evaluator.explorer, w.id) != w.stance
    # a bound that stops the search says so
    w = evaluator.evaluate_file(MIXED).decision.workloads[0]
    bounded = sufficient_reasons(w, policy, evaluator.explorer, kb.vocabulary, limit=2)
    assert len(bounded) == 2 and not any(r.all_found for r in bounded)


def test_explain_sufficient_all_through_the_cli():
    text = run("explain", MIXED, "--sufficient", "--all").output
    assert "minimal sets of its 14 stated facts decide it, each on its own:" in text
    assert "(the search stopped at its bound, after 8 sets of at most 8: there may be more)" in text
    complete = run("explain", EXAMPLES / "bank-hosted-only-model.ttl", "--sufficient", "--all").output
    assert "there may be more" not in complete
    assert "(these are all" in complete
    data = json.loads(run("explain", MIXED, "--sufficient", "--all", "--format", "json").output)
    (claims,) = [r for r in data["sufficient_reasons"] if r["name"] == "Claims triage"]
    assert claims["all_found"] is False and len(claims["reasons"]) == 8
    assert {"facts", "do_not_matter", "exhaustive", "combinations_checked"} <= set(claims["reasons"][0])
