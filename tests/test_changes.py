"""What would change a stance (engine/stages/changes.py): one search behind evaluate, the site and explain.

Every answer is checked by evaluating the changed facts again from scratch (decide's full evaluation,
not the incremental one the search uses).
"""

import json
import random
from pathlib import Path

import pytest
from conftest import invoke_cli as run

from infra_policy.engine.analysis.abduce import _with, contrast
from infra_policy.engine.stages.changes import ChangeSearch, smallest_changes
from infra_policy.engine.stages.decide import _outcome, stance_of

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
MIXED = EXAMPLES / "acme-mixed-workloads.ttl"
HYBRID_PLANS = EXAMPLES / "hybrid-plans.ttl"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.ttl")), ids=lambda p: p.stem)
def test_the_incremental_evaluation_of_changes_equals_a_full_one(evaluator, policy, kb, path):
    """Sets of one to three changes (values added, changed, left out), a fixed sample per workload."""
    rng = random.Random(path.stem)
    for w in evaluator.evaluate_file(path).decision.workloads:
        search = ChangeSearch.of(w, policy, kb.vocabulary)
        singles = search.singles(search.names())
        values = w.profile.values()
        for _ in range(40):
            picked = dict(rng.sample(singles, rng.randint(1, 3)))
            fast = search.outcome(picked)
            full = _outcome(_with(values, picked), policy, evaluator.explorer, w.id)
            assert (fast.stance, fast.tally.facts()) == (full.stance, full.tally.facts()), picked


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.ttl")), ids=lambda p: p.stem)
def test_evaluate_lists_the_fewest_changes_each_sound_and_minimal(evaluator, policy, kb, path):
    for w in evaluator.evaluate_file(path).decision.workloads:
        values = w.profile.values()
        assert {c.target for c in w.changes} == {"cloud", "in-house", "hybrid"} - {w.stance}
        search = ChangeSearch.of(w, policy, kb.vocabulary)
        singles = search.singles(search.names())
        for c in w.changes:
            sizes = {len(combo) for combo in c.changes}
            assert len(sizes) <= 1  # only the fewest
            if sizes == {2}:  # every single change was tried: none gives the stance alone
                assert all(stance_of(_with(values, dict([s])), policy, evaluator.explorer) != c.target for s in singles)
            for combo in c.changes:
                changes = {s.fact: s.after for s in combo}
                assert all(values.get(s.fact) == s.before for s in combo)
                assert stance_of(_with(values, changes), policy, evaluator.explorer, w.id) == c.target
                for fact in changes:  # minimal: undo any one change and the stance is lost
                    fewer = {k: v for k, v in changes.items() if k != fact}
                    assert stance_of(_with(values, fewer), policy, evaluator.explorer, w.id) != c.target


def test_two_changes_that_matter_only_together_are_found(evaluator, policy, kb):
    """A rule reads both facts: neither change moves the weighing alone, so combining only the changes
    that do (the search before) missed the pair and still said it was complete."""
    w = evaluator.evaluate_file(HYBRID_PLANS).decision.workloads[0]
    assert (w.profile.name, w.stance) == ("Claims desk assistant", "hybrid")
    search = ChangeSearch.of(w, policy, kb.vocabulary)
    pair = (("hasSecondarySite", False), ("recoveryTimeObjectiveHours", 0.9))
    assert [search.toward(change, "cloud") for change in pair] == [0, 0]
    # with a budget below every combination, the search combines the promising changes and the pairs
    # of facts one rule reads together, and says so
    found = ChangeSearch.of(w, policy, kb.vocabulary).contrast("cloud", 2, budget=600)
    assert found.complete and not found.exhaustive
    assert "pairs of changes to facts that one rule reads together" in found.searched()
    assert [("hasSecondarySite", False), ("recoveryTimeObjectiveHours", 0.9)] in [
        [(s.fact, s.after) for s in combo] for combo in found.changes
    ]
    everything = contrast(w, policy, evaluator.explorer, kb.vocabulary, "cloud", max_changes=2)
    assert everything.exhaustive and {frozenset(c) for c in found.changes} <= {frozenset(c) for c in everything.changes}


def test_a_search_within_its_budget_of_every_combination_says_exhaustive(evaluator, policy, kb):
    w = evaluator.evaluate_file(EXAMPLES / "startup-cloud.ttl").decision.workloads[0]
    search = ChangeSearch.of(w, policy, kb.vocabulary)
    singles = search.singles(search.names(stated_only=True))
    every = len(singles) * (len(singles) - 1) // 2
    found = search.contrast("in-house", 2, budget=every + 1, stated_only=True)
    assert found.exhaustive and found.complete and found.searched() == "every combination of up to 2 changes"
    bounded = ChangeSearch.of(w, policy, kb.vocabulary).contrast("hybrid", 3, budget=5)
    assert not bounded.complete and not bounded.exhaustive


def test_smallest_changes_with_a_larger_bound_searches_further(evaluator, policy, kb):
    w = evaluator.evaluate_file(EXAMPLES / "startup-cloud.ttl").decision.workloads[0]
    default = {c.target: c for c in smallest_changes(ChangeSearch.of(w, policy, kb.vocabulary))}
    deeper = {c.target: c for c in smallest_changes(ChangeSearch.of(w, policy, kb.vocabulary), max_changes=3)}
    assert default["hybrid"].max_changes == 2 and deeper["hybrid"].max_changes == 3
    assert deeper["hybrid"].evaluated > default["hybrid"].evaluated


def test_evaluate_text_json_and_record_say_what_would_change_it(tmp_path):
    text = run("evaluate", MIXED).output
    assert "What would change it (the fewest changes toward each other stance):" in text
    assert "• cloud, with one change:" in text and "- state the model availability as hosted only" in text
    assert "Missing facts that could change this" not in text
    data = json.loads(run("evaluate", MIXED, "--format", "json").output)
    claims = next(w for w in data["workloads"] if w["name"] == "Claims triage")
    cloud = next(c for c in claims["smallest_changes"] if c["stance"] == "cloud")
    assert [{"fact": "modelAvailability", "label": "model availability", "before": None, "after": "HostedOnly"}] in (
        cloud["sets"]
    )
    assert cloud["search_further"] == "infra-policy explain FACTS --flip cloud --max-changes 3"
    assert "change_search" not in data
    # --max-changes: as far as asked, said in the JSON, and a record made so audits
    out = tmp_path / "d.json"
    result = run("evaluate", MIXED, "--max-changes", "3", "--format", "json", "-o", out, "--record", tmp_path / "r")
    assert result.exit_code == 0, result.output
    deeper = json.loads(out.read_text())
    assert deeper["change_search"] == {"max_changes": 3}
    (record,) = (tmp_path / "r").glob("*.json")
    audited = run("audit", record, "--facts", MIXED)
    assert audited.exit_code == 0, audited.output
    # a search turned off leaves them out and says so
    unexplored = json.loads(run("evaluate", MIXED, "--no-explore-changes", "--format", "json").output)
    assert all("smallest_changes" not in w for w in unexplored["workloads"])
    assert "smallest_changes" in unexplored["left_out"][0]["fields"]
