"""Changes that must not change any decision: rule order, a rule that never
fires, and the formatting of the facts file."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml
from conftest import example_files
from rdflib import Graph

from infra_policy.engine.outputs.export import render_json
from infra_policy.engine.paths import PACKAGED_RULES
from infra_policy.engine.pipeline import Evaluator
from infra_policy.engine.policy.ruleload import load_policy


def decisions(evaluator, paths):
    return [json.loads(render_json(evaluator.evaluate_file(p), evaluator.policy)) for p in paths]


def _without(data, keys):
    if isinstance(data, dict):
        return {k: _without(v, keys) for k, v in data.items() if k not in keys}
    if isinstance(data, list):
        return [_without(v, keys) for v in data]
    return data


@pytest.fixture(scope="module")
def baseline(evaluator):
    return decisions(evaluator, example_files())


def test_reversing_and_shuffling_rules_changes_nothing(kb, tmp_path, baseline):
    target = tmp_path / "rules"
    shutil.copytree(PACKAGED_RULES, target)
    for file in target.glob("*.yaml"):
        data = yaml.safe_load(file.read_text())
        data["rules"].reverse()
        # file names decide load order: rename so the files load in reverse too
        file.unlink()
        (
            target / f"z{99 - sorted(PACKAGED_RULES.glob('*.yaml')).index(PACKAGED_RULES / file.name)}-{file.name}"
        ).write_text(yaml.safe_dump(data, sort_keys=True))
    shuffled = Evaluator(kb, load_policy(kb, target))
    assert decisions(shuffled, example_files()) == baseline


def test_adding_a_rule_that_never_fires_changes_no_decision(kb, tmp_path, baseline):
    target = tmp_path / "rules"
    shutil.copytree(PACKAGED_RULES, target)
    (target / "never.yaml").write_text(
        yaml.safe_dump(
            {
                "ruleset": "never",
                "kind": "factor",
                "factor": "latency",
                "rules": [
                    {
                        "id": "never.impossible",
                        "title": "Cannot hold: public and restricted at once",
                        "when": {
                            "all": [
                                {"fact": "dataSensitivity", "equals": "Public"},
                                {"fact": "dataSensitivity", "equals": "Restricted"},
                            ]
                        },
                        "then": {"assess": {"favors": "cloud", "weight": 3}},
                        "rationale": "A rule that never fires, for a metamorphic test.",
                        "claims": ["claim:cloud-pro-scalability"],
                    }
                ],
            }
        )
    )
    extended = Evaluator(kb, load_policy(kb, target))
    after = decisions(extended, example_files())
    # The fewest changes are searched over one value per class of values the rules' tests tell apart: a
    # rule adds its tests' classes whether it fires or not, so the values tried (and, where the search is
    # bounded, the sets found) may differ; every stance, reason, missing fact and question is the same.
    unchanged = {"inputs", "smallest_changes"}
    assert [_without(d, unchanged) for d in after] == [_without(d, unchanged) for d in baseline]
    for a, b in zip(after, baseline, strict=True):  # the stances the changes reach are the same
        assert [[c["stance"] for c in w["smallest_changes"]] for w in a["workloads"]] == [
            [c["stance"] for c in w["smallest_changes"]] for w in b["workloads"]
        ]
    assert all(a["inputs"]["rules"] != b["inputs"]["rules"] for a, b in zip(after, baseline, strict=True))


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.stem)
@pytest.mark.parametrize("fmt", ["turtle", "nt"])
def test_reformatting_the_facts_changes_no_decision(evaluator, path, fmt, tmp_path):
    graph = Graph()
    graph.parse(path)
    graph.bind("policy", "https://w3id.org/infra-policy#", override=True, replace=True)
    other = tmp_path / f"reformatted.{'ttl' if fmt == 'turtle' else 'nt'}"
    other.write_text("# reformatted copy\n" + graph.serialize(format=fmt))
    (before,) = decisions(evaluator, [path])
    (after,) = decisions(evaluator, [other])
    ignore = {"lines", "line", "label"}  # where the file says things, not what it says
    assert after["inputs"] == before["inputs"]
    assert _without(after, ignore) == _without(before, ignore)
