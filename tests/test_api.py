"""The library API: `import infra_policy`, the same decisions the command line prints."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import EXAMPLES, PREFIXES, example_files
from rdflib import Graph

import infra_policy

MIXED = EXAMPLES / "acme-mixed-workloads.ttl"


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.stem)
def test_to_dict_is_the_json_the_cli_prints(path, run):
    decision = infra_policy.evaluate(path)
    printed = run("evaluate", path, "--format", "json")
    assert printed.exit_code == 0, printed.output
    assert decision.to_dict() == json.loads(printed.output)
    assert decision.to_json() == printed.output
    assert decision.stance == decision.to_dict()["organization"]["stance"]


def test_text_rdf_and_record_are_what_the_cli_writes(run, tmp_path):
    decision = infra_policy.evaluate(str(MIXED))
    assert decision.to_text() == run("evaluate", MIXED).output
    assert decision.to_rdf("turtle") == run("evaluate", MIXED, "--format", "turtle").output
    assert decision.to_rdf("jsonld") == run("evaluate", MIXED, "--format", "jsonld").output
    result = run("evaluate", MIXED, "--record", tmp_path)
    assert result.exit_code == 0
    (written,) = tmp_path.glob("*.json")
    assert json.loads(written.read_text()) == decision.record()
    assert written.stem == decision.record()["id"].removeprefix("sha256:")


def test_placement_and_organization():
    decision = infra_policy.evaluate(MIXED)
    assert decision.organization == "Acme Insurance"
    assert decision.placement == {"Claims triage": "in-house", "Campaign copy": "cloud"}
    assert decision.stance == "hybrid"
    assert decision.warnings == ()


def test_a_string_of_turtle_and_a_graph_give_the_same_decision_as_the_file():
    text = MIXED.read_text(encoding="utf-8")
    from_file = infra_policy.evaluate(MIXED).to_dict()
    from_text = infra_policy.evaluate(text).to_dict()
    graph = Graph().parse(data=text, format="turtle", publicID=MIXED.resolve().as_uri())
    from_graph = infra_policy.evaluate(graph).to_dict()
    for other in (from_text, from_graph):
        assert other["inputs"] == from_file["inputs"]  # the facts digest is of the graph, not the text
        assert other["organization"] == from_file["organization"]
        assert [w["stance"] for w in other["workloads"]] == [w["stance"] for w in from_file["workloads"]]
    # a string keeps line numbers, as a file does
    assert from_text["workloads"] == from_file["workloads"]


def test_bad_facts_raise_the_message_the_cli_prints(tmp_path):
    bad = PREFIXES + "ex:acme a ip:Organization ; ip:connectivity ip:Wifi .\n"
    with pytest.raises(infra_policy.FactsError) as caught:
        infra_policy.evaluate(bad)
    assert "<string>: 1 problem in the facts" in str(caught.value)
    assert "ip:connectivity has the value ip:Wifi" in str(caught.value)
    with pytest.raises(infra_policy.FactsError, match="no such file"):
        infra_policy.evaluate(tmp_path / "missing.ttl")


def test_near_misses_are_warnings_and_strict_makes_them_errors():
    facts = PREFIXES + (
        'ex:acme a ip:Organization ; ip:name "Acme" ; ip:hasWorkload ex:chat .\n'
        'ex:chat a ip:Workload ; ip:name "Chat" ; ex:dataSensitivity ip:Confidential .\n'
    )
    decision = infra_policy.evaluate(facts)
    (warning,) = decision.warnings
    assert "ex:dataSensitivity" in warning and "Did you mean ip:dataSensitivity?" in warning
    with pytest.raises(infra_policy.StrictnessError, match="an error because of --strict"):
        infra_policy.evaluate(facts, strict=True)


def test_validate_returns_what_it_checked():
    result = infra_policy.validate(MIXED)
    assert result.organization == "Acme Insurance"
    assert result.workloads == ("Claims triage", "Campaign copy")
    assert result.to_dict()["valid"] is True


def test_other_rules_and_kb_folders_are_used(tmp_path):
    import shutil

    from infra_policy.engine.paths import PACKAGED_KB, PACKAGED_RULES

    rules = tmp_path / "rules"
    shutil.copytree(PACKAGED_RULES, rules)
    stance = rules / "stance.yaml"
    packaged = infra_policy.evaluate(MIXED)
    copied = infra_policy.evaluate(MIXED, rules=rules, kb=PACKAGED_KB)
    assert copied.to_dict() == packaged.to_dict()
    # the folder's content, not its path, decides what is loaded: a changed file is read again
    stance.write_text(stance.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    changed = infra_policy.evaluate(MIXED, rules=rules)
    assert changed.to_dict()["inputs"]["rules"] == packaged.to_dict()["inputs"]["rules"]  # comments are not rules
    stance.write_text("ruleset: broken\n", encoding="utf-8")
    with pytest.raises(infra_policy.RulesError):
        infra_policy.evaluate(MIXED, rules=rules)


def test_importing_the_package_loads_no_heavy_library():
    code = "import sys, infra_policy; print(sorted(m for m in ('rdflib', 'pyshacl', 'durable') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"


def test_the_readme_shows_the_api():
    from conftest import REPO

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "import infra_policy" in readme and "infra_policy.evaluate(" in readme and ".to_dict()" in readme


def test_sufficient_reasons_and_contrast_are_what_explain_prints(run):
    decision = infra_policy.evaluate(MIXED)
    (claims, _campaign) = decision.sufficient_reasons()
    (reason,) = claims
    assert reason.name == "Claims triage" and reason.stance == "in-house"
    assert set(reason.facts) | set(reason.irrelevant) >= {"dataSensitivity", "itStaffFTE"}
    every = decision.sufficient_reasons(every=True, limit=3)
    assert all(1 <= len(found) <= 3 for found in every)
    assert all(len({r.facts for r in found}) == len(found) for found in every)  # distinct sets
    flips = decision.contrast("cloud", max_changes=2)
    assert [c.name for c in flips] == ["Claims triage", "Campaign copy"]
    first = flips[0].changes[0]
    assert [(s.fact, s.before, s.after) for s in first] == [("modelAvailability", None, "HostedOnly")]
    # the text and JSON are the command line's, byte for byte
    asked = ("--sufficient", "--contrast", "cloud", "--max-changes", "2")
    assert (
        decision.explain_text(sufficient=True, contrast="cloud", max_changes=2) == run("explain", MIXED, *asked).output
    )
    printed = run("explain", MIXED, *asked, "--format", "json").output
    assert decision.explain_dict(sufficient=True, contrast="cloud", max_changes=2) == json.loads(printed)
    with pytest.raises(ValueError, match="stance must be one of"):
        decision.contrast("sideways")


def test_evaluate_with_assumed_facts_marks_them():
    decision = infra_policy.evaluate(MIXED, assume=["itStaffFTE=0.5", "Claims triage.dataSensitivity=Restricted"])
    assert [(a.subject_name, a.property, a.value, a.replaces) for a in decision.assumed] == [
        ("Acme Insurance", "itStaffFTE", "0.5", ("4",)),
        ("Claims triage", "dataSensitivity", "Restricted", ("Confidential",)),
    ]
    assert decision.to_dict()["assumed"][1]["replaces"] == ["Confidential"]
    assert decision.to_text().startswith("Assumed (not stated in the facts):\n")
    assert decision.to_dict()["inputs"]["facts"] == infra_policy.evaluate(MIXED).to_dict()["inputs"]["facts"]
    assert infra_policy.evaluate(MIXED).assumed == ()
    with pytest.raises(infra_policy.FactsError, match="Did you mean itStaffFTE"):
        infra_policy.evaluate(MIXED, assume=["itStafFTE=1"])


def test_the_library_keeps_only_the_most_recent_evaluators_so_old_rule_hosts_are_freed(tmp_path):
    import gc
    import shutil
    import weakref

    from infra_policy.engine.paths import PACKAGED_RULES

    folders = []
    for n in range(10):
        folder = tmp_path / f"rules-{n}"
        shutil.copytree(PACKAGED_RULES, folder)
        folders.append(folder)
    first = infra_policy.evaluator(rules=folders[0])
    assert infra_policy.evaluator(rules=folders[0]) is first  # loaded once per content
    first_ref = weakref.ref(first)
    del first
    for folder in folders[1:]:
        infra_policy.evaluator(rules=folder)
    gc.collect()
    assert first_ref() is None  # evicted and collected: its durable host went with it
    again = infra_policy.evaluator(rules=folders[0])
    assert again.rules_digest == infra_policy.evaluator(rules=folders[-1]).rules_digest
