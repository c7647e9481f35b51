"""Golden decisions: every example's JSON, byte for byte.

When a change to the rules, the knowledge base or the output is intended,
regenerate with ``UPDATE_GOLDEN=1 pytest tests/test_golden.py`` and review the
diff like code.
"""

from __future__ import annotations

import json
import os

import pytest
from conftest import GOLDEN, example_files

from infra_policy.engine.outputs.export import render_json


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.stem)
def test_example_matches_its_golden_json(evaluator, policy, path, monkeypatch):
    monkeypatch.chdir(path.parent.parent)
    text = render_json(evaluator.evaluate_file(path.relative_to(path.parent.parent)), policy)
    golden = GOLDEN / f"{path.stem}.json"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"no golden file for {path.name}; run with UPDATE_GOLDEN=1"
    assert text == golden.read_text(encoding="utf-8")


def test_examples_cover_every_stance_and_the_interesting_shapes(evaluator):
    stances, shapes = set(), set()
    for path in example_files():
        d = evaluator.evaluate_file(path).decision
        stances.add(d.stance)
        stances.update(w.stance for w in d.workloads)
        if len({w.stance for w in d.workloads}) > 1:
            shapes.add("mixed workloads")
        if any(w.profile.implicit for w in d.workloads):
            shapes.add("implicit workload")
        if any(f.inherited for w in d.workloads for f in w.profile.facts.values()) and len(d.workloads) > 1:
            shapes.add("organization defaults")
    assert stances == {"cloud", "in-house", "hybrid", "conflict", "undetermined"}
    assert shapes == {"mixed workloads", "implicit workload", "organization defaults"}
    assert len(example_files()) >= 6


def test_json_output_follows_the_design_contract(evaluator, policy):
    data = json.loads(render_json(evaluator.evaluate_file(example_files()[0]), policy))
    assert data["format"] == "infra-policy/decision@1"
    assert set(data["organization"]) >= {"id", "name", "stance"}
    for w in data["workloads"]:
        assert set(w) >= {"id", "name", "stance", "assessments", "constraints", "missing_facts"}
        for a in w["assessments"]:
            assert set(a) >= {"rule", "factor", "favors", "weight"}
    assert all(data["inputs"][k].startswith("sha256:") for k in ("facts", "kb", "rules"))
