"""Memory that a long-running process must not accumulate (issue 16, item 12).

No timing and no RSS thresholds: the tests check the mechanisms — the
rule engine's rulesets are deleted when a policy is dropped, and pySHACL's
module-level cache does not keep an entry per validation.
"""

from __future__ import annotations

import gc
import tracemalloc

import pytest
from conftest import EXAMPLES

from infra_policy.engine.pipeline import Evaluator
from infra_policy.engine.stages.load import load_facts


def test_a_dropped_policy_deletes_its_durable_rulesets():
    import durable_rules_engine

    evaluator = Evaluator.load(None, None)
    release = evaluator.backend._release
    handles = [ruleset._handle for ruleset in evaluator.backend.host._ruleset_list]
    assert release.alive and handles
    del evaluator
    gc.collect()
    assert not release.alive
    # the handle is gone from the engine: using it is an error now
    with pytest.raises(Exception, match="error code"):  # durable raises a bare Exception
        durable_rules_engine.delete_ruleset(handles[0])


def test_a_reused_evaluator_does_not_grow_per_evaluation():
    from pyshacl.rdfutil.stringify import stringify_blank_node

    evaluator = Evaluator.load(None, None)
    document = load_facts(EXAMPLES / "acme-mixed-workloads.ttl")
    for _ in range(10):
        evaluator.evaluate_document(document)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(30):
            evaluator.evaluate_document(document)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert stringify_blank_node.dict_cache == {}
    assert grown < 30 * 200, f"{grown / 30:.0f} bytes kept per evaluation"
